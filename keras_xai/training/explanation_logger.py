"""`ExplanationLogger`: explanations of chosen images written during `fit`."""

import os

import keras
import numpy as np

from keras_xai.backend.tensorboard import write_image_summary
from keras_xai.explainers.base import Explainer
from keras_xai.utils.validation import check_images, check_positive_int
from keras_xai.visualization import explanation_figure


class ExplanationLogger(keras.callbacks.Callback):
    """Writes explanations of fixed images every `every` epochs.

    What tf-explain's callbacks offered, on every backend: at the end of
    every `every`-th epoch the images are explained with the current
    weights and saved as a PNG grid (image, map, overlay) named
    `explanations_epoch_XXXX.png` in `log_dir`; with TensorFlow installed
    the grid also goes to TensorBoard under `explanations`.

    Args:
        images: array `(B, H, W, C)` in `[0, 1]`. The images to follow.
        log_dir: str. Output directory (created if needed).
        explainer: an `Explainer` subclass, or a callable taking the model
            and returning an explainer. Defaults to `GradCAM`.
        targets: array of ints `(B,)` or `None` (the predicted classes at
            each epoch). Defaults to `None`.
        every: int. Epoch interval. Defaults to 1.
        class_names: sequence of str or `None`. Used in row labels.
        tensorboard: bool. Also write a TensorBoard image summary when
            TensorFlow is installed. Defaults to `True`.

    Example:

    ```python
    logger = ExplanationLogger(x_val[:8], "logs/explanations", targets=y_val[:8])
    model.fit(x, y, epochs=5, callbacks=[logger])
    ```
    """

    def __init__(
        self,
        images,
        log_dir,
        explainer=None,
        targets=None,
        every=1,
        class_names=None,
        tensorboard=True,
    ):
        super().__init__()
        self.images = check_images(images)
        self.targets = None if targets is None else np.asarray(targets)
        self.log_dir = str(log_dir)
        self.every = check_positive_int(every, "every")
        if explainer is None:
            from keras_xai.explainers.cam import GradCAM

            explainer = GradCAM
        if not callable(explainer):
            raise ValueError(
                "`explainer` must be an Explainer subclass or a callable "
                f"model -> explainer. Received: explainer={explainer!r}"
            )
        self.explainer = explainer
        self.class_names = class_names
        self.tensorboard = bool(tensorboard)
        self.written = []
        self._explainer = None

    def on_train_begin(self, logs=None):
        # Built once per fit on the model being trained; compiled functions
        # read the current weights at every call.
        explainer = self.explainer(self.model)
        if not isinstance(explainer, Explainer):
            raise ValueError(
                "`explainer` must build a keras_xai Explainer. Received: "
                f"{type(explainer).__name__}"
            )
        self._explainer = explainer

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        predictions = self._explainer.predict_classes(self.images)
        targets = predictions if self.targets is None else self.targets
        maps = self._explainer(self.images, targets=targets)
        path = os.path.join(self.log_dir, f"explanations_epoch_{epoch + 1:04d}.png")
        explanation_figure(
            self.images,
            maps,
            path,
            labels=self.targets,
            predictions=predictions,
            class_names=self.class_names,
        )
        self.written.append(path)
        if self.tensorboard:
            grid = keras.utils.load_img(path)
            write_image_summary(
                self.log_dir,
                "explanations",
                np.asarray(grid, dtype="float32") / 255.0,
                step=epoch + 1,
            )
