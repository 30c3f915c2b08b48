"""Training methods of `keras-xai train --method NAME`, one module each.

A method module defines `NAME`, `HELP`, `add_arguments(group)` (its own
options, in an argparse argument group) and `train(args, data, classifier)`
returning `(model, details)`: the trained Keras model (saved as
`model.keras`) and a dict of numbers recorded in `run.json`. The three
sample reweightings share one module, `reweighting`, which defines their
entries (`consistency`, `hnm`, `focal`) with the same attributes.
"""

from keras_xai.cli.methods import (
    abn,
    baseline,
    ensemble,
    impactx,
    multitask,
    so_loss,
)
from keras_xai.cli.methods.reweighting import consistency, focal, hnm

METHODS = {
    method.NAME: method
    for method in (
        baseline,
        impactx,
        abn,
        consistency,
        hnm,
        focal,
        ensemble,
        multitask,
        so_loss,
    )
}
