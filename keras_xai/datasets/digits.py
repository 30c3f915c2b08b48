"""scikit-learn's bundled 8x8 handwritten digits, as uint8 images.

Always available (it ships with scikit-learn), so it is the dataset for quick
checks and tests.

Reference: E. Alpaydin, C. Kaynak, "Optical Recognition of Handwritten
Digits", UCI Machine Learning Repository, 1998.
"""

import numpy as np

from keras_xai.datasets._validation import check_fraction

CLASS_NAMES = tuple(str(digit) for digit in range(10))


def load_data(test_fraction=0.25, seed=0):
    """Loads the 1797 digits with a stratified, seeded train/test split.

    The original values 0-16 are rescaled to 0-255 (rounded) so the images
    follow the same uint8 convention as the MNIST-style loaders.

    Args:
        test_fraction: float. Fraction of each class put in the test split,
            in (0, 1); every class keeps at least one image in each split.
            Defaults to `0.25`.
        seed: int. Seed of the split. Defaults to `0`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images of shape
        `(N, 8, 8)` with values 0-255 and uint8 labels in `[0, 10)`, each
        split in random order.

    Example:

    ```python
    from keras_xai.datasets import digits

    (x_train, y_train), (x_test, y_test) = digits.load_data(seed=1)
    x_train.shape, x_test.shape  # ((1347, 8, 8), (450, 8, 8))
    ```
    """
    test_fraction = check_fraction(
        test_fraction, "test_fraction", low_inclusive=False, high_inclusive=False
    )
    # Imported here so that `import keras_xai.datasets` stays light.
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype("uint8")
    labels = bunch.target.astype("uint8")
    train, test = _stratified_split(labels, test_fraction, seed)
    return (images[train], labels[train]), (images[test], labels[test])


def _stratified_split(labels, test_fraction, seed):
    """Returns shuffled `(train_indices, test_indices)`, stratified by label."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(labels.shape[0])
    # A stable sort of a random permutation groups the classes and keeps a
    # random order inside each one.
    order = order[np.argsort(labels[order], kind="stable")]
    _, starts, counts = np.unique(labels[order], return_index=True, return_counts=True)
    rank_in_class = np.arange(order.shape[0]) - np.repeat(starts, counts)
    test_counts = np.clip(np.round(test_fraction * counts), 1, counts - 1)
    is_test = rank_in_class < np.repeat(test_counts, counts)
    return rng.permutation(order[~is_test]), rng.permutation(order[is_test])
