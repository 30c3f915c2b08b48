import keras
import numpy as np
import pytest

from keras_xai.applications.multitask.multitask_attribute_classifier import (
    AttributeExplanation,
    MultitaskAttributeClassifier,
)
from keras_xai.explainers import Explainer, GradCAM
from keras_xai.metrics import center_of_mass
from keras_xai.testing import TestCase

SHAPE = (20, 20, 1)  # the smallest LeNet-5 input
NAMES = ["long bill", "wingbars", "striped wing"]
HIERARCHY = {"group_names": ["ducks", "grebes"], "class_to_group": [0, 0, 1, 1]}


def _model(**kwargs):
    options = {
        "architecture": "lenet5",
        "image_shape": SHAPE,
        "num_classes": 4,
        "attribute_names": NAMES,
        "hidden_units": (8,),
        **kwargs,
    }
    return MultitaskAttributeClassifier(**options)


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, *SHAPE)).astype("float32")
    y = np.arange(n) % 4
    a = (rng.random((n, len(NAMES))) > 0.5).astype("float32")
    return x, y, a


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


def _set_attribute_head(model, bias, seed=0):
    """Fixes the attribute probabilities (mostly) through the bias.

    Non-negative `fc1` and attribute kernels make every attribute logit grow
    with the (non-negative) feature map, so GradCAM maps are not all zero.
    """
    rng = np.random.default_rng(seed)
    fc1 = model.get_layer("fc1")
    kernel, fc1_bias = fc1.get_weights()
    fc1.set_weights([np.abs(kernel), fc1_bias])
    layer = model.get_layer("attribute_logits")
    shape = layer.get_weights()[0].shape
    layer.set_weights(
        [
            0.01 * np.abs(rng.standard_normal(shape)).astype("float32"),
            np.asarray(bias, "float32"),
        ]
    )


class OneHotExplainer(Explainer):
    """Maps that are 1 at pixel `(2 + 3 t, 5 + 4 t)` for target `t`."""

    numpy_inputs = True

    def __init__(self, model):
        super().__init__(model, compile=False)

    def explain_batch(self, images, targets):
        maps = np.zeros(images.shape[:3], "float32")
        for k, target in enumerate(np.asarray(targets)):
            maps[k, 2 + 3 * target, 5 + 4 * target] = 1.0
        return maps


