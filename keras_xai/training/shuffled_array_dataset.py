"""`ShuffledArrayDataset`: batches of in-memory rows, reshuffled every epoch."""

import keras
import numpy as np

from keras_xai.utils.validation import check_positive_int


class ShuffledArrayDataset(keras.utils.PyDataset):
    """The batching and seeded shuffling of the training datasets.

    `SampleWeightDataset` and `ExplanationTargetsDataset` yield rows of
    arrays held in memory; this base holds what they share: `batch_size`,
    the row order of the current epoch (`rows(index)`), `len()` and a
    reshuffle at the end of every epoch from a generator seeded by `seed`,
    so the order of every epoch is reproducible. A subclass validates its
    arrays, calls this constructor, sets what `__getitem__` reads and then
    calls `on_epoch_end()` once to draw the first epoch's order.

    Args:
        x: numpy array `(N, ...)`. The inputs; its length is the number of
            rows.
        batch_size: int. Rows per batch.
        shuffle: bool. Reshuffle the rows at every epoch.
        seed: int. Seed of the shuffling.
        **kwargs: `keras.utils.PyDataset` options (`workers`, ...).

    Example:

    ```python
    class Rows(ShuffledArrayDataset):
        def __init__(self, x, batch_size=32, shuffle=True, seed=0):
            super().__init__(np.asarray(x), batch_size, shuffle, seed)
            self.on_epoch_end()

        def __getitem__(self, index):
            return self.x[self.rows(index)]
    ```
    """

    def __init__(self, x, batch_size, shuffle, seed, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.shuffle = bool(shuffle)
        self.seed = check_positive_int(seed, "seed", minimum=0)
        self._rng = np.random.default_rng(self.seed)
        self._order = np.arange(len(self.x))

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def rows(self, index):
        """Indices of the samples in batch `index` of the current epoch."""
        return self._order[index * self.batch_size : (index + 1) * self.batch_size]

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._rng.permutation(len(self.x))
