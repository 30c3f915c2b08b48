"""How closely two stacks of attribution maps agree (benchmark checks)."""

import numpy as np


def mean_correlation(maps, others):
    """Mean per-image Pearson correlation of two stacks of maps."""
    return float(
        np.mean([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(maps, others)])
    )


def relative_difference(maps, reference):
    """Largest absolute difference over the reference's largest magnitude."""
    scale = max(float(np.max(np.abs(reference))), 1e-12)
    return float(np.max(np.abs(maps - reference)) / scale)