class TestMultitaskAttributeClassifier(TestCase):
    def test_heads_end_in_activations_over_reachable_logits(self):
        x, _, _ = _data(4)
        model = _model(hierarchy=HIERARCHY)
        outputs = model(x)
        assert set(outputs) == {"class", "attributes", "group"}
        assert outputs["attributes"].shape == (4, 3)
        assert outputs["group"].shape == (4, 2)
        for logits_name, output, activation in (
            ("class_logits", "class", keras.ops.softmax),
            ("attribute_logits", "attributes", keras.ops.sigmoid),
            ("group_logits", "group", keras.ops.softmax),
        ):
            logits = keras.Model(model.inputs[0], model.get_layer(logits_name).output)
            np.testing.assert_allclose(
                _numpy(activation(logits(x))), _numpy(outputs[output]), atol=1e-6
            )
        # One backbone: the heads read the same trunk.
        trunk = model.get_layer("fc1").output
        for name in ("class_logits", "attribute_logits", "group_logits"):
            assert model.get_layer(name).input is trunk
        assert model.attribute_logits_model.outputs[0].shape[-1] == 3

    @pytest.mark.multi_backend
    def test_fit_with_a_target_dict_then_reload(self, tmp_path):
        x, y, a = _data(16)
        model = _model(hierarchy=HIERARCHY, attribute_weight=0.5, group_weight=2.0)
        model.compile()
        before = model.get_layer("attribute_logits").get_weights()[0].copy()
        history = model.fit(
            x, {"class": y, "attributes": a}, epochs=1, batch_size=8, verbose=0
        )
        assert {"loss", "class_loss", "attributes_loss", "group_loss"} <= set(
            history.history
        )
        after = model.get_layer("attribute_logits").get_weights()[0]
        assert not np.allclose(before, after)
        # The group targets come from the classes; check the losses against
        # an independent computation on the trained model's outputs.
        outputs = {k: _numpy(v) for k, v in model(x).items()}
        groups = np.array(HIERARCHY["class_to_group"])[y]
        group_ce = -np.mean(np.log(outputs["group"][np.arange(16), groups]))
        class_ce = -np.mean(np.log(outputs["class"][np.arange(16), y]))
        p = np.clip(outputs["attributes"], 1e-7, 1 - 1e-7)
        attribute_bce = -np.mean(a * np.log(p) + (1 - a) * np.log(1 - p))
        # The compiled loss, group targets derived inside, with the weights.
        loss = model.compute_loss(
            x=x, y={"class": y, "attributes": a}, y_pred=model(x), training=False
        )
        np.testing.assert_allclose(
            _numpy(loss), class_ce + 0.5 * attribute_bce + 2.0 * group_ce, rtol=1e-4
        )

        path = str(tmp_path / "multitask.keras")
        model.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
        assert isinstance(restored, MultitaskAttributeClassifier)
        assert list(restored.attribute_names) == NAMES
        assert restored.hierarchy == HIERARCHY
        for key, value in restored(x).items():
            np.testing.assert_allclose(_numpy(value), outputs[key], atol=1e-6)

    @pytest.mark.multi_backend
    def test_round_trips(self, tmp_path):
        x, _, _ = _data(3)
        self.run_model_test(
            MultitaskAttributeClassifier,
            {
                "architecture": "lenet5",
                "image_shape": SHAPE,
                "num_classes": 4,
                "attribute_names": NAMES,
                "hidden_units": (8,),
                "hierarchy": HIERARCHY,
            },
            x,
            expected_output_shape={
                "class": (3, 4),
                "attributes": (3, 3),
                "group": (3, 2),
            },
            tmp_path=tmp_path,
        )

    def test_explains_only_attributes_predicted_present(self):
        x, _, _ = _data(3)
        model = _model()
        _set_attribute_head(model, bias=[4.0, -4.0, 2.0])
        probabilities = _numpy(model(x)["attributes"])
        assert np.all(probabilities[:, [0, 2]] > 0.5)
        assert np.all(probabilities[:, 1] < 0.5)
        results = model.explain_attributes(x)
        assert len(results) == 3
        # Independent: GradCAM on a hand-made images -> attribute logits model.
        logits_model = keras.Model(
            model.inputs[0], model.get_layer("attribute_logits").output
        )
        for image, entries in enumerate(results):
            assert [e.name for e in entries] == ["long bill", "striped wing"]
            for entry, attribute in zip(entries, (0, 2)):
                assert isinstance(entry, AttributeExplanation)
                assert entry.probability == pytest.approx(
                    probabilities[image, attribute], abs=1e-6
                )
                expected = GradCAM(logits_model, compile=False)(
                    x[image : image + 1], targets=[attribute]
                )[0]
                assert entry.cam.shape == (20, 20)
                np.testing.assert_allclose(entry.cam, expected, rtol=1e-4, atol=1e-6)
                com = center_of_mass(expected[None])[0] * 20 - 0.5
                np.testing.assert_allclose(entry.center, com, atol=1e-6)
        # The maps are not trivially empty.
        assert all(entry.cam.max() > 0 for entries in results for entry in entries)
        # A higher threshold leaves out "striped wing" (p ~ 0.88).
        strict = model.explain_attributes(x, threshold=0.95, compile=False)
        assert [[e.name for e in entries] for entries in strict] == [["long bill"]] * 3
        nothing = _model()
        _set_attribute_head(nothing, bias=[-5.0, -5.0, -5.0])
        assert nothing.explain_attributes(x) == [[], [], []]

    def test_center_of_mass_of_a_one_hot_map_is_its_pixel(self):
        x, _, _ = _data(2)
        model = _model()
        _set_attribute_head(model, bias=[3.0, 3.0, -3.0])
        results = model.explain_attributes(x, explainer=OneHotExplainer)
        for entries in results:
            for entry in entries:
                target = NAMES.index(entry.name)
                pixel = (2 + 3 * target, 5 + 4 * target)
                assert entry.cam[pixel] == 1.0 and entry.cam.sum() == 1.0
                np.testing.assert_allclose(entry.center, pixel, atol=1e-9)
                normalised = center_of_mass(entry.cam[None])[0]
                np.testing.assert_allclose(
                    normalised, (np.array(pixel) + 0.5) / 20, atol=1e-12
                )
            assert {e.name for e in entries} == {"long bill", "wingbars"}

    def test_explainer_by_name_and_bad_layers(self):
        x, _, _ = _data(2)
        model = _model()
        _set_attribute_head(model, bias=[3.0, 3.0, 3.0])
        by_name = model.explain_attributes(x, explainer="gradcam", compile=False)
        by_class = model.explain_attributes(x, explainer=GradCAM, compile=False)
        for a, b in zip(by_name[0], by_class[0]):
            np.testing.assert_allclose(a.cam, b.cam, atol=1e-6)
        # Feature-map resolution: the centre is still in input pixels.
        (coarse, *_), *_ = model.explain_attributes(
            x[:1], upsample=False, compile=False
        )
        assert coarse.cam.shape == (2, 2)
        expected = center_of_mass(coarse.cam[None])[0] * 20 - 0.5
        np.testing.assert_allclose(coarse.center, expected, atol=1e-9)
        with pytest.raises(ValueError, match="4-D"):
            model.explain_attributes(x, layer="fc1")  # no feature map there
        with pytest.raises(ValueError, match="layer"):
            model.explain_attributes(x, layer="no_such_layer")
        with pytest.raises(ValueError, match="explainer"):
            model.explain_attributes(x, explainer="no_such_method")
        with pytest.raises(ValueError, match="threshold"):
            model.explain_attributes(x, threshold=1.0)
        with pytest.raises(ValueError, match="images"):
            model.explain_attributes(np.zeros((2, 28, 28, 1)))

    @pytest.mark.parametrize(
        "names, message",
        [
            (None, "attribute_names"),
            ("wingbars", "attribute_names"),
            ([], "at least one"),
            (["a", ""], "non-empty"),
            (["a", 3], "non-empty strings"),
            (["a", "b", "a"], "unique"),
        ],
    )
    def test_bad_attribute_names(self, names, message):
        with pytest.raises(ValueError, match=message):
            _model(attribute_names=names)

    def test_attribute_targets_must_match_the_head(self):
        x, y, a = _data(8)
        model = _model()
        model.compile()
        with pytest.raises(ValueError, match="one column per attribute"):
            model.fit(x, {"class": y, "attributes": a[:, :2]}, epochs=1, verbose=0)
        with pytest.raises(ValueError, match="one column per attribute"):
            model.evaluate(x, {"class": y, "attributes": a[:, 0]}, verbose=0)

    @pytest.mark.parametrize(
        "hierarchy, message",
        [
            ({"group_names": ["a", "b"]}, "hierarchy"),
            ({"group_names": ["a"], "class_to_group": [0] * 4}, "at least two"),
            ({"group_names": ["a", "a"], "class_to_group": [0] * 4}, "unique"),
            ({"group_names": ["a", "b"], "class_to_group": [0, 1, 1]}, "4 classes"),
            (
                {"group_names": ["a", "b"], "class_to_group": [0, 1, 2, 0]},
                "in \\[0, 2\\)",
            ),
        ],
    )
    def test_bad_hierarchy(self, hierarchy, message):
        with pytest.raises(ValueError, match=message):
            _model(hierarchy=hierarchy)

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"attribute_weight": -1.0}, "attribute_weight"),
            ({"group_weight": "high"}, "group_weight"),
            ({"architecture": "alexnet"}, "architecture"),
        ],
    )
    def test_bad_options(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            _model(**kwargs)
