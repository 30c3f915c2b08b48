"""`SampleWeightDataset`: batches whose per-sample weights can change."""

import numpy as np

from keras_xai.training.shuffled_array_dataset import ShuffledArrayDataset
from keras_xai.utils.validation import check_positive_int


class SampleWeightDataset(ShuffledArrayDataset):
    """Yields `(x, y, w)` batches, reading the current weights at every batch.

    Sample-reweighting methods (explanation-consistency reweighting, hard
    negative mining) replace the weights between epochs with `set_weights`;
    `fit` sees the new weights without being restarted, because every batch
    is built from the weights current when Keras asks for it. Rows are
    reshuffled at the end of every epoch from a generator seeded by `seed`,
    so the order of every epoch is reproducible.

    Use threads (`workers`), not `use_multiprocessing=True`: worker processes
    hold copies of the dataset and would not see new weights.

    Args:
        x: array `(N, ...)`. The inputs, e.g. images `(N, H, W, C)`.
        y: array `(N, ...)`. The targets: integer class indices `(N,)` for the
            reweighting callbacks, which read them as `dataset.y`.
        weights: array `(N,)` of non-negative floats, or `None` for all ones.
            Defaults to `None`.
        batch_size: int. Defaults to 32.
        shuffle: bool. Reshuffle the rows at every epoch. Defaults to `True`.
        seed: int. Seed of the shuffling. Defaults to 0.
        num_classes: int or `None`. When set, the integer labels are yielded
            one-hot (float32 `(b, num_classes)`), as Keras's categorical
            losses need (e.g. `keras.losses.CategoricalFocalCrossentropy`);
            `dataset.y` keeps the integer labels. Defaults to `None` (labels
            yielded as given).
        **kwargs: `keras.utils.PyDataset` options (`workers`,
            `max_queue_size`).

    Example:

    ```python
    data = SampleWeightDataset(x_train, y_train, batch_size=64, seed=0)
    model.fit(data, epochs=10, callbacks=[ConsistencyReweighting(data)])
    ```
    """

    def __init__(
        self,
        x,
        y,
        weights=None,
        batch_size=32,
        shuffle=True,
        seed=0,
        num_classes=None,
        **kwargs,
    ):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(
                f"`x` must be a non-empty array of samples. Received: x.shape={x.shape}"
            )
        if y.ndim == 0 or len(y) != len(x):
            raise ValueError(
                f"`y` must have one entry per sample ({len(x)}). "
                f"Received: y.shape={y.shape}"
            )
        super().__init__(x, batch_size, shuffle, seed, **kwargs)
        self.y = y
        self.num_classes = None
        if num_classes is not None:
            self.num_classes = check_positive_int(num_classes, "num_classes")
            self._one_hot_check()
        self.set_weights(
            np.ones(len(self.x), "float32") if weights is None else weights
        )
        self.on_epoch_end()

    @property
    def weights(self):
        """The current per-sample weights, float32 `(N,)` (read-only)."""
        return self._weights

    def set_weights(self, weights):
        """Replaces the per-sample weights; read from the next batch on.

        Args:
            weights: array `(N,)` of finite, non-negative numbers.
        """
        array = np.asarray(weights)
        if array.shape != (len(self.x),):
            raise ValueError(
                f"`weights` must have shape ({len(self.x)},), one per sample. "
                f"Received: weights.shape={array.shape}"
            )
        if not (
            np.issubdtype(array.dtype, np.floating)
            or np.issubdtype(array.dtype, np.integer)
        ):
            raise ValueError(
                f"`weights` must be numbers. Received: weights.dtype={array.dtype}"
            )
        array = array.astype("float32")  # always a copy: callers keep theirs
        finite = np.isfinite(array)
        if not finite.all():
            raise ValueError(
                "`weights` must be finite and non-negative. Received "
                f"{int(array.size - finite.sum())} NaN or infinite value(s)"
            )
        if np.any(array < 0):
            raise ValueError(
                "`weights` must be finite and non-negative. Received values in "
                f"[{array.min()}, {array.max()}]"
            )
        array.flags.writeable = False
        self._weights = array

    def __getitem__(self, index):
        rows = self.rows(index)
        labels = self.y[rows]
        if self.num_classes is not None:
            labels = np.eye(self.num_classes, dtype="float32")[labels]
        return self.x[rows], labels, self._weights[rows]

    def _one_hot_check(self):
        y = self.y
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                "`num_classes` one-hot encodes integer class indices, so `y` "
                f"must be ints of shape (N,). Received: y.shape={y.shape}, "
                f"y.dtype={y.dtype}"
            )
        if y.min() < 0 or y.max() >= self.num_classes:
            raise ValueError(
                f"`y` must be class indices in [0, {self.num_classes}). "
                f"Received values in [{y.min()}, {y.max()}]"
            )
