"""Explanation ensembles: random heads, leave-one-bucket-out and bagging."""

from keras_xai.applications.ensemble.explanation_ensemble import (
    STRATEGIES,
    EnsembleHistory,
    ExplanationEnsemble,
    member_indices,
)

__all__ = ["STRATEGIES", "EnsembleHistory", "ExplanationEnsemble", "member_indices"]
