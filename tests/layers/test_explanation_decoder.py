import numpy as np
import pytest

from keras_xai.layers import ExplanationDecoder, decoder_plan
from keras_xai.testing import TestCase


@pytest.mark.parametrize(
    "side, plan", [(32, (4, 3)), (96, (6, 4)), (28, (7, 2)), (64, (4, 4)), (8, (4, 1))]
)
def test_decoder_plan_matches_the_paper(side, plan):
    assert decoder_plan(side) == plan


def test_decoder_plan_rejects_unreachable_sizes():
    with pytest.raises(ValueError, match="grid·2\\^n"):
        decoder_plan(27)


class TestExplanationDecoder(TestCase):
    @pytest.mark.multi_backend
    def test_layer_round_trips(self, tmp_path):
        z = np.random.default_rng(0).random((2, 16)).astype("float32")
        self.run_layer_test(
            ExplanationDecoder,
            {"image_size": (32, 32), "filters": (8, 4)},
            z,
            expected_output_shape=(2, 32, 32),
            tmp_path=tmp_path,
        )

    def test_structure_follows_the_plan(self):
        decoder = ExplanationDecoder((96, 96), filters=(8,))
        decoder(np.zeros((1, 4), "float32"))
        assert decoder.grid == (6, 6) and len(decoder.blocks) == 4
        out = np.asarray(decoder(np.ones((3, 4), "float32")))
        assert out.shape == (3, 96, 96)
        assert np.all(np.abs(out) <= 1.0)  # tanh output

    def test_explicit_blocks_and_bad_sizes(self):
        assert ExplanationDecoder((28, 28), num_blocks=1).grid == (14, 14)
        with pytest.raises(ValueError, match="cannot be reached"):
            ExplanationDecoder((30, 32), num_blocks=2)
        with pytest.raises(ValueError, match="`image_size` must be"):
            ExplanationDecoder((32,))
        with pytest.raises(ValueError, match="`filters` must be an integer"):
            ExplanationDecoder((32, 32), filters=("a",))
