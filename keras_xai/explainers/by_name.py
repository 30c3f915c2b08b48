"""Explainer classes by the short names scripts and the command line use."""

from keras_xai.explainers.cam import (
    AblationCAM,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    ScoreCAM,
    XGradCAM,
)
from keras_xai.explainers.gradients import (
    GradientSHAP,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from keras_xai.explainers.lime import LIME
from keras_xai.explainers.lrp import LRP
from keras_xai.explainers.occlusion import Occlusion
from keras_xai.explainers.partition_shap import PartitionSHAP

EXPLAINERS = {
    "gradcam": GradCAM,
    "gradcam++": GradCAMPlusPlus,
    "xgradcam": XGradCAM,
    "eigencam": EigenCAM,
    "ablationcam": AblationCAM,
    "scorecam": ScoreCAM,
    "saliency": Saliency,
    "input_x_gradient": InputXGradient,
    "integrated_gradients": IntegratedGradients,
    "smoothgrad": SmoothGrad,
    "gradient_shap": GradientSHAP,
    "shap": PartitionSHAP,
    "lime": LIME,
    "lrp": LRP,
    "occlusion": Occlusion,
}


def get_explainer(name):
    """Returns the explainer class called `name` (see `EXPLAINERS`).

    Args:
        name: str. A key of `EXPLAINERS`, case-insensitive (`"gradcam"`,
            `"shap"` for PartitionSHAP, ...).

    Returns:
        An `Explainer` subclass.
    """
    key = str(name).lower()
    if key not in EXPLAINERS:
        raise ValueError(
            f"`explainer` must be one of {sorted(EXPLAINERS)}. Received: {name!r}"
        )
    return EXPLAINERS[key]
