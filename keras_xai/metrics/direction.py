"""Which way is better: the score direction every metric declares.

Following Quantus, each metric function carries a `score_direction`
attribute, `HIGHER` or `LOWER`, so tables and plots never guess whether a
larger value means a better explanation.
"""

HIGHER = "higher"
LOWER = "lower"
_DIRECTIONS = (HIGHER, LOWER)


def declare_direction(direction):
    """Decorator that sets `function.score_direction = direction`.

    Args:
        direction: str. `HIGHER` or `LOWER`.

    Returns:
        A decorator returning the function unchanged apart from the
        attribute.

    Example:

    ```python
    @declare_direction(HIGHER)
    def my_metric(maps, masks):
        ...

    my_metric.score_direction  # "higher"
    ```
    """
    if direction not in _DIRECTIONS:
        raise ValueError(
            f"`direction` must be one of {_DIRECTIONS}. Received: "
            f"direction={direction!r}"
        )

    def decorate(function):
        function.score_direction = direction
        return function

    return decorate


def score_direction(metric):
    """Returns the declared direction of `metric`, or `None` if it has none.

    Args:
        metric: callable. A metric function (or any callable).

    Returns:
        `HIGHER`, `LOWER` or `None`.
    """
    direction = getattr(metric, "score_direction", None)
    return direction if direction in _DIRECTIONS else None


def direction_label(metric):
    """Returns "higher is better", "lower is better" or "" for `metric`."""
    direction = score_direction(metric)
    return f"{direction} is better" if direction else ""
