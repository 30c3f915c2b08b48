import keras
import numpy as np
import pytest

from keras_xai.explainers.perturbation import (
    MIN_CHUNK,
    PerturbationExplainer,
    check_background,
    check_output,
    chunk_size,
    evaluate_in_chunks,
)
from tests.explainers.perturbation_models import linear_model


class PixelDrop(PerturbationExplainer):
    """One-pixel occlusion through the base class's `scores`: the map at p
    is score(x) - score(x with pixel p set to 0)."""

    def __init__(self, model, **kwargs):
        super().__init__(model, **kwargs)
        self.batches = []

    def explain_batch(self, images, targets):
        self.batches.append((type(images), len(images)))
        maps = []
        for image, target in zip(images, targets):
            pixels = image.shape[0] * image.shape[1]
            dropped = np.repeat(image[None], pixels, axis=0)
            flat = dropped.reshape(pixels, pixels, -1)
            flat[np.arange(pixels), np.arange(pixels)] = 0.0
            scores = self.scores(
                np.concatenate([image[None], dropped]), np.full(pixels + 1, target)
            )
            maps.append((scores[0] - scores[1:]).reshape(image.shape[:2]))
            self.advance()
        return np.stack(maps)


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _linear(seed=0, side=3, classes=3):
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=(side * side, classes))
    bias = rng.normal(size=classes)
    images = rng.random((10, side, side, 1)).astype("float32")
    return linear_model(kernel, bias), kernel, bias, images


def test_check_output():
    assert check_output("logits") == "logits"
    assert check_output("probabilities") == "probabilities"
    for bad in ("softmax", None, "Logits"):
        with pytest.raises(ValueError, match="`output` must be one of"):
            check_output(bad)


@pytest.mark.parametrize(
    "rows, batch_size, expected",
    [
        (256, 256, 256),  # full chunks are batch_size long
        (300, 256, 256),
        (0, 256, MIN_CHUNK),
        (1, 256, MIN_CHUNK),  # short ones are padded to at least MIN_CHUNK
        (16, 256, 16),
        (17, 256, 32),  # ... and otherwise to the next power of two
        (100, 256, 128),
        (129, 256, 256),
        (200, 256, 256),  # never beyond batch_size
        (3, 8, 8),
        (5, 5, 5),
    ],
)
def test_chunk_size(rows, batch_size, expected):
    assert chunk_size(rows, batch_size) == expected


class TestEvaluateInChunks:
    def test_pads_short_chunks_with_the_last_row_and_drops_the_padding(self):
        a = np.arange(37, dtype="float32")
        b = 100 * np.arange(37, dtype="float32")
        seen = []

        def function(scale, a_chunk, b_chunk):
            seen.append(keras.ops.convert_to_numpy(a_chunk))
            return scale * (a_chunk + b_chunk)

        scale = keras.ops.convert_to_tensor(2.0)
        out = evaluate_in_chunks(function, [a, b], shared=(scale,), batch_size=16)
        assert isinstance(out, np.ndarray)
        np.testing.assert_array_equal(out, 2 * (a + b))
        # 16 + 16 + 5 rows; the last 5 padded to MIN_CHUNK = 16.
        assert [len(chunk) for chunk in seen] == [16, 16, 16]
        np.testing.assert_array_equal(seen[2], [32, 33, 34, 35] + [36] * 12)

    def test_a_single_short_chunk(self):
        sizes = []

        def function(x):
            sizes.append(int(x.shape[0]))
            return keras.ops.square(x)

        out = evaluate_in_chunks(function, [np.arange(5.0)], batch_size=256)
        assert sizes == [MIN_CHUNK]
        np.testing.assert_array_equal(out, np.arange(5.0) ** 2)

    def test_gather_sees_numpy_indices_and_feeds_the_function(self):
        table = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]], "float32")
        indices = np.array([2, 0, 1, 2, 0], "int32")
        gathered = []

        def gather(chunk):
            (rows,) = chunk
            assert isinstance(rows, np.ndarray)
            gathered.append(rows.copy())
            return [table[rows]]

        out = evaluate_in_chunks(
            lambda x: keras.ops.sum(x, axis=1), [indices], batch_size=4, gather=gather
        )
        np.testing.assert_array_equal(out, table[indices].sum(axis=1))
        # Chunks of 4 and 1 (padded to 4: MIN_CHUNK exceeds batch_size).
        np.testing.assert_array_equal(gathered[0], [2, 0, 1, 2])
        np.testing.assert_array_equal(gathered[1], [0, 0, 0, 0])


class TestScores:
    @pytest.mark.multi_backend
    @pytest.mark.parametrize("output", ["logits", "probabilities"])
    @pytest.mark.parametrize("compile", [True, False])
    def test_target_scores_match_numpy(self, output, compile):
        model, kernel, bias, images = _linear()
        targets = np.array([0, 1, 2, 2, 1, 0, 0, 1, 2, 1])
        explainer = PixelDrop(model, output=output, batch_size=4, compile=compile)
        logits = images.reshape(10, -1).astype("float64") @ kernel + bias
        values = _softmax(logits) if output == "probabilities" else logits
        expected = values[np.arange(10), targets]
        scores = explainer.scores(images, targets)
        assert scores.shape == (10,) and scores.dtype == np.float32
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)

    def test_compiled_functions_are_cached_by_name(self):
        model = _linear()[0]
        explainer = PixelDrop(model)
        first = explainer.compiled("scores", explainer.target_scores)
        assert explainer.compiled("scores", explainer.target_scores) is first
        assert explainer.compiled("other", explainer.target_scores) is not first
        uncompiled = PixelDrop(model, compile=False)

        def function(images, targets):
            return images

        assert uncompiled.compiled("f", function) is function


