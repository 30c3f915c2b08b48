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


def explainer_factory(explainer):
    """Resolves a name, an `Explainer` class or a factory to a factory.

    Args:
        explainer: str (a key of `EXPLAINERS`), an `Explainer` subclass, or
            a callable `model, **options -> explainer`.

    Returns:
        A callable `model, **options -> explainer`.
    """
    factory = get_explainer(explainer) if isinstance(explainer, str) else explainer
    if not callable(factory):
        raise ValueError(
            "`explainer` must be an Explainer class, a callable "
            f"model -> explainer or an explainer name. Received: {explainer!r}"
        )
    return factory


def build_explainer(explainer, model, **options):
    """`explainer` (name, class or factory) built on `model` with `options`.

    Returns:
        A callable `(images, targets) -> maps`.
    """
    instance = explainer_factory(explainer)(model, **options)
    if not callable(instance):
        raise ValueError(
            "`explainer` must build a callable `(images, targets) -> maps`. "
            f"Received: {type(instance).__name__}"
        )
    return instance


class ExplainerCache:
    """Built explainers kept per (explainer, model, options).

    Explainers compile their batch function once; a model that explains
    itself repeatedly (ensembles, multitask heads) keeps them here. A plain
    Python holder, so Keras neither tracks nor saves what it holds.
    """

    def __init__(self):
        self.items = {}

    def get(self, explainer, model, **options):
        """The cached explainer, built with `build_explainer` on first use."""
        factory = explainer_factory(explainer)
        try:
            key = (factory, id(model), tuple(sorted(options.items())))
            hash(key)
        except TypeError:  # unhashable options: build afresh, do not cache
            return build_explainer(factory, model, **options)
        if key not in self.items:
            self.items[key] = build_explainer(factory, model, **options)
        return self.items[key]
