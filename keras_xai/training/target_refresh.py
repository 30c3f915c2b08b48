"""`TargetRefresh`: recomputes attribution targets every k epochs."""

import keras

from keras_xai.training.attribution_targets import check_scaling, scale_maps
from keras_xai.utils.validation import check_positive_int


class TargetRefresh(keras.callbacks.Callback):
    """Single-stage IMPACTX: refresh the explanation targets during `fit`.

    At the end of every `every`-th epoch, `explainer_factory(model)` builds
    an explainer of the model being trained (for IMPACTX, of its inner
    classifier `A = softmax(M(x))`), explains every training image for its
    true class, scales the maps and hands them to the dataset.

    Args:
        dataset: `ExplanationTargetsDataset` feeding `fit`.
        explainer_factory: callable `model -> Explainer`.
        every: int. Epoch interval. Defaults to 1.
        scaling: str. See `scale_maps`. Defaults to `"max_abs"`.

    Example:

    ```python
    refresh = TargetRefresh(data, lambda m: GradCAM(m.classifier), every=2)
    impactx.fit(data, epochs=10, callbacks=[refresh])
    ```
    """

    def __init__(self, dataset, explainer_factory, every=1, scaling="max_abs"):
        super().__init__()
        if not callable(explainer_factory):
            raise ValueError(
                "`explainer_factory` must be a callable model -> explainer. "
                f"Received: {explainer_factory!r}"
            )
        self.dataset = dataset
        self.explainer_factory = explainer_factory
        self.every = check_positive_int(every, "every")
        self.scaling = check_scaling(scaling)
        self.refreshes = 0
        self._explainer = None

    def on_train_begin(self, logs=None):
        self._explainer = self.explainer_factory(self.model)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        maps = self._explainer(self.dataset.x, targets=self.dataset.y)
        self.dataset.set_targets(scale_maps(maps, self.scaling))
        self.refreshes += 1
