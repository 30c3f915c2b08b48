"""Attribution methods: `Method(model, **options)(images, targets) -> maps`."""

from keras_xai.explainers.base import Explainer
from keras_xai.explainers.cam import GradCAM, grad_cam

__all__ = ["Explainer", "GradCAM", "grad_cam"]
