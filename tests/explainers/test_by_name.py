import pytest

from keras_xai.explainers import GradCAM, PartitionSHAP
from keras_xai.explainers.by_name import EXPLAINERS, get_explainer


def test_names_map_to_classes():
    assert get_explainer("gradcam") is GradCAM
    assert get_explainer("SHAP") is PartitionSHAP
    assert len(set(EXPLAINERS.values())) == len(EXPLAINERS)


def test_unknown_name():
    with pytest.raises(ValueError, match="`explainer` must be one of"):
        get_explainer("gradcam2")


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
