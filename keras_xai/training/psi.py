"""`ψ`: the monotone maps of a non-negative score to a weight in [0, 1)."""

import numpy as np

# The explanation-consistency paper's Table V: tanh, softsign and
# arctan1 = 2·arctan(x)/π, each mapping [0, ∞) monotonically to [0, 1).
PSI_FUNCTIONS = {
    "tanh": np.tanh,
    "softsign": lambda d: d / (1.0 + np.abs(d)),
    "arctan": lambda d: 2.0 * np.arctan(d) / np.pi,
}


def check_psi(psi):
    """Validates the name of the mapping `ψ`.

    Args:
        psi: str. A key of `PSI_FUNCTIONS`.

    Returns:
        `psi`.
    """
    if not isinstance(psi, str) or psi not in PSI_FUNCTIONS:
        raise ValueError(
            f"`psi` must be one of {sorted(PSI_FUNCTIONS)}. Received: psi={psi!r}"
        )
    return psi
