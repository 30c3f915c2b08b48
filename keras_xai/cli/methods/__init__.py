"""Training methods of `keras-xai train --method NAME`, one module each.

A method module defines `NAME`, `HELP`, `add_arguments(group)` (its own
options, in an argparse argument group) and `train(args, data, classifier)`
returning `(model, details)`: the trained Keras model (saved as
`model.keras`) and a dict of numbers recorded in `run.json`.
"""

from keras_xai.cli.methods import (
    abn,
    baseline,
    consistency,
    ensemble,
    focal,
    hnm,
    impactx,
    multitask,
    so_loss,
)

METHODS = {
    module.NAME: module
    for module in (
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
