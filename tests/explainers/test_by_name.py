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
