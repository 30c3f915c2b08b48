"""The 8 dihedral views of a square image batch, and their inverses.

The dihedral group of the square has 8 elements: the identity, three
rotations and four reflections. Explanation losses (segment overlap) explain
every view of an image and map each explanation back with the inverse
transform; `dihedral_views` stacks the views into one batch so they go
through the network in a single call.

Views are named and kept in this order (`DIHEDRAL_VIEWS`):

| index | name             | transform of `x[i, j]`        | inverse          |
|-------|------------------|-------------------------------|------------------|
| 0     | `identity`       | `x[i, j]`                     | `identity`       |
| 1     | `flip_lr`        | `x[i, W-1-j]`                 | `flip_lr`        |
| 2     | `flip_ud`        | `x[H-1-i, j]`                 | `flip_ud`        |
| 3     | `rot180`         | `x[H-1-i, W-1-j]`             | `rot180`         |
| 4     | `rot90`          | `numpy.rot90(x)` (anticlockwise) | `rot270`      |
| 5     | `rot270`         | `numpy.rot90(x, 3)`           | `rot90`          |
| 6     | `transpose`      | `x[j, i]`                     | `transpose`      |
| 7     | `anti_transpose` | `x[W-1-j, H-1-i]`             | `anti_transpose` |

An integer `views=n` takes the first `n` names. The order makes the first
1, 2 and 4 views subgroups (`{identity}`, `{identity, flip_lr}`, the four
flips): their CAMs can be pooled symmetrically, and they keep the image's
shape, so they work on non-square images; only views 5-8 swap height and
width and need square images.
"""

import keras
from keras import ops

DIHEDRAL_VIEWS = (
    "identity",
    "flip_lr",
    "flip_ud",
    "rot180",
    "rot90",
    "rot270",
    "transpose",
    "anti_transpose",
)

# Views that swap the two spatial axes: they need square images.
_SWAPS_AXES = frozenset({"rot90", "rot270", "transpose", "anti_transpose"})

_INVERSES = {
    "identity": "identity",
    "flip_lr": "flip_lr",
    "flip_ud": "flip_ud",
    "rot180": "rot180",
    "rot90": "rot270",
    "rot270": "rot90",
    "transpose": "transpose",
    "anti_transpose": "anti_transpose",
}


def resolve_views(views):
    """Returns the tuple of view names that `views` selects.

    Args:
        views: int in `[1, 8]` (the first `views` of `DIHEDRAL_VIEWS`) or a
            non-empty sequence of distinct names from `DIHEDRAL_VIEWS`.

    Returns:
        A tuple of view names.
    """
    if isinstance(views, str):
        views = (views,)
    if isinstance(views, bool):
        raise ValueError(
            f"`views` must be an int between 1 and 8 or a tuple of view names. "
            f"Received: views={views!r}"
        )
    if isinstance(views, int) or (
        hasattr(views, "__index__") and not hasattr(views, "__len__")
    ):
        if not 1 <= int(views) <= len(DIHEDRAL_VIEWS):
            raise ValueError(
                f"`views` must be between 1 and 8. Received: views={views!r}"
            )
        return DIHEDRAL_VIEWS[: int(views)]
    try:
        names = tuple(views)
    except TypeError:
        raise ValueError(
            "`views` must be an int between 1 and 8 or a tuple of view names "
            f"from {DIHEDRAL_VIEWS}. Received: views={views!r}"
        ) from None
    unknown = [name for name in names if name not in _INVERSES]
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(
            "`views` must be a non-empty tuple of distinct view names from "
            f"{DIHEDRAL_VIEWS}. Received: views={views!r}"
        )
    return names


def views_need_square(views):
    """Whether any selected view swaps height and width."""
    return any(name in _SWAPS_AXES for name in resolve_views(views))


def check_square(shape, views, name="images"):
    """Raises `ValueError` if `views` swap axes of a non-square `shape`.

    Args:
        shape: tuple. A batch shape `(B, H, W, ...)`.
        views: the views (see `resolve_views`).
        name: str. Argument name used in the message.
    """
    height, width = shape[1], shape[2]
    if height != width and views_need_square(views):
        swapping = [v for v in resolve_views(views) if v in _SWAPS_AXES]
        raise ValueError(
            f"Views {swapping} swap height and width, so `{name}` must be "
            f"square. Received: {name}.shape={tuple(shape)}. Use views=4 (or "
            "fewer), or only flips, for non-square images"
        )


def _swap(x):
    axes = list(range(len(x.shape)))
    axes[1], axes[2] = 2, 1
    return ops.transpose(x, axes)


