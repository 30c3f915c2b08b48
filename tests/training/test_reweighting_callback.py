import dataclasses
import math
import os

import keras
import numpy as np
import pytest

from keras_xai.training.explanation_targets_dataset import ExplanationTargetsDataset
from keras_xai.training.reweighting_callback import (
    ReweightingCallback,
    apply_floor,
    check_floor,
    run_batches,
)
from keras_xai.training.sample_weight_dataset import SampleWeightDataset
from tests.training.reweighting_models import (
    EpochTag,
    RecordingDataset,
    assert_batches_carry,
    tiny_classifier,
    tiny_images,
)


@dataclasses.dataclass
class _Result:
    weights: np.ndarray
    scores: np.ndarray

    def arrays(self):
        return dataclasses.asdict(self)


class ScheduledWeights(ReweightingCallback):
    """Hands out given weight arrays, one per round, in order."""

    def __init__(self, dataset, rounds, **kwargs):
        super().__init__(dataset, **kwargs)
        self.rounds = rounds
        self.calls = 0

    def compute_weights(self):
        weights = np.asarray(self.rounds[self.calls], "float32")
        self.calls += 1
        return _Result(weights=weights, scores=10 * weights)


def _dataset(count=4, weights=None):
    x = np.arange(count, dtype="float32").reshape(count, 1, 1, 1)
    return SampleWeightDataset(x, np.zeros(count, "int64"), weights, batch_size=2)


def _rounds(count=4, number=3):
    return [np.linspace(0.1 * (r + 1), 1.0, count) for r in range(number)]


class TestFloor:
    @pytest.mark.parametrize(
        "floor, expected",
        [(0, 0.0), (1, 1.0), (0.5, 0.5), (np.float32(0.25), 0.25), (np.int64(1), 1.0)],
    )
    def test_accepted_values_become_floats(self, floor, expected):
        value = check_floor(floor)
        assert type(value) is float and value == expected

    @pytest.mark.parametrize("floor", [True, np.bool_(False), "0.5", None, [0.5]])
    def test_non_numbers(self, floor):
        with pytest.raises(ValueError, match="`floor` must be a number"):
            check_floor(floor)

    @pytest.mark.parametrize("floor", [-0.01, 1.01, math.nan, math.inf])
    def test_out_of_range(self, floor):
        with pytest.raises(ValueError, match=r"`floor` must be in \[0, 1\]"):
            check_floor(floor)

    def test_apply_floor_is_affine_onto_floor_to_one(self):
        weights = np.array([0.0, 0.25, 0.5, 1.0])
        floored = apply_floor(weights, 0.2)
        assert floored.dtype == np.float32
        np.testing.assert_allclose(floored, [0.2, 0.4, 0.6, 1.0], rtol=1e-6)
        np.testing.assert_array_equal(apply_floor(weights, 0.0), weights)
        np.testing.assert_array_equal(apply_floor(weights, 1.0), np.ones(4))
        # Unlike max(weights, floor), distinct weights stay distinct.
        assert len(np.unique(apply_floor([0.0, 0.1, 0.2], 0.5))) == 3


@pytest.mark.multi_backend
def test_run_batches_concatenates_each_output_over_batches(capsys):
    a = np.arange(14, dtype="float32").reshape(7, 2)
    b = np.arange(7, dtype="float32")
    sizes = []

    def function(a_batch, b_batch):
        sizes.append(int(a_batch.shape[0]))
        total = keras.ops.sum(a_batch, axis=1) + b_batch
        return total, keras.ops.multiply(a_batch, 2.0)

    total, doubled = run_batches(function, (a, b), 3, verbose=True, desc="rows")
    assert sizes == [3, 3, 1]
    assert isinstance(total, np.ndarray) and isinstance(doubled, np.ndarray)
    np.testing.assert_array_equal(total, a.sum(axis=1) + b)
    np.testing.assert_array_equal(doubled, 2 * a)
    assert "rows" in capsys.readouterr().err  # the progress bar, when verbose


