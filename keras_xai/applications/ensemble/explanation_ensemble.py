"""`ExplanationEnsemble`: N classifiers whose explanations are averaged."""

import keras
import numpy as np

from keras_xai.applications.guided_model import GuidedModel
from keras_xai.applications.image_classifier import ImageClassifier
from keras_xai.backend import no_grad
from keras_xai.explainers.by_name import ExplainerCache
from keras_xai.explainers.cam import GradCAM
from keras_xai.utils.validation import (
    check_batch_for_devices,
    check_images,
    check_labels,
    check_positive_int,
    to_numpy,
)

STRATEGIES = ("random_heads", "kfold", "bagging")


def member_indices(strategy, num_members, num_samples, seed=0):
    """The training-set indices of every member of an ensemble.

    - `"random_heads"`: every member sees all the data, `arange(n)`.
    - `"kfold"` (leave one bucket out): the samples are shuffled with `seed`
      and split into `num_members` buckets whose sizes differ by at most
      one; member `i` trains on every bucket but bucket `i` (sorted).
    - `"bagging"`: member `i` draws `n` indices uniformly with replacement
      from its own generator, seeded by `(seed, i)`, so some samples repeat
      and about a third are left out.

    Args:
        strategy: str. One of `"random_heads"`, `"kfold"`, `"bagging"`.
        num_members: int. Number of members, >= 2.
        num_samples: int. Size `n` of the training set (>= `num_members`
            for `"kfold"`, so no bucket is empty).
        seed: int. Seed of the shuffling and sampling. Defaults to `0`.

    Returns:
        A list of `num_members` int64 numpy arrays of indices into the
        training set.

    Example:

    ```python
    folds = member_indices("kfold", 5, len(x_train), seed=0)
    held_out = np.setdiff1d(np.arange(len(x_train)), folds[0])  # bucket 0
    ```

    Reference:
        Pazzani et al., "Improving Explanations of Image Classifiers:
        Ensembles and Multitask Learning", Sec. 3.1.
    """
    strategy = _check_strategy(strategy)
    num_members = _check_num_members(num_members)
    num_samples = check_positive_int(num_samples, "num_samples")
    seed = check_positive_int(seed, "seed", minimum=0)
    if strategy == "random_heads":
        return [np.arange(num_samples, dtype="int64") for _ in range(num_members)]
    if strategy == "kfold":
        if num_samples < num_members:
            raise ValueError(
                "`kfold` needs at least one sample per bucket: `num_samples` "
                f"must be >= num_members={num_members}. "
                f"Received: num_samples={num_samples}"
            )
        order = np.random.default_rng(seed).permutation(num_samples)
        buckets = np.array_split(order, num_members)
        return [
            np.sort(np.concatenate(buckets[:i] + buckets[i + 1 :])).astype("int64")
            for i in range(num_members)
        ]
    return [
        np.random.default_rng([seed, i])
        .integers(0, num_samples, size=num_samples)
        .astype("int64")
        for i in range(num_members)
    ]


class EnsembleHistory(keras.callbacks.History):
    """What `ExplanationEnsemble.fit` returns: a Keras `History` whose
    metrics are the members', prefixed.

    `history` holds `"member_<i>_<metric>"` per-epoch lists (e.g.
    `"member_0_loss"`, `"member_1_val_accuracy"`), `epoch` the epochs the
    members trained (the same for every member), `model` the ensemble; each
    member's own `History` stays in `members`.

    Attributes:
        members: list of `keras.callbacks.History`, one per member in order.
    """

    def __init__(self, members, model=None):
        super().__init__()
        self.members = list(members)
        self.epoch = list(self.members[0].epoch) if self.members else []
        self.history = {
            f"member_{index}_{name}": list(values)
            for index, member in enumerate(self.members)
            for name, values in member.history.items()
        }
        self.params = dict(getattr(self.members[0], "params", None) or {})
        if model is not None:
            self.set_model(model)

    def __repr__(self):
        return f"EnsembleHistory({len(self.members)} members)"


