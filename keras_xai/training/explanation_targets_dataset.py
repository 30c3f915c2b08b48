"""`ExplanationTargetsDataset`: batches whose explanation targets can change."""

import numpy as np

from keras_xai.training.shuffled_array_dataset import ShuffledArrayDataset
from keras_xai.utils.validation import check_finite


class ExplanationTargetsDataset(ShuffledArrayDataset):
    """Yields `(x, {"class": y, "explanation": r})` with replaceable `r`.

    Single-stage IMPACTX training refreshes the attribution targets every k
    epochs (`TargetRefresh`); this dataset reads the current targets at
    every batch, so `fit` sees new targets without being restarted.

    Args:
        x: array `(N, H, W, C)`.
        y: int array `(N,)`.
        targets: float array `(N, H, W)`.
        batch_size: int. Defaults to 64.
        shuffle: bool. Reshuffle at every epoch. Defaults to `True`.
        seed: int. Shuffling seed. Defaults to 0.
        **kwargs: `keras.utils.PyDataset` options (`workers`, ...).

    Example:

    ```python
    data = ExplanationTargetsDataset(x, y, targets, batch_size=64)
    model.fit(data, epochs=10, callbacks=[TargetRefresh(data, explainer, 2)])
    ```
    """

    def __init__(self, x, y, targets, batch_size=64, shuffle=True, seed=0, **kwargs):
        x = np.asarray(x)
        if x.ndim != 4 or not len(x):
            raise ValueError(
                "`x` must be a non-empty batch of images (N, H, W, C). "
                f"Received: x.shape={x.shape}"
            )
        y = np.asarray(y)
        if len(y) != len(x):
            raise ValueError(
                f"`y` must have one label per image ({len(x)}). Received {len(y)}"
            )
        super().__init__(x, batch_size, shuffle, seed, **kwargs)
        self.y = y
        self.set_targets(targets)
        self.on_epoch_end()

    def set_targets(self, targets):
        """Replaces the explanation targets (read from the next batch on).

        The targets are copied, so the caller's array can change afterwards.
        """
        targets = np.array(targets, dtype="float32")
        if targets.shape != self.x.shape[:3]:
            raise ValueError(
                f"`targets` must have shape {self.x.shape[:3]} (one map per "
                f"image). Received: targets.shape={targets.shape}"
            )
        self.targets = check_finite(targets, "targets")

    def __getitem__(self, index):
        rows = self.rows(index)
        return self.x[rows], {"class": self.y[rows], "explanation": self.targets[rows]}
