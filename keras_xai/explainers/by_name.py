"""The one registry of explainers by short name (`Explainer.name`).

Every method exported from `keras_xai.explainers` declares its short name as
the class attribute `name`; `EXPLAINERS` is read from those exports, so a new
method registers itself by being exported. The command line, the training
callbacks, caches, scripts and tests all read this registry.
"""

# The package is fully imported before this module runs (its `__init__`
# never imports `by_name`), so its exports can be read here.
import keras_xai.explainers as explainers
from keras_xai.explainers.base import Explainer
from keras_xai.explainers.cam import CAMExplainer


def _registered_explainers():
    """`{name: class}` of the exported `Explainer` classes with a `name`."""
    registry = {}
    for export in explainers.__all__:
        cls = getattr(explainers, export)
        if not (isinstance(cls, type) and issubclass(cls, Explainer)):
            continue
        if cls.name is None:
            continue  # a base class such as `CAMExplainer`
        if cls.name in registry:
            raise ValueError(
                f"Explainer names must be unique, but {cls.__name__} and "
                f"{registry[cls.name].__name__} are both named {cls.name!r}"
            )
        registry[cls.name] = cls
    return dict(sorted(registry.items()))


EXPLAINERS = _registered_explainers()


def cam_explainer_names():
    """Names of the CAM methods: the registered `CAMExplainer` subclasses.

    Their maps are non-negative weighted sums of one layer's feature maps,
    so they need a 4-D layer and can be min-max scaled to a [0, 1] mask.

    Returns:
        Tuple of str, sorted.
    """
    return tuple(
        name for name, cls in EXPLAINERS.items() if issubclass(cls, CAMExplainer)
    )


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
            f"`explainer` must be one of {sorted(EXPLAINERS)}. "
            f"Received: explainer={name!r}"
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