class TestExplain:
    @pytest.mark.multi_backend
    def test_maps_match_the_closed_form_of_a_linear_model(self):
        # Zeroing pixel p moves the target logit by kernel[p, t] * x[p].
        model, kernel, _, images = _linear()
        explainer = PixelDrop(model, output="logits", batch_size=4)
        images = images[:5]
        targets = np.array([2, 0, 1, 1, 0])
        maps = explainer(images, targets=targets)
        assert maps.shape == (5, 3, 3) and maps.dtype == np.float32
        expected = images[..., 0] * kernel[:, targets].T.reshape(5, 3, 3)
        np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-5)
        # The outer loop runs in numpy, one `batch_size` of images at a time.
        assert explainer.batches == [(np.ndarray, 4), (np.ndarray, 1)]

    def test_default_targets_are_the_predicted_classes(self):
        model, kernel, bias, images = _linear()
        explainer = PixelDrop(model)
        predicted = np.argmax(images.reshape(10, -1) @ kernel + bias, axis=1)
        np.testing.assert_allclose(
            explainer(images), explainer(images, targets=predicted), atol=1e-6
        )

    def test_progress_bar_counts_images_when_verbose(self, capsys):
        model, _, _, images = _linear()
        explainer = PixelDrop(model, verbose=True, batch_size=3)
        explainer(images[:4], targets=np.zeros(4, "int32"))
        err = capsys.readouterr().err
        assert "PixelDrop" in err and "4/4" in err
        PixelDrop(model)(images[:4], targets=np.zeros(4, "int32"))
        assert "PixelDrop" not in capsys.readouterr().err

    def test_advance_moves_the_current_bar(self, capsys):
        explainer = PixelDrop(_linear()[0], verbose=True)
        explainer.advance(3)  # no bar yet: nothing happens
        bar = explainer.progress(5)
        explainer.advance()
        explainer.advance(2)
        assert bar.n == 3 and bar.total == 5
        bar.close()
        assert "3/5" in capsys.readouterr().err

    def test_bad_arguments(self):
        model = _linear()[0]
        with pytest.raises(ValueError, match="`output` must be one of"):
            PixelDrop(model, output="softmax")
        with pytest.raises(ValueError, match="`batch_size` must be >= 1"):
            PixelDrop(model, batch_size=0)
        with pytest.raises(ValueError, match="`model` must be a keras.Model"):
            PixelDrop(lambda x: x)


class TestCheckBackground:
    def test_numbers_and_broadcastable_arrays(self):
        value = check_background(0.5, (4, 4, 3), "baseline")
        assert value.shape == () and value.dtype == np.float32 and value == 0.5
        for shape in [(3,), (1, 1, 3), (4, 1, 1), (4, 4, 3), (4, 4, 1)]:
            array = check_background(np.ones(shape, "float64"), (4, 4, 3), "baseline")
            assert array.shape == shape and array.dtype == np.float32
        # Unknown image entries accept any size.
        check_background(np.ones((5, 7, 3)), (None, None, 3), "masker")

    def test_backend_tensors_are_accepted(self):
        tensor = keras.ops.convert_to_tensor(np.full((1, 1, 3), 0.25, "float32"))
        np.testing.assert_array_equal(
            check_background(tensor, (4, 4, 3), "baseline"), np.full((1, 1, 3), 0.25)
        )

    @pytest.mark.parametrize("value", [None, "mean", b"0"])
    def test_strings_and_none(self, value):
        with pytest.raises(ValueError, match="`hide_color` must be a number or an"):
            check_background(value, (4, 4, 3), "hide_color")

    def test_not_a_number(self):
        with pytest.raises(ValueError, match="`baseline` must be a number or an array"):
            check_background({"a": 1}, (4, 4, 3), "baseline")

    @pytest.mark.parametrize("value", [np.nan, [0.0, np.inf, 0.0]])
    def test_non_finite(self, value):
        with pytest.raises(ValueError, match="`baseline` must be finite"):
            check_background(value, (4, 4, 3), "baseline")

    def test_a_batch_is_refused(self):
        with pytest.raises(ValueError, match=r"not a batch. Received: masker.shape"):
            check_background(np.zeros((1, 4, 4, 3)), (4, 4, 3), "masker")

    @pytest.mark.parametrize("shape", [(2,), (4, 4, 2), (3, 4, 3), (2, 1, 1)])
    def test_shapes_that_do_not_broadcast(self, shape):
        with pytest.raises(
            ValueError,
            match=r"`baseline` must broadcast to the image shape \(4, 4, 3\)",
        ):
            check_background(np.zeros(shape), (4, 4, 3), "baseline")
