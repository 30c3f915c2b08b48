"""`GuidedModel`: the base of the models trained with explanations."""

import keras

from keras_xai.applications.compile_config import CompileConfigMixin
from keras_xai.applications.image_classifier import ImageClassifier
from keras_xai.applications.nested_config import deserialize_classifier
from keras_xai.utils.validation import check_batch_for_devices


def is_auto(value):
    """Whether a compile argument was left at `"auto"` (never an array)."""
    return isinstance(value, str) and value == "auto"


class GuidedModel(CompileConfigMixin, keras.Model):
    """Base class of the models that wrap a classifier and explain it.

    In the spirit of keras-hub's `Task`: what `IMPACTX`, `ABN`,
    `ExplanationGuidedClassifier`, `ExplanationEnsemble` and
    `MultitaskAttributeClassifier` share lives here once:

    - `compile` with every argument defaulting to `"auto"`: Adam (learning
      rate 1e-3) and the loss, loss weights and metrics the subclass
      returns from `compile_defaults`;
    - `get_config` from `config_arguments`, the constructor arguments kept
      as attributes of the same name, after the wrapped classifier's
      config; `from_config` deserialises the classifier first;
    - `from_architecture`, the model around a fresh `ImageClassifier`;
    - `fit` and `evaluate` that check the targets first (`_check_targets`,
      a no-op unless overridden);
    - `compile_from_config` (see `CompileConfigMixin`), so a `.keras` file
      restores the compile arguments.

    A subclass sets `config_arguments`, implements `compile_defaults` and,
    if its `compile` takes other arguments, overrides `compile` and calls
    `resolve_compile_arguments`.

    Attributes:
        config_arguments: tuple of str. Constructor arguments saved by
            `get_config` (read from attributes of the same name).
    """

    config_arguments = ()

    def compile_defaults(self, arguments):
        """The values of the compile arguments left at `"auto"`.

        Args:
            arguments: dict. The compile arguments as passed, so that a
                default may depend on another argument (e.g. no loss
                weights with a custom loss).

        Returns:
            A dict with entries among `"loss"`, `"loss_weights"` and
            `"metrics"`; an argument without an entry becomes `None`.
        """
        return {}

    def resolve_compile_arguments(self, **arguments):
        """`arguments` with each `"auto"` replaced by its default.

        Args:
            **arguments: compile arguments (`optimizer`, `loss`, ...).

        Returns:
            A new dict: `optimizer="auto"` is `keras.optimizers.Adam(1e-3)`,
            the others come from `compile_defaults`.
        """
        auto = [name for name, value in arguments.items() if is_auto(value)]
        if not auto:
            return dict(arguments)
        defaults = self.compile_defaults(arguments)
        resolved = dict(arguments)
        for name in auto:
            if name == "optimizer":
                resolved[name] = keras.optimizers.Adam(1e-3)
            else:
                resolved[name] = defaults.get(name)
        return resolved

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        loss_weights="auto",
        metrics="auto",
        **kwargs,
    ):
        """Compiles with the model's own defaults for arguments left `"auto"`.

        Args:
            optimizer: `"auto"` (Adam, learning rate 1e-3) or any Keras
                optimizer.
            loss: `"auto"` (the model's loss, see its `compile_defaults`)
                or a Keras loss (dict).
            loss_weights: `"auto"` (the model's weights) or a dict.
            metrics: `"auto"` (the model's metrics) or Keras metrics.
            **kwargs: forwarded to `keras.Model.compile`.
        """
        super().compile(
            **self.resolve_compile_arguments(
                optimizer=optimizer,
                loss=loss,
                loss_weights=loss_weights,
                metrics=metrics,
            ),
            **kwargs,
        )

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit`, first checking the targets and the batches.

        `y` goes through the model's target check (see `evaluate`). Under
        a Keras distribution (`DataParallel`), every batch of in-memory
        `x`, the epoch's last one included, must split evenly over the
        devices (`check_batch_for_devices`); otherwise one `ValueError`
        says so before training starts.
        """
        self._check_targets(y)
        batch_size = args[0] if args else kwargs.get("batch_size")
        check_batch_for_devices(x, batch_size, kwargs.get("validation_split", 0.0))
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.evaluate`, first checking the targets.

        A subclass that validates its targets (label shapes, explanation
        sizes, ...) does it before any step runs, so a bad `y` is one
        `ValueError` and not a backend error inside the step.
        """
        self._check_targets(y)
        return super().evaluate(x, y, *args, **kwargs)

    def _check_targets(self, y):
        """Checks `y` before `fit` and `evaluate` start (default: nothing).

        Subclasses override it to check in-memory targets: an error raised
        inside a JAX train step would leave the model's variables detached
        (Keras purges them during the epoch).
        """

    def classifier_config(self):
        """The serialised wrapped classifier, the first entry of the config."""
        return keras.saving.serialize_keras_object(self.classifier)

    def get_config(self):
        return {
            "classifier": self.classifier_config(),
            **{name: getattr(self, name) for name in self.config_arguments},
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_classifier(config))

    @classmethod
    def from_architecture(
        cls, architecture, image_shape, num_classes, weights=None, **kwargs
    ):
        """Builds the model around a fresh, untrained `ImageClassifier`.

        Args:
            architecture: str. An `ImageClassifier` architecture.
            image_shape: tuple `(H, W, C)`.
            num_classes: int.
            weights: backbone weights of the classifier (see
                `ImageClassifier`). Defaults to `None`.
            **kwargs: the model's other constructor arguments.

        Returns:
            A model of this class.

        Example:

        ```python
        model = keras_xai.applications.ABN.from_architecture(
            "lenet5", (28, 28, 1), 10
        )
        ```
        """
        classifier = ImageClassifier(
            architecture, image_shape, num_classes, weights=weights
        )
        return cls(classifier, **kwargs)
