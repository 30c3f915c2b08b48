"""`ReweightingCallback`: the schedule shared by sample-reweighting methods.

Explanation-consistency reweighting and hard negative mining differ only in
how they compute one weight per training sample; when they run, where the
weights go (a `SampleWeightDataset`), what they keep in memory and what they
write to `log_dir` is the same and lives here, with the batched loop both
per-sample passes use.
"""

import os

import keras
import numpy as np
from tqdm.auto import tqdm

from keras_xai.training.sample_weight_dataset import SampleWeightDataset
from keras_xai.utils.validation import check_number, check_positive_int, to_numpy
from keras_xai.visualization.consistency_figures import plot_weight_histograms


def check_floor(floor):
    """Validates `floor`, the minimum weight, a number in [0, 1]."""
    return check_number(floor, "floor", 0.0, 1.0)


def apply_floor(weights, floor):
    """`floor + (1 - floor) * weights`: weights in [0, 1] moved to [floor, 1].

    Affine rather than `max(weights, floor)`, so the order of the samples is
    kept above the floor too.
    """
    return (floor + (1.0 - floor) * np.asarray(weights, "float64")).astype("float32")


def run_batches(function, arrays, batch_size, verbose=False, desc=None):
    """Calls a compiled per-batch `function` over aligned numpy arrays.

    Args:
        function: callable of backend tensors returning a tuple of tensors
            whose first axis is the batch.
        arrays: tuple of numpy arrays with the same first dimension.
        batch_size: int. Rows per call.
        verbose: bool. Show a progress bar. Defaults to `False`.
        desc: str or `None`. Progress-bar label.

    Returns:
        A tuple of numpy arrays, each the concatenation of one output over
        all batches.
    """
    total = len(arrays[0])
    outputs = []
    with tqdm(total=total, unit="img", desc=desc, disable=not verbose) as progress:
        for start in range(0, total, batch_size):
            batch = tuple(
                keras.ops.convert_to_tensor(a[start : start + batch_size])
                for a in arrays
            )
            outputs.append(tuple(to_numpy(o) for o in function(*batch)))
            progress.update(len(arrays[0][start : start + batch_size]))
    return tuple(np.concatenate(parts, axis=0) for parts in zip(*outputs))


class ReweightingCallback(keras.callbacks.Callback):
    """Recomputes the weights of a `SampleWeightDataset` every `every` epochs.

    At the beginning of epochs `start_epoch`, `start_epoch + every`, ...
    `compute_weights()` runs on the model being trained and its result's
    `weights` go to `dataset.set_weights`, so the epoch that follows trains
    on them. Before `start_epoch` the dataset's weights are left as they
    are (all ones unless given). Each round is kept in memory (`epochs`,
    `history` of the weights, `results`), and with `log_dir` set each round
    writes `weights_epoch_XXXX.npz` (the result's arrays) and refreshes
    `weight_histograms.png` (one histogram per round so far).

    Subclasses implement `compute_weights()`, returning an object with a
    `weights` array and an `arrays()` dict of per-sample arrays, and may
    extend `write_diagnostics`.

    Args:
        dataset: `SampleWeightDataset`. The dataset `fit` reads.
        every: int. Epochs between reweighting rounds. Defaults to 1.
        start_epoch: int. First epoch trained on computed weights. Defaults
            to 0 (weights from the model as `fit` receives it).
        verbose: bool. Progress bar and a summary line per round. Defaults
            to `False`.
        log_dir: str or `None`. Directory for diagnostics (created if
            needed). Defaults to `None` (nothing written).
    """

    def __init__(self, dataset, every=1, start_epoch=0, verbose=False, log_dir=None):
        super().__init__()
        if not isinstance(dataset, SampleWeightDataset):
            raise ValueError(
                "`dataset` must be a keras_xai SampleWeightDataset (the data "
                f"`fit` reads). Received: {type(dataset).__name__}"
            )
        self.dataset = dataset
        self.every = check_positive_int(every, "every")
        self.start_epoch = check_positive_int(start_epoch, "start_epoch", minimum=0)
        self.verbose = bool(verbose)
        if log_dir is not None and not isinstance(log_dir, (str, os.PathLike)):
            raise ValueError(
                f"`log_dir` must be a path or None. Received: log_dir={log_dir!r}"
            )
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.epochs = []
        self.history = []
        self.results = []

    def compute_weights(self):
        """One weight per sample of `self.dataset`, from `self.model`.

        Returns:
            A result with `weights` (float32 `(N,)`) and `arrays()`.
        """
        raise NotImplementedError

    def on_epoch_begin(self, epoch, logs=None):
        if epoch < self.start_epoch or (epoch - self.start_epoch) % self.every:
            return
        result = self.compute_weights()
        self.dataset.set_weights(result.weights)
        self.epochs.append(int(epoch))
        self.history.append(self.dataset.weights)
        self.results.append(result)
        if self.verbose:
            print(f"{type(self).__name__} epoch {epoch + 1}: {self.summary(result)}")
        if self.log_dir is not None:
            self.write_diagnostics(epoch, result)

    def summary(self, result):
        """One line describing a round's weights."""
        weights = result.weights
        return (
            f"weights mean {weights.mean():.3f}, median {np.median(weights):.3f}, "
            f"{int(np.sum(weights >= 1.0))} of {len(weights)} at 1"
        )

    def write_diagnostics(self, epoch, result):
        """Writes the round's arrays and the weight histograms to `log_dir`."""
        os.makedirs(self.log_dir, exist_ok=True)
        np.savez(
            os.path.join(self.log_dir, f"weights_epoch_{epoch + 1:04d}.npz"),
            **result.arrays(),
        )
        plot_weight_histograms(
            {f"epoch {e + 1}": w for e, w in zip(self.epochs, self.history)},
            os.path.join(self.log_dir, "weight_histograms.png"),
        )
