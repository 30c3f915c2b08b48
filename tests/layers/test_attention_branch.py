import keras
import numpy as np
import pytest

from keras_xai.layers.attention_branch import AttentionBranch
from keras_xai.testing import TestCase


def _features(batch=2, side=4, channels=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, side, side, channels)).astype("float32")


class TestAttentionBranch(TestCase):
    @pytest.mark.multi_backend
    def test_layer_round_trips(self, tmp_path):
        features = _features()
        layer = self.run_layer_test(
            AttentionBranch, {"num_classes": 3, "filters": (4,)}, features
        )
        logits, attention = layer(features)
        assert tuple(logits.shape) == (2, 3)
        assert tuple(attention.shape) == (2, 4, 4, 1)
        assert layer.compute_output_shape((None, 4, 4, 6)) == (
            (None, 3),
            (None, 4, 4, 1),
        )
        # `.keras` round trip inside a model. A functional model returns its
        # tuple of outputs as a list once reloaded, so outputs are compared
        # one by one rather than with `run_model_saving_test`.
        inputs = keras.Input((4, 4, 6))
        model = keras.Model(inputs, AttentionBranch(3, filters=(4,))(inputs))
        path = str(tmp_path / "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
        for got, want in zip(restored(features), model(features)):
            self.assert_allclose(got, want)

    def test_logits_and_map_match_numpy(self):
        # Without convolution blocks the branch is a 1x1 conv (class map),
        # its spatial mean (logits) and sigmoid(BN(1x1 conv)) (attention);
        # BN in inference mode starts at mean 0, variance 1.
        features = _features(batch=3, side=5, channels=4, seed=1)
        layer = AttentionBranch(num_classes=3, filters=())
        logits, attention = layer(features)
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in layer.class_map.weights)
        class_map = features @ kernel[0, 0] + bias
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(logits),
            class_map.mean(axis=(1, 2)),
            rtol=1e-5,
            atol=1e-5,
        )
        weights = keras.ops.convert_to_numpy(layer.attention_conv.kernel)[0, 0]
        epsilon = layer.attention_bn.epsilon
        expected = 1.0 / (1.0 + np.exp(-(class_map @ weights) / np.sqrt(1 + epsilon)))
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(attention), expected, rtol=1e-5, atol=1e-6
        )

    def test_attention_in_unit_interval(self):
        layer = AttentionBranch(num_classes=4, filters=(8,))
        _, attention = layer(100.0 * _features(seed=2), training=True)
        attention = keras.ops.convert_to_numpy(attention)
        assert attention.dtype == np.float32
        assert attention.min() >= 0.0 and attention.max() <= 1.0

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="`num_classes` must be an int >= 2"):
            AttentionBranch(num_classes=1)
        with pytest.raises(ValueError, match="`num_classes` must be an int"):
            AttentionBranch(num_classes=2.0)
        with pytest.raises(ValueError, match="`filters` must be a tuple"):
            AttentionBranch(num_classes=3, filters=(8, 0))
        with pytest.raises(ValueError, match="`filters` must be a tuple"):
            AttentionBranch(num_classes=3, filters="64")
        with pytest.raises(ValueError, match="`filters` must be a tuple"):
            AttentionBranch(num_classes=3, filters=8)
        with pytest.raises(ValueError, match="`kernel_size` must be >= 1"):
            AttentionBranch(num_classes=3, kernel_size=0)
        with pytest.raises(ValueError, match="4-D"):
            AttentionBranch(num_classes=3)(np.zeros((2, 8, 3), "float32"))
        with pytest.raises(ValueError, match="`synchronized_batch_norm` must be"):
            AttentionBranch(num_classes=3, synchronized_batch_norm="yes")

    def test_synchronized_batch_norm_reaches_every_batch_norm(self):
        layer = AttentionBranch(3, filters=(4, 4), synchronized_batch_norm=True)
        norms = [block[1] for block in layer.blocks] + [layer.attention_bn]
        assert all(norm.synchronized for norm in norms)
        restored = AttentionBranch.from_config(layer.get_config())
        assert restored.attention_bn.synchronized
        assert not AttentionBranch(3).attention_bn.synchronized
