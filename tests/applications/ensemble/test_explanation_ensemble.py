import keras
import numpy as np
import pytest

from keras_xai.applications import ImageClassifier
from keras_xai.applications.ensemble.explanation_ensemble import (
    ExplanationEnsemble,
    member_indices,
)
from keras_xai.explainers import GradCAM, Saliency
from keras_xai.testing import TestCase

SHAPE = (20, 20, 1)  # the smallest LeNet-5 input


def _template():
    return ImageClassifier("lenet5", SHAPE, 3, hidden_units=(8,))


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *SHAPE)).astype("float32"), np.arange(n) % 3


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


class BatchCounter(keras.callbacks.Callback):
    """Records the number of training batches of every `fit` it sees."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_begin(self, logs=None):
        self.batches.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.batches[-1] += 1


class TestMemberIndices:
    def test_bagging_draws_n_with_replacement(self):
        sets = member_indices("bagging", 4, 50, seed=3)
        assert len(sets) == 4
        for rows in sets:
            assert rows.shape == (50,)
            assert rows.min() >= 0 and rows.max() < 50
            # With replacement: 50 draws out of 50 repeat some rows (the
            # chance of no repeat is 50!/50^50).
            assert np.unique(rows).size < 50
        assert not np.array_equal(sets[0], sets[1])
        again = member_indices("bagging", 4, 50, seed=3)
        for a, b in zip(sets, again):
            np.testing.assert_array_equal(a, b)
        other = member_indices("bagging", 4, 50, seed=4)
        assert not np.array_equal(sets[0], other[0])

    def test_kfold_leaves_each_bucket_out_of_exactly_one_member(self):
        n, k = 23, 4
        sets = member_indices("kfold", k, n, seed=1)
        everything = np.arange(n)
        buckets = [np.setdiff1d(everything, rows) for rows in sets]
        # The left-out buckets partition the data ...
        np.testing.assert_array_equal(np.sort(np.concatenate(buckets)), everything)
        assert sorted(b.size for b in buckets) == [5, 6, 6, 6]
        for i, rows in enumerate(sets):
            assert np.unique(rows).size == rows.size  # no duplicates
            for j, bucket in enumerate(buckets):
                # ... and bucket j is missing from member j only.
                assert np.isin(bucket, rows).all() == (i != j)
                assert (not np.isin(bucket, rows).any()) == (i == j)
        # Buckets are shuffled, not contiguous ranges.
        assert not all(np.all(np.diff(b) == 1) for b in buckets)

    def test_random_heads_train_on_everything(self):
        for rows in member_indices("random_heads", 3, 10):
            np.testing.assert_array_equal(rows, np.arange(10))

    @pytest.mark.parametrize(
        "args, message",
        [
            (("kfold", 5, 4), "num_samples"),
            (("boosting", 3, 10), "strategy"),
            (("bagging", 1, 10), "num_members"),
            (("bagging", 3, 0), "num_samples"),
            (("bagging", 3, 10, -1), "seed"),
        ],
    )
    def test_bad_arguments(self, args, message):
        with pytest.raises(ValueError, match=message):
            member_indices(*args)


class TestExplanationEnsemble(TestCase):
    def test_probabilities_are_the_mean_of_the_members(self):
        x, _ = _data(6)
        ensemble = ExplanationEnsemble(_template(), num_members=3)
        members = np.stack([_numpy(m(x)) for m in ensemble.members])
        np.testing.assert_allclose(
            _numpy(ensemble(x)), members.mean(axis=0), rtol=0, atol=1e-6
        )
        assert not np.allclose(members[0], members[1])
        np.testing.assert_array_equal(
            ensemble.predict_classes(x), np.argmax(members.mean(axis=0), axis=1)
        )

    def test_random_heads_share_the_base_and_redraw_the_head(self):
        template = _template()
        ensemble = ExplanationEnsemble(template, num_members=3, seed=7)
        first, second = ensemble.members[:2]
        for name in ("conv1", "conv2"):  # the base: the template's weights
            for member in ensemble.members:
                for a, b in zip(
                    member.get_layer(name).get_weights(),
                    template.get_layer(name).get_weights(),
                ):
                    np.testing.assert_array_equal(a, b)
        for name in ("fc1", "logits"):  # the head: one draw per member
            kernel = first.get_layer(name).get_weights()[0]
            assert not np.allclose(kernel, second.get_layer(name).get_weights()[0])
            assert not np.allclose(kernel, template.get_layer(name).get_weights()[0])
        same_seed = ExplanationEnsemble(template, num_members=3, seed=7)
        other_seed = ExplanationEnsemble(template, num_members=3, seed=8)
        for a, b in zip(ensemble.get_weights(), same_seed.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert not np.allclose(
            ensemble.members[0].get_layer("logits").get_weights()[0],
            other_seed.members[0].get_layer("logits").get_weights()[0],
        )

    @pytest.mark.parametrize("strategy", ["kfold", "bagging"])
    def test_data_strategies_start_from_identical_copies(self, strategy):
        template = _template()
        ensemble = ExplanationEnsemble(template, num_members=2, strategy=strategy)
        for member in ensemble.members:
            for a, b in zip(member.get_weights(), template.get_weights()):
                np.testing.assert_array_equal(a, b)

    def test_explanation_is_the_mean_of_member_maps(self):
        x, _ = _data(5)
        ensemble = ExplanationEnsemble(_template(), num_members=2)
        predicted = np.argmax(_numpy(ensemble(x)), axis=1)
        # Independent: each member's own (eager) GradCAM for the ensemble's
        # classes; the ensemble's explainers are compiled.
        expected = np.stack(
            [GradCAM(m, compile=False)(x, targets=predicted) for m in ensemble.members]
        )
        members = ensemble.explain_members(x)
        assert members.shape == (2, 5, 20, 20) and members.dtype == np.float32
        np.testing.assert_allclose(members, expected, rtol=1e-5, atol=1e-6)
        maps = ensemble.explain(x)
        assert maps.shape == (5, 20, 20) and maps.dtype == np.float32
        np.testing.assert_allclose(maps, expected.mean(axis=0), rtol=1e-5, atol=1e-6)
        # Members disagree, so the mean is not any one member's map.
        assert not np.allclose(expected[0], expected[1])

    def test_explain_with_targets_names_and_options(self):
        x, _ = _data(4)
        ensemble = ExplanationEnsemble(_template(), num_members=2)
        targets = np.array([2, 1, 0, 2])
        by_name = ensemble.explain(
            x, explainer="saliency", targets=targets, compile=False
        )
        expected = np.mean(
            [Saliency(m, compile=False)(x, targets=targets) for m in ensemble.members],
            axis=0,
        )
        np.testing.assert_allclose(by_name, expected, rtol=1e-5, atol=1e-7)
        small = ensemble.explain_members(
            x, GradCAM, targets, upsample=False, compile=False
        )
        assert small.shape == (2, 4, 2, 2)  # LeNet-5's pool2 at 20x20
        with pytest.raises(ValueError, match="targets"):
            ensemble.explain(x, targets=[0, 1, 2, 3, 4])
        with pytest.raises(ValueError, match="targets"):
            ensemble.explain(x, targets=[0, 1, 2, 3])  # 3 classes
        with pytest.raises(ValueError, match="explainer"):
            ensemble.explain(x, explainer="no_such_method")
        with pytest.raises(ValueError, match="images"):
            ensemble.explain(np.zeros((2, 28, 28, 1)))

    @pytest.mark.multi_backend
    def test_fit_trains_each_member_on_its_rows_and_reloads(self, tmp_path, capsys):
        x, _ = _data(16)
        ensemble = ExplanationEnsemble(_template(), num_members=2, strategy="kfold")
        rows = ensemble.member_indices(16)
        # Label each bucket with its own class: member 0 only ever sees
        # bucket 1 (class 1) and member 1 only bucket 0 (class 0).
        y = np.zeros(16, "int64")
        y[rows[0]] = 1
        ensemble.compile(optimizer=keras.optimizers.Adam(0.05))
        counter = BatchCounter()
        history = ensemble.fit(
            x,
            y,
            epochs=3,
            batch_size=4,
            verbose=2,
            callbacks=[counter],
            sample_weight=np.ones(16, "float32"),
        )
        output = capsys.readouterr().out
        assert "Member 1/2 (kfold, 8 samples)" in output
        assert "Member 2/2 (kfold, 8 samples)" in output
        assert counter.batches == [3 * 2, 3 * 2]  # 8 rows / batch 4, 3 epochs
        # A Keras History: members' metrics prefixed, per-member Histories kept.
        assert isinstance(history, keras.callbacks.History)
        assert history.model is ensemble and history.epoch == [0, 1, 2]
        assert {"member_0_loss", "member_1_loss"} <= set(history.history)
        for index, member in enumerate(history.members):
            losses = history.history[f"member_{index}_loss"]
            assert losses == member.history["loss"]
            assert len(losses) == 3 and losses[-1] < losses[0]
        assert np.all(np.argmax(_numpy(ensemble.members[0](x)), 1) == 1)
        assert np.all(np.argmax(_numpy(ensemble.members[1](x)), 1) == 0)

        path = str(tmp_path / "ensemble.keras")
        ensemble.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
        assert isinstance(restored, ExplanationEnsemble)
        assert restored.num_members == 2 and restored.strategy == "kfold"
        np.testing.assert_allclose(
            _numpy(restored(x)), _numpy(ensemble(x)), rtol=1e-6, atol=1e-7
        )
        for a, b in zip(restored.members, ensemble.members):
            np.testing.assert_allclose(_numpy(a(x)), _numpy(b(x)), atol=1e-7)
            # The members' optimizer states come back: training goes on.
            assert int(_numpy(a.optimizer.iterations)) == 6

    @pytest.mark.multi_backend
    def test_round_trips(self, tmp_path):
        x, y = _data(4)
        self.run_model_test(
            ExplanationEnsemble,
            {"classifier": _template(), "num_members": 2, "strategy": "bagging"},
            x,
            expected_output_shape=(4, 3),
            tmp_path=tmp_path,
        )

    def test_reloaded_explanations_match(self, tmp_path):
        x, _ = _data(3)
        ensemble = ExplanationEnsemble(_template(), num_members=2, seed=2)
        path = str(tmp_path / "ensemble.keras")
        ensemble.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
        np.testing.assert_allclose(
            restored.explain(x, compile=False),
            ensemble.explain(x, compile=False),
            rtol=1e-5,
            atol=1e-6,
        )

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"num_members": 1}, "num_members"),
            ({"num_members": 0}, "num_members"),
            ({"num_members": 2.0}, "num_members"),
            ({"strategy": "boosting"}, "strategy"),
            ({"seed": -1}, "seed"),
            ({"classifier": "lenet5"}, "classifier"),
        ],
    )
    def test_bad_arguments(self, kwargs, message):
        arguments = {"classifier": _template(), "num_members": 2, **kwargs}
        with pytest.raises(ValueError, match=message):
            ExplanationEnsemble(**arguments)

    def test_fit_checks_its_input(self):
        x, y = _data(8)
        ensemble = ExplanationEnsemble(_template(), num_members=2, strategy="kfold")
        with pytest.raises(ValueError, match="compile"):
            ensemble.fit(x, y)
        ensemble.compile()
        with pytest.raises(ValueError, match="`y`"):
            ensemble.fit(x, y[:5])
        with pytest.raises(ValueError, match="`x`"):
            ensemble.fit(np.zeros((8, 28, 28, 1)), y)
        with pytest.raises(ValueError, match="sample_weight"):
            ensemble.fit(x, y, sample_weight=np.ones(3))
