import pytest

from keras_xai import explainers
from keras_xai.explainers import CAMExplainer, Explainer, GradCAM, PartitionSHAP
from keras_xai.explainers.by_name import (
    EXPLAINERS,
    cam_explainer_names,
    get_explainer,
)


def _exported_explainers():
    exported = (getattr(explainers, name) for name in explainers.__all__)
    return [
        cls
        for cls in exported
        if isinstance(cls, type) and issubclass(cls, Explainer) and cls.name
    ]


def test_names_map_to_classes():
    assert get_explainer("gradcam") is GradCAM
    assert get_explainer("SHAP") is PartitionSHAP
    assert all(name == cls.name for name, cls in EXPLAINERS.items())


def test_every_exported_explainer_is_registered_under_a_unique_name():
    exported = _exported_explainers()
    names = [cls.name for cls in exported]
    assert len(set(names)) == len(names), sorted(names)
    assert EXPLAINERS == {cls.name: cls for cls in exported}
    # The names scripts, caches and stored results already use.
    assert set(EXPLAINERS) == {
        "ablationcam",
        "eigencam",
        "gradcam",
        "gradcam++",
        "gradient_shap",
        "guided_backprop",
        "guided_gradcam",
        "input_x_gradient",
        "integrated_gradients",
        "lime",
        "lrp",
        "occlusion",
        "saliency",
        "scorecam",
        "shap",
        "smoothgrad",
        "xgradcam",
    }


def test_cam_names_are_the_cam_explainer_subclasses():
    cams = {cls.name for cls in _exported_explainers() if issubclass(cls, CAMExplainer)}
    assert set(cam_explainer_names()) == cams
    assert len(cam_explainer_names()) == len(cams)
    assert cams == {
        "ablationcam",
        "eigencam",
        "gradcam",
        "gradcam++",
        "scorecam",
        "xgradcam",
    }


def test_unknown_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="`explainer` must be one of") as info:
        get_explainer("gradcam2")
    message = str(info.value)
    assert "Received: explainer='gradcam2'" in message
    assert all(repr(name) in message for name in EXPLAINERS)


def test_cache_builds_once_per_model_and_options():
    from keras_xai.applications import ImageClassifier
    from keras_xai.explainers.by_name import ExplainerCache, build_explainer

    first = ImageClassifier("lenet5", (20, 20, 1), 3, hidden_units=(4,))
    second = ImageClassifier("lenet5", (20, 20, 1), 3, hidden_units=(4,))
    cache = ExplainerCache()
    explainer = cache.get("gradcam", first)
    assert isinstance(explainer, GradCAM)
    assert cache.get(GradCAM, first) is explainer
    assert cache.get("gradcam", second) is not explainer
    assert cache.get("gradcam", first, upsample=False) is not explainer
    with pytest.raises(ValueError, match="must build a callable"):
        build_explainer(lambda model: 3, first)
    with pytest.raises(ValueError, match="`explainer` must be an Explainer class"):
        cache.get(3, first)