class TestSchedule:
    def test_rounds_at_start_epoch_then_every_k(self):
        initial = np.full(4, 0.5)
        data = _dataset(weights=initial)
        rounds = _rounds()
        callback = ScheduledWeights(data, rounds, every=2, start_epoch=1)
        for epoch in range(7):
            callback.on_epoch_begin(epoch)
            if epoch == 0:  # before start_epoch: the given weights stay
                np.testing.assert_array_equal(data.weights, initial)
        assert callback.epochs == [1, 3, 5] and callback.calls == 3
        for kept, expected in zip(callback.history, rounds):
            np.testing.assert_allclose(kept, expected, rtol=1e-6)
        assert [r.scores[0] for r in callback.results] == pytest.approx(
            [10 * r[0] for r in rounds]
        )
        np.testing.assert_allclose(data.weights, rounds[-1], rtol=1e-6)
        # History holds the dataset's read-only copies, not the results.
        rounds[0][:] = 7.0
        assert callback.history[0].max() == 1.0
        assert not callback.history[0].flags.writeable

    def test_invalid_weights_record_no_round(self):
        data = _dataset()
        callback = ScheduledWeights(data, [np.ones(3)])
        with pytest.raises(ValueError, match=r"`weights` must have shape \(4,\)"):
            callback.on_epoch_begin(0)
        assert callback.epochs == [] and callback.history == []
        np.testing.assert_array_equal(data.weights, np.ones(4))

    def test_the_base_class_computes_nothing(self):
        callback = ReweightingCallback(_dataset())
        with pytest.raises(NotImplementedError):
            callback.on_epoch_begin(0)

    @pytest.mark.multi_backend
    def test_fit_trains_each_epoch_on_the_round_before_it(self):
        x, y = tiny_images(count=6)
        data = RecordingDataset(x, y, batch_size=4, seed=0)
        rounds = [np.linspace(0.2, 1.0, 6), np.linspace(1.0, 0.1, 6)]
        callback = ScheduledWeights(data, rounds, every=2, start_epoch=1)
        model = tiny_classifier()
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        model.fit(data, epochs=4, verbose=0, callbacks=[EpochTag(data), callback])
        assert callback.epochs == [1, 3]
        expected = {0: np.ones(6), 1: rounds[0], 2: rounds[0], 3: rounds[1]}
        assert_batches_carry(
            data, {e: w.astype("float32") for e, w in expected.items()}
        )


class TestDiagnostics:
    def test_summary_line(self):
        callback = ScheduledWeights(_dataset(), [])
        result = _Result(np.array([0.5, 1.0, 1.0, 0.25], "float32"), None)
        # mean 2.75 / 4, median (0.5 + 1) / 2, two weights at 1.
        assert callback.summary(result) == (
            "weights mean 0.688, median 0.750, 2 of 4 at 1"
        )

    def test_verbose_prints_one_line_per_round(self, capsys):
        weights = np.array([0.5, 1.0, 1.0, 0.25])
        callback = ScheduledWeights(_dataset(), [weights], verbose=True)
        callback.on_epoch_begin(0)
        assert capsys.readouterr().out == (
            "ScheduledWeights epoch 1: weights mean 0.688, median 0.750, 2 of 4 at 1\n"
        )

    def test_log_dir_gets_arrays_and_histograms(self, tmp_path):
        log_dir = tmp_path / "logs" / "run"  # created with its parents
        rounds = _rounds(number=2)
        callback = ScheduledWeights(_dataset(), rounds, log_dir=log_dir)
        assert callback.log_dir == os.fspath(log_dir)
        callback.on_epoch_begin(0)
        callback.on_epoch_begin(1)
        assert sorted(os.listdir(log_dir)) == [
            "weight_histograms.png",
            "weights_epoch_0001.npz",
            "weights_epoch_0002.npz",
        ]
        for number, weights in enumerate(rounds, start=1):
            with np.load(log_dir / f"weights_epoch_{number:04d}.npz") as saved:
                assert sorted(saved.files) == ["scores", "weights"]
                np.testing.assert_allclose(saved["weights"], weights, rtol=1e-6)
                np.testing.assert_allclose(saved["scores"], 10 * weights, rtol=1e-6)
        with open(log_dir / "weight_histograms.png", "rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n"

    def test_without_log_dir_nothing_is_written(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        callback = ScheduledWeights(_dataset(), _rounds())
        callback.on_epoch_begin(0)
        assert callback.log_dir is None and os.listdir(tmp_path) == []


def test_bad_arguments():
    x = np.zeros((4, 2, 2, 1), "float32")
    targets_data = ExplanationTargetsDataset(x, np.zeros(4), np.zeros((4, 2, 2)))
    for dataset in (targets_data, x):
        with pytest.raises(ValueError, match="`dataset` must be a keras_xai Sample"):
            ReweightingCallback(dataset)
    data = _dataset()
    with pytest.raises(ValueError, match="`every` must be >= 1. Received: every=0"):
        ReweightingCallback(data, every=0)
    with pytest.raises(ValueError, match="`every` must be an integer"):
        ReweightingCallback(data, every="2")
    with pytest.raises(ValueError, match="`start_epoch` must be >= 0"):
        ReweightingCallback(data, start_epoch=-1)
    with pytest.raises(ValueError, match="`log_dir` must be a path or None"):
        ReweightingCallback(data, log_dir=3)
