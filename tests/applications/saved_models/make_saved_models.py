"""Writes the `.keras` files and outputs that `test_saved_models.py` loads.

Run with the keras_xai version whose files must keep loading (the files in
this folder were written by the version before the `GuidedModel` base
class):

    python tests/applications/saved_models/make_saved_models.py
"""

import hashlib
import json
import os

import keras
import numpy as np

from keras_xai.applications import (
    ABN,
    IMPACTX,
    ExplanationEnsemble,
    ExplanationGuidedClassifier,
    ImageClassifier,
    MultitaskAttributeClassifier,
)

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = (28, 28, 1)


def build_models():
    """One small model of each guided class, deterministic weights."""
    keras.utils.set_random_seed(0)
    classifier = ImageClassifier("lenet5", SHAPE, 4)
    return {
        "impactx": IMPACTX(classifier, latent_dim=8, decoder_filters=(8,)),
        "abn": ABN(classifier, filters=(8,)),
        "explanation_guided": ExplanationGuidedClassifier(
            classifier, beta=0.5, guidance="rrr", rrr_weight=0.1
        ),
        "ensemble": ExplanationEnsemble(classifier, num_members=2, seed=0),
        "multitask": MultitaskAttributeClassifier(
            "lenet5", SHAPE, 4, attribute_names=["a", "b", "c"]
        ),
    }


def main():
    images = np.random.default_rng(0).random((3, *SHAPE)).astype("float32")
    outputs = {"images": images}
    digests = {}
    for name, model in build_models().items():
        model.compile()
        result = model.predict(images, verbose=0)
        if isinstance(result, dict):
            for key, value in result.items():
                outputs[f"{name}/{key}"] = value
        else:
            outputs[name] = result
        path = os.path.join(HERE, f"{name}.keras")
        model.save(path)
        with open(path, "rb") as file:
            digests[f"{name}.keras"] = hashlib.sha256(file.read()).hexdigest()
    np.savez(os.path.join(HERE, "outputs.npz"), **outputs)
    with open(os.path.join(HERE, "outputs.npz"), "rb") as file:
        digests["outputs.npz"] = hashlib.sha256(file.read()).hexdigest()
    with open(os.path.join(HERE, "sha256.json"), "w") as file:
        json.dump(digests, file, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
