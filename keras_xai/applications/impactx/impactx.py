"""`IMPACTX`: a classifier that predicts its own explanation."""

import keras

from keras_xai.applications.guided_model import GuidedModel
from keras_xai.applications.image_classifier import ImageClassifier
from keras_xai.applications.preset_io import PresetMixin
from keras_xai.layers.explanation_decoder import ExplanationDecoder
from keras_xai.models.model_split import logits_tensor
from keras_xai.utils.validation import check_number, check_positive_int

_M_OUTPUTS = ("logits", "penultimate")


@keras.saving.register_keras_serializable(package="keras_xai")
class IMPACTX(PresetMixin, GuidedModel):
    """IMPACTX: a dual-branch model whose second branch learns explanations.

    Built from a stage-1 classifier `A = softmax(M(x))`:
    - `M`: the stage-1 classifier without its softmax (`m ∈ R^K`, or its
      penultimate features with `m_output="penultimate"`), frozen by
      default (two-stage training).
    - `LEP`: the same backbone with the dense head replaced by
      `Dense(latent_dim, sigmoid)`, initialised from the stage-1 weights.
    - `D`: `ExplanationDecoder`, `z` → `(H, W)` attribution map.
    - `C`: `concat(m, z)` → shallow dense network → softmax.

    Outputs `{"class": probabilities, "explanation": map}`. `compile()`
    defaults to `CE(class) + λ·MSE(explanation)` with
    `λ = explanation_weight`, so stage 2 is a plain
    `fit(x, {"class": y, "explanation": r})`.

    Args:
        classifier: `keras_xai.applications.ImageClassifier`. The stage-1
            classifier `A` (trained, for two-stage training).
        latent_dim: int. Size of `z`. Defaults to 512 (the paper).
        classifier_units: tuple of ints. Hidden layers of `C`. Defaults to
            `(256,)`.
        decoder_filters: tuple of ints. Filters of the decoder blocks.
            Defaults to `(64, 32, 16)`.
        decoder_blocks: int or `None`. Decoder upsampling blocks; `None`
            derives them from the input size (3 for 32×32, 4 for 96×96).
        explanation_weight: float. `λ` of the loss. Defaults to 1.0.
        m_output: str. `"logits"` (the paper) or `"penultimate"`.
        freeze_classifier: bool. Keep `M` frozen. Defaults to `True`.
        init_lep_from_classifier: bool. Copy the stage-1 backbone weights
            into `LEP`. Defaults to `True`.
        **kwargs: Standard `keras.Model` keyword arguments.

    Example:

    ```python
    model = keras_xai.applications.IMPACTX.from_preset("lenet5_fashion_mnist")
    model.compile()
    model.fit(x, {"class": y, "explanation": r}, epochs=5)
    outputs = model.predict(x_test)  # {"class": ..., "explanation": ...}
    ```

    Reference:
        Apicella, Giugliano, Isgrò, Prevete, "IMPACTX: Improving Model
        Performance by Appropriately predicting CorrecT eXplanations".
    """

    def __init__(
        self,
        classifier,
        latent_dim=512,
        classifier_units=(256,),
        decoder_filters=(64, 32, 16),
        decoder_blocks=None,
        explanation_weight=1.0,
        m_output="logits",
        freeze_classifier=True,
        init_lep_from_classifier=True,
        **kwargs,
    ):
        if not isinstance(classifier, ImageClassifier):
            raise ValueError(
                "`classifier` must be a keras_xai.applications.ImageClassifier. "
                f"Received: {type(classifier).__name__}"
            )
        latent_dim = check_positive_int(latent_dim, "latent_dim")
        classifier_units = tuple(
            check_positive_int(u, "classifier_units") for u in classifier_units
        )
        if m_output not in _M_OUTPUTS:
            raise ValueError(
                f"`m_output` must be one of {_M_OUTPUTS}. "
                f"Received: m_output={m_output!r}"
            )
        explanation_weight = check_number(
            explanation_weight, "explanation_weight", low=0.0
        )
        image_shape = tuple(classifier.image_shape)

        # === Layers ===
        logits = logits_tensor(classifier)
        m_tensor = logits if m_output == "logits" else _dense_input(logits)
        stage1 = keras.Model(classifier.input, m_tensor, name="M")
        stage1.trainable = not freeze_classifier
        lep_source = ImageClassifier.from_config(
            {**classifier.get_config(), "name": "lep_backbone"}
        )
        if init_lep_from_classifier:
            lep_source.set_weights(classifier.get_weights())
        pooled = lep_source.get_layer(
            "flatten" if classifier.pooling == "flatten" else "global_pool"
        ).output
        lep_features = keras.Model(lep_source.input, pooled, name="LEP_features")
        latent = keras.layers.Dense(latent_dim, activation="sigmoid", name="LEP_latent")
        decoder = ExplanationDecoder(
            image_shape[:2],
            filters=decoder_filters,
            num_blocks=decoder_blocks,
            name="explanation_decoder",
        )
        head = [
            keras.layers.Dense(units, activation="relu", name=f"C_dense{i + 1}")
            for i, units in enumerate(classifier_units)
        ]
        class_logits = keras.layers.Dense(classifier.num_classes, name="C_logits")

        # === Functional Model ===
        inputs = keras.Input(shape=image_shape, name="images")
        m = stage1(inputs)
        z = latent(lep_features(inputs))
        explanation = keras.layers.Identity(name="explanation", dtype="float32")(
            decoder(z)
        )
        x = keras.layers.Concatenate(name="C_concat")([m, z])
        for layer in head:
            x = layer(x)
        probabilities = keras.layers.Activation(
            "softmax", name="class", dtype="float32"
        )(class_logits(x))
        super().__init__(
            inputs=inputs,
            outputs={"class": probabilities, "explanation": explanation},
            **kwargs,
        )

        # === Config ===
        self.classifier = classifier
        self.latent_dim = latent_dim
        self.classifier_units = classifier_units
        self.decoder_filters = tuple(decoder_filters)
        self.decoder_blocks = decoder.num_blocks
        self.explanation_weight = explanation_weight
        self.m_output = m_output
        self.freeze_classifier = bool(freeze_classifier)
        self.init_lep_from_classifier = bool(init_lep_from_classifier)
        self.image_shape = image_shape
        self.num_classes = classifier.num_classes

    config_arguments = (
        "latent_dim",
        "classifier_units",
        "decoder_filters",
        "decoder_blocks",
        "explanation_weight",
        "m_output",
        "freeze_classifier",
        "init_lep_from_classifier",
    )

    def compile_defaults(self, arguments):
        """IMPACTX's loss `CE + λ·MSE` and class accuracy.

        `loss`: `{"class": SparseCategoricalCrossentropy, "explanation":
        MeanSquaredError}`; `loss_weights`: `{"class": 1, "explanation": λ}`;
        `metrics`: `{"class": ["accuracy"]}`. See
        `GuidedModel.compile_defaults`.
        """
        return {
            "loss": {
                "class": keras.losses.SparseCategoricalCrossentropy(),
                "explanation": keras.losses.MeanSquaredError(),
            },
            "loss_weights": {"class": 1.0, "explanation": self.explanation_weight},
            "metrics": {"class": ["accuracy"]},
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
        self._check_targets(y)
        return super().compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, **kwargs
        )

    def _check_targets(self, y):
        # Catch explanation targets that the decoder cannot produce before
        # they reach the loss as a broadcasting error deep in a backend
        # (also before `fit`/`evaluate` start, see `GuidedModel`).
        if isinstance(y, dict) and y.get("explanation") is not None:
            shape = tuple(y["explanation"].shape[1:])
            if shape != tuple(self.image_shape[:2]):
                raise ValueError(
                    "Explanation targets must be one (H, W) map per image with "
                    f"(H, W) = {tuple(self.image_shape[:2])}, the decoder's output. "
                    f"Received targets of per-image shape {shape}"
                )


def _dense_input(logits):
    """The input tensor of the layer that produced `logits` (penultimate)."""
    return logits._keras_history.operation.input