def dihedral_transform(x, view):
    """Applies one dihedral view to the spatial axes 1 and 2 of `x`.

    Args:
        x: tensor `(B, H, W, ...)` (images `(B, H, W, C)` or maps
            `(B, H, W)`).
        view: str. A name from `DIHEDRAL_VIEWS`.

    Returns:
        The transformed tensor (height and width swapped for rotations by
        90/270 degrees and the transposes).
    """
    (view,) = resolve_views((view,))
    if view == "identity":
        return x
    if view == "flip_lr":
        return ops.flip(x, axis=2)
    if view == "flip_ud":
        return ops.flip(x, axis=1)
    if view == "rot180":
        return ops.flip(ops.flip(x, axis=1), axis=2)
    if view == "rot90":  # numpy.rot90 over (H, W): anticlockwise
        return ops.flip(_swap(x), axis=1)
    if view == "rot270":
        return ops.flip(_swap(x), axis=2)
    if view == "transpose":
        return _swap(x)
    return _swap(ops.flip(ops.flip(x, axis=1), axis=2))  # anti_transpose


def inverse_dihedral_transform(x, view):
    """Undoes `dihedral_transform(·, view)` on the spatial axes 1 and 2."""
    (view,) = resolve_views((view,))
    return dihedral_transform(x, _INVERSES[view])


def dihedral_views(images, views=8):
    """Stacks the chosen views of a batch into one batch `(V·B, ...)`.

    The result is view-major: rows `v·B … (v+1)·B − 1` hold view `v` of the
    `B` images, so one call of a model sees every view.

    Args:
        images: tensor `(B, H, W, C)` (or maps `(B, H, W)`).
        views: int in `[1, 8]` or a tuple of names (see `resolve_views`).
            Defaults to 8.

    Returns:
        A tensor `(V·B, H, W, C)`.

    Example:

    ```python
    batch = dihedral_views(images, views=8)           # (8·B, H, W, C)
    maps = inverse_dihedral_views(cams(batch), 8)     # (8, B, h, w)
    ```
    """
    names = resolve_views(views)
    if len(images.shape) < 3:
        raise ValueError(
            "`images` must have spatial axes 1 and 2, e.g. (B, H, W, C). "
            f"Received: images.shape={tuple(images.shape)}"
        )
    check_square(tuple(images.shape), names)
    if len(names) == 1:
        return dihedral_transform(images, names[0])
    return ops.concatenate([dihedral_transform(images, v) for v in names], axis=0)


def inverse_dihedral_views(maps, views=8):
    """Maps the per-view maps of `dihedral_views` back to the original frame.

    Args:
        maps: tensor `(V·B, h, w)` (or `(V·B, h, w, C)`), view-major as
            produced by a model applied to `dihedral_views(images, views)`.
            `h` and `w` may differ from the images' size (CAMs at a feature
            map's resolution).
        views: the same `views` given to `dihedral_views`. Defaults to 8.

    Returns:
        A tensor `(V, B, h, w)` (or `(V, B, h, w, C)`): every view's map in
        the frame of the original image.
    """
    names = resolve_views(views)
    if len(maps.shape) < 3:
        raise ValueError(
            "`maps` must be (views·batch, h, w). "
            f"Received: maps.shape={tuple(maps.shape)}"
        )
    check_square(tuple(maps.shape), names, name="maps")
    per_view = ops.reshape(maps, (len(names), -1, *maps.shape[1:]))
    restored = [
        inverse_dihedral_transform(per_view[index], name)
        for index, name in enumerate(names)
    ]
    return ops.stack(restored, axis=0)


@keras.saving.register_keras_serializable(package="keras_xai")
class DihedralViews(keras.layers.Layer):
    """Stacks dihedral views of an image batch into one batch.

    `call(images)` returns `dihedral_views(images, views)` (shape
    `(V·B, H, W, C)`); `inverse(maps)` maps per-view maps back, returning
    `(V, B, h, w)`.

    Args:
        views: int in `[1, 8]` (the first `views` of `DIHEDRAL_VIEWS`) or a
            tuple of view names. Defaults to 8.
        **kwargs: Standard layer keyword arguments.

    Example:

    ```python
    layer = DihedralViews(views=4)
    batch = layer(images)            # (4·B, H, W, C)
    maps = layer.inverse(cams)       # (4, B, h, w)
    ```

    Reference:
        "Employing Explanations for Effective Image Classification"
        (segment overlap loss), which pools GradCAMs over these views.
    """

    def __init__(self, views=8, **kwargs):
        super().__init__(**kwargs)
        names = resolve_views(views)
        self.views = int(views) if isinstance(views, int) else names
        self.view_names = names

    def call(self, images):
        return dihedral_views(images, self.view_names)

    def inverse(self, maps):
        """`inverse_dihedral_views(maps, views)`: `(V·B, h, w) -> (V, B, h, w)`."""
        return inverse_dihedral_views(maps, self.view_names)

    def compute_output_shape(self, input_shape):
        check_square(tuple(input_shape), self.view_names)
        batch = input_shape[0]
        if batch is not None:
            batch = batch * len(self.view_names)
        return (batch, *input_shape[1:])

    def get_config(self):
        return {**super().get_config(), "views": self.views}
