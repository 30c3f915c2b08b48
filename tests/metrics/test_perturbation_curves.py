import keras
import numpy as np
import pytest

from keras_xai.metrics import (
    HIGHER,
    LOWER,
    aopc,
    lerf_curve,
    morf_curve,
    perturbation_curve,
)

SIZE, PATCH = 8, 4  # 2 x 2 patches, row-major: 0 TL, 1 TR, 2 BL, 3 BR
PIXEL = (5, 2)  # lies in patch 2 (bottom-left)


def _one_pixel_model(pixel=PIXEL, weight=10.0, softmax=True):
    """Flatten -> Dense(2) whose only non-zero weight reads `pixel`."""
    inputs = keras.Input((SIZE, SIZE, 1))
    flat = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(2, name="logits")
    logits = dense(flat)
    kernel = np.zeros((SIZE * SIZE, 2), "float32")
    kernel[pixel[0] * SIZE + pixel[1], 0] = weight
    dense.set_weights([kernel, np.zeros(2, "float32")])
    outputs = keras.layers.Activation("softmax")(logits) if softmax else logits
    return keras.Model(inputs, outputs)


def _patch_map(values):
    """(SIZE, SIZE) map, constant per patch (row-major patch values)."""
    return np.kron(np.reshape(values, (2, 2)), np.ones((PATCH, PATCH)))


def _ones(n=1):
    return np.ones((n, SIZE, SIZE, 1), "float32")


@pytest.mark.multi_backend
def test_morf_drops_exactly_at_the_step_of_the_read_patch():
    # MoRF order: patch 1 (4), patch 0 (3), patch 2 (2), patch 3 (1).
    maps = _patch_map([3, 4, 2, 1])[None]
    curve = morf_curve(_one_pixel_model(), _ones(), maps, [0], patch_size=PATCH)[0]
    assert curve.shape == (5,)
    np.testing.assert_allclose(curve[0], 1 / (1 + np.exp(-10.0)), rtol=1e-5)
    np.testing.assert_allclose(curve[:3], curve[0], rtol=1e-6)  # steps 0-2 flat
    assert curve[3] < curve[0]  # patch 2 replaced at step 3
    np.testing.assert_allclose(curve[4], curve[3], rtol=1e-6)


@pytest.mark.multi_backend
def test_lerf_stays_flat_until_the_last_step():
    # The read patch is the most relevant: MoRF drops first, LeRF last.
    maps = _patch_map([0, 1, 5, 2])[None]
    model = _one_pixel_model()
    lerf = lerf_curve(model, _ones(), maps, [0], patch_size=PATCH)[0]
    morf = morf_curve(model, _ones(), maps, [0], patch_size=PATCH)[0]
    np.testing.assert_allclose(lerf[:4], lerf[0], rtol=1e-6)
    assert lerf[4] < lerf[0]
    assert morf[1] < morf[0]
    np.testing.assert_allclose(morf[1:], morf[1], rtol=1e-6)
    # All patches replaced: the same noise image for both orders.
    np.testing.assert_allclose(morf[-1], lerf[-1], rtol=1e-6)


@pytest.mark.multi_backend
def test_curves_are_batched_deterministic_and_batch_invariant():
    rng = np.random.default_rng(0)
    images = rng.random((5, SIZE, SIZE, 1)).astype("float32")
    maps = rng.normal(size=(5, SIZE, SIZE))
    model = _one_pixel_model(weight=3.0)
    # 5 images x 16 steps: 5 calls of 16, or 1 of 80 (few shapes to compile).
    curves = morf_curve(model, images, maps, [0] * 5, patch_size=2, batch_size=16)
    assert curves.shape == (5, 17)
    again = morf_curve(model, images, maps, [0] * 5, patch_size=2, batch_size=80)
    np.testing.assert_allclose(again, curves, rtol=1e-5)
    # Blocks of 2 images (2, 2, 1): same curves.
    blocks = morf_curve(model, images, maps, [0] * 5, patch_size=2, batch_size=2)
    np.testing.assert_allclose(blocks, curves, rtol=1e-5)
    # An image's curve does not depend on the rest of the batch.
    alone = morf_curve(model, images[3:4], maps[3:4], [0], patch_size=2)
    np.testing.assert_allclose(alone[0], curves[3], rtol=1e-5)
    # Another seed draws other noise.
    other = morf_curve(
        model, images, maps, [0] * 5, patch_size=2, seed=1, batch_size=16
    )
    assert not np.allclose(other[:, -1], curves[:, -1])


@pytest.mark.multi_backend
def test_num_steps_and_default_targets():
    model = _one_pixel_model()
    maps = _patch_map([3, 4, 2, 1])[None]
    short = perturbation_curve(model, _ones(), maps, patch_size=PATCH, num_steps=2)
    assert short.shape == (1, 3)
    # targets=None tracks the predicted class (0 on an all-ones image).
    full = morf_curve(model, _ones(), maps, [0], patch_size=PATCH)
    np.testing.assert_allclose(short[0], full[0, :3], rtol=1e-6)
    # The other class's curve is the complement.
    other = morf_curve(model, _ones(), maps, [1], patch_size=PATCH)
    np.testing.assert_allclose(other + full, 1.0, rtol=1e-5)


@pytest.mark.multi_backend
def test_model_without_softmax_raises():
    with pytest.raises(ValueError, match="probabilities"):
        morf_curve(
            _one_pixel_model(softmax=False), _ones(), np.ones((1, SIZE, SIZE)), [0]
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"patch_size": 3}, "patch_size.*valid sizes are \\[1, 2, 4, 8\\]"),
        ({"patch_size": 0}, "patch_size"),
        ({"num_steps": 5}, "num_steps"),
        ({"maps": np.ones((1, SIZE, SIZE - 1))}, "attributions"),
        ({"maps": np.full((1, SIZE, SIZE), np.nan)}, "finite"),
        ({"images": _ones() * 2}, r"\[0, 1\]"),
        ({"targets": [2]}, "targets"),
        ({"order": "random"}, "order"),
    ],
)
def test_bad_input_raises_value_error(kwargs, match):
    args = {
        "images": _ones(),
        "maps": np.ones((1, SIZE, SIZE)),
        "targets": [0],
        "patch_size": PATCH,
    }
    args.update(kwargs)
    images, maps, targets = args.pop("images"), args.pop("maps"), args.pop("targets")
    with pytest.raises(ValueError, match=match):
        perturbation_curve(_one_pixel_model(), images, maps, targets, **args)


def test_aopc_on_hand_built_curves():
    curves = np.array(
        [
            [1.0, 0.5, 0.0],  # drops (0.5 + 1.0) / 2
            [0.2, 0.2, 0.2],  # flat
            [0.5, 1.0, 0.5],  # (-0.5 + 0) / 2
        ]
    )
    np.testing.assert_allclose(aopc(curves), [0.75, 0.0, -0.25])
    np.testing.assert_allclose(aopc(keras.ops.convert_to_tensor(curves)), aopc(curves))


@pytest.mark.parametrize(
    "curves", [np.ones((3, 1)), np.ones(4), np.array([[1.0, np.nan]])]
)
def test_aopc_bad_input_raises(curves):
    with pytest.raises(ValueError, match="curves"):
        aopc(curves)


def test_score_directions():
    assert morf_curve.score_direction == LOWER
    assert lerf_curve.score_direction == HIGHER
    assert aopc.score_direction == HIGHER