@keras.saving.register_keras_serializable(package="keras_xai")
class ExplanationEnsemble(GuidedModel):
    """An ensemble of classifiers that predicts and explains by averaging.

    Holds `num_members` copies of one `ImageClassifier` architecture (the
    sub-models `member_0`, `member_1`, ...) and outputs the mean of their
    class probabilities. `explain` averages the members' attribution maps
    pixel by pixel (Eq. 1 of the paper), all members explaining the same
    targets (by default the ensemble's predicted class). The members differ
    by `strategy`:

    - `"random_heads"` (the paper's "different random weights"): every
      member starts from the same base network (the backbone weights of
      `classifier`, e.g. ImageNet weights or one random draw) and its
      classification head (the dense layers after the CAM feature map) is
      re-initialised with a seed derived from `(seed, member index)`; all
      members see all the training data.
    - `"kfold"` (leave one bucket out): the data are split into
      `num_members` buckets and member `i` trains on all buckets but `i`.
    - `"bagging"`: member `i` trains on a bootstrap sample (size `n`, with
      replacement, seeded).

    For `"kfold"` and `"bagging"` every member starts as an identical copy
    of `classifier` (weights included): the training data are what makes
    them differ, as in the paper. `member_indices(n)` gives the index sets.

    Training differs from `keras.Model.fit`: `fit` trains the members one
    after another, each with its own optimizer (a copy of the one given to
    `compile`) on its own index subset, and returns an `EnsembleHistory`.
    `compile` compiles every member and the ensemble itself (so `evaluate`
    scores the mean probabilities). A `.keras` file holds every member's
    weights and optimizer state, so a reloaded ensemble trains on.

    Args:
        classifier: `keras_xai.applications.ImageClassifier`. The template:
            its configuration is every member's, its weights are every
            member's starting point (the shared base).
        num_members: int. Number of members `N >= 2`. Defaults to `5`.
        strategy: str. `"random_heads"`, `"kfold"` or `"bagging"`. Defaults
            to `"random_heads"`.
        seed: int. Seed of the head initialisation (`"random_heads"`), the
            buckets (`"kfold"`) and the bootstrap samples (`"bagging"`).
            Keras's own per-epoch shuffling in `fit` follows
            `keras.utils.set_random_seed`. Defaults to `0`.
        **kwargs: Standard `keras.Model` keyword arguments.

    Example:

    ```python
    template = keras_xai.applications.ImageClassifier("lenet5", (28, 28, 1), 10)
    ensemble = ExplanationEnsemble(template, num_members=5, strategy="bagging")
    ensemble.compile()
    ensemble.fit(x_train, y_train, epochs=3, batch_size=64)
    probabilities = ensemble.predict(x_test)
    maps = ensemble.explain(x_test[:8])  # (8, 28, 28), GradCAM averaged
    ```

    Reference:
        Pazzani et al., "Improving Explanations of Image Classifiers:
        Ensembles and Multitask Learning", Sec. 3.1 and Eq. 1.
    """

    # The ensemble's own optimizer never steps (members train with their
    # copies): it is not built and no state is expected from a file.
    build_optimizer_on_load = False

    def __init__(
        self,
        classifier,
        num_members=5,
        strategy="random_heads",
        seed=0,
        **kwargs,
    ):
        if not isinstance(classifier, ImageClassifier):
            raise ValueError(
                "`classifier` must be a keras_xai.applications.ImageClassifier. "
                f"Received: {type(classifier).__name__}"
            )
        num_members = _check_num_members(num_members)
        strategy = _check_strategy(strategy)
        seed = check_positive_int(seed, "seed", minimum=0)
        template = classifier.get_config()
        weights = classifier.get_weights()

        # === Layers ===
        members = []
        for index in range(num_members):
            member = ImageClassifier.from_config(
                {**template, "name": f"member_{index}"}
            )
            member.set_weights(weights)
            if strategy == "random_heads":
                _reinitialize_head(member, [seed, index])
            members.append(member)

        # === Functional Model ===
        inputs = keras.Input(shape=classifier.image_shape, name="images")
        probabilities = keras.layers.Average(name="probabilities", dtype="float32")(
            [member(inputs) for member in members]
        )
        super().__init__(inputs=inputs, outputs=probabilities, **kwargs)

        # === Config ===
        self.members = members
        self.num_members = num_members
        self.strategy = strategy
        self.seed = seed
        self.image_shape = tuple(classifier.image_shape)
        self.num_classes = classifier.num_classes
        # Set past Keras's attribute tracking: neither the template's config
        # nor cached explainers (which hold sub-models) belong in the saved
        # model's state. A compiled template's compile arguments are not
        # part of the ensemble's configuration.
        serialized = keras.saving.serialize_keras_object(classifier)
        serialized.pop("compile_config", None)
        object.__setattr__(self, "_classifier_config", serialized)
        object.__setattr__(self, "_explainers", ExplainerCache())

    def member_indices(self, num_samples, seed=None):
        """Training-set indices of each member (see `member_indices`).

        Args:
            num_samples: int. Size `n` of the training set.
            seed: int or `None`. `None` uses the ensemble's `seed`.
                Defaults to `None`.

        Returns:
            A list of `num_members` int64 arrays of indices.
        """
        return member_indices(
            self.strategy,
            self.num_members,
            num_samples,
            self.seed if seed is None else seed,
        )

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Compiles every member (own optimizer copies) and the ensemble.

        Args:
            optimizer: `"auto"` (Adam, learning rate 1e-3) or a Keras
                optimizer (name or instance); each member gets a fresh copy.
            loss: `"auto"` (`SparseCategoricalCrossentropy` on
                probabilities) or a Keras loss.
            metrics: `"auto"` (`["accuracy"]`) or Keras metrics; each member
                gets fresh copies.
            **kwargs: forwarded to every `keras.Model.compile`.
        """
        arguments = self.resolve_compile_arguments(
            optimizer=optimizer, loss=loss, metrics=metrics
        )
        optimizer, loss, metrics = (
            arguments["optimizer"],
            arguments["loss"],
            arguments["metrics"],
        )
        for member in self.members:
            member.compile(
                optimizer=_fresh_copy(optimizer),
                loss=_fresh_copy(loss),
                metrics=_fresh_copy(metrics),
                **kwargs,
            )
            # Built now so that its state is saved and restored with the
            # ensemble whether or not the member has trained yet.
            member.optimizer.build(member.trainable_variables)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_defaults(self, arguments):
        """Cross-entropy on the averaged probabilities and accuracy."""
        return {
            "loss": keras.losses.SparseCategoricalCrossentropy(),
            "metrics": ["accuracy"],
        }

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_data=None,
        shuffle=True,
        sample_weight=None,
        initial_epoch=0,
    ):
        """Trains the members one after another, each on its index set.

        A subset of `keras.Model.fit`'s arguments, applied to every
        member's `fit`. Unlike Keras's `fit`, `x` and `y` must be in-memory
        arrays (each member trains on its own rows of them), the members
        train sequentially (one Keras progress bar per member, headed
        "Member i/N"), and the result is an `EnsembleHistory`: a Keras
        `History` of every member's metrics, prefixed `member_<i>_`.
        `callbacks` are passed to every member's `fit` in turn;
        `validation_data` is used unchanged by every member.

        Args:
            x: array-like `(n, H, W, C)`. Training images.
            y: array-like `(n,)` or `(n, K)`. Training targets.
            batch_size: int or `None`. Defaults to `None` (Keras's 32).
            epochs: int. Epochs per member. Defaults to `1`.
            verbose: `"auto"`, 0, 1 or 2, as in Keras. Defaults to `"auto"`.
            callbacks: list of `keras.callbacks.Callback` or `None`.
            validation_data: tuple `(x_val, y_val)` or `None`.
            shuffle: bool. Shuffle each member's samples every epoch.
                Defaults to `True`.
            sample_weight: array-like `(n,)` or `None`. Per-sample weights,
                indexed like `x`.
            initial_epoch: int. Defaults to `0`.

        Returns:
            An `EnsembleHistory`, a `keras.callbacks.History` with the
            members' metrics prefixed (`.history["member_0_loss"]`, ...)
            and each member's `History` in `.members`.
        """
        if not getattr(self, "compiled", False):
            raise ValueError(
                "The ensemble must be compiled before `fit`: call "
                "`ensemble.compile()` (it compiles every member)."
            )
        x = check_images(x, "x", expected_shape=self.image_shape)
        num_samples = x.shape[0]
        y = _check_rows(y, "y", num_samples)
        if sample_weight is not None:
            sample_weight = _check_rows(sample_weight, "sample_weight", num_samples)
        every_row = self.strategy == "random_heads"
        member_rows = self.member_indices(num_samples)
        for rows in member_rows:  # before any member trains
            check_batch_for_devices(x if every_row else x[rows], batch_size)
        histories = []
        for index, (member, rows) in enumerate(zip(self.members, member_rows)):
            if verbose != 0:
                print(
                    f"Member {index + 1}/{self.num_members} "
                    f"({self.strategy}, {rows.size} samples)",
                    flush=True,
                )
            histories.append(
                member.fit(
                    x if every_row else x[rows],
                    y if every_row else y[rows],
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=verbose,
                    callbacks=callbacks,
                    validation_data=validation_data,
                    shuffle=shuffle,
                    sample_weight=(
                        sample_weight
                        if sample_weight is None or every_row
                        else sample_weight[rows]
                    ),
                    initial_epoch=initial_epoch,
                )
            )
        return EnsembleHistory(histories, model=self)

    def predict_classes(self, images, batch_size=32):
        """The ensemble's predicted class (argmax of the mean probability).

        Args:
            images: array-like `(B, H, W, C)`.
            batch_size: int. Defaults to `32`.

        Returns:
            int32 numpy array `(B,)`.
        """
        images = check_images(images, expected_shape=self.image_shape)
        batch_size = check_positive_int(batch_size, "batch_size")
        with no_grad():
            classes = [
                np.argmax(
                    to_numpy(self(images[i : i + batch_size], training=False)), -1
                )
                for i in range(0, images.shape[0], batch_size)
            ]
        return np.concatenate(classes).astype("int32")

    def explain_members(self, images, explainer=GradCAM, targets=None, **options):
        """Every member's attribution maps for the same targets.

        Args:
            images: array-like `(B, H, W, C)`, pixels in `[0, 1]`.
            explainer: an `Explainer` class (`GradCAM`, `IntegratedGradients`,
                ...), a callable `model -> explainer`, or a name known to
                `keras_xai.explainers.by_name.get_explainer` (`"gradcam"`,
                `"lime"`, ...). Defaults to `GradCAM`.
            targets: array-like of ints `(B,)` or `None`. Classes to
                explain; `None` uses the ensemble's predicted classes (the
                same for every member). Defaults to `None`.
            **options: keyword arguments of the explainer's constructor
                (`layer=`, `upsample=`, `seed=`, ...).

        Returns:
            float32 numpy array `(N, B, H, W)`, member by member.
        """
        images = check_images(images, expected_shape=self.image_shape)
        if targets is None:
            targets = self.predict_classes(images)
        targets = check_labels(
            targets, self.num_classes, name="targets", length=images.shape[0]
        )
        maps = [
            to_numpy(explain(images, targets))
            for explain in self._member_explainers(explainer, options)
        ]
        return np.stack(maps).astype("float32")

    def explain(self, images, explainer=GradCAM, targets=None, **options):
        """The ensemble explanation: the pixel-wise mean of member maps.

        `score_ens(i, j) = (1 / N) Σ_k score_k(i, j)` (Eq. 1), every member
        explaining the same targets.

        Args:
            images: array-like `(B, H, W, C)`, pixels in `[0, 1]`.
            explainer: as in `explain_members`. Defaults to `GradCAM`.
            targets: array-like of ints `(B,)` or `None` (the ensemble's
                predicted classes). Defaults to `None`.
            **options: keyword arguments of the explainer's constructor.

        Returns:
            float32 numpy array `(B, H, W)`.

        Reference:
            Pazzani et al., "Improving Explanations of Image Classifiers:
            Ensembles and Multitask Learning", Eq. 1.
        """
        maps = self.explain_members(images, explainer, targets, **options)
        return maps.mean(axis=0, dtype="float64").astype("float32")

    def _member_explainers(self, explainer, options):
        """One explainer per member, cached per (explainer, options)."""
        return [
            self._explainers.get(explainer, member, **options)
            for member in self.members
        ]

    config_arguments = ("num_members", "strategy", "seed")

    def classifier_config(self):
        """The config of the classifier the members were cloned from."""
        return self._classifier_config


def _reinitialize_head(member, seed):
    """Re-draws the head's weights (layers after the CAM feature map).

    Each variable is drawn from its layer's own initializer, seeded from
    `seed`, so the result depends on `seed` alone.
    """
    rng = np.random.default_rng(seed)
    for layer in member.split().head.layers:
        if not layer.weights:
            continue
        for name in ("kernel", "bias"):
            variable = getattr(layer, name, None)
            initializer = getattr(layer, f"{name}_initializer", None)
            if variable is None:
                continue
            if initializer is None:
                raise ValueError(
                    f"Cannot re-initialise head layer {layer.name!r} "
                    f"({type(layer).__name__}): it has no {name}_initializer"
                )
            config = initializer.get_config()
            if "seed" in config:
                config["seed"] = int(rng.integers(0, 2**31 - 1))
            fresh = type(initializer).from_config(config)
            variable.assign(fresh(tuple(variable.shape), dtype=variable.dtype))


def _check_strategy(strategy):
    if strategy not in STRATEGIES:
        raise ValueError(
            f"`strategy` must be one of {STRATEGIES}. Received: strategy={strategy!r}"
        )
    return strategy


def _check_num_members(num_members):
    if isinstance(num_members, bool) or not isinstance(num_members, (int, np.integer)):
        raise ValueError(
            "`num_members` must be an integer >= 2. "
            f"Received: num_members={num_members!r}"
        )
    if num_members < 2:
        raise ValueError(
            f"An ensemble needs `num_members` >= 2. Received: num_members={num_members}"
        )
    return int(num_members)


def _check_rows(values, name, num_samples):
    """`values` as a numpy array with one row per training image."""
    if values is None:
        raise ValueError(f"`{name}` is required. Received: {name}=None")
    array = to_numpy(values)
    if array.ndim == 0 or array.shape[0] != num_samples:
        raise ValueError(
            f"`{name}` must have one entry per image in `x` ({num_samples}). "
            f"Received: {name}.shape={array.shape}"
        )
    return array


def _fresh_copy(value):
    """A new instance of an optimizer/loss/metric (strings pass through)."""
    if value is None or isinstance(value, str) or not hasattr(value, "get_config"):
        if isinstance(value, (list, tuple)):
            return type(value)(_fresh_copy(v) for v in value)
        if isinstance(value, dict):
            return {k: _fresh_copy(v) for k, v in value.items()}
        return value
    return type(value).from_config(value.get_config())
