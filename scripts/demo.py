"""The keras_xai main job (run through `bash scripts/demo.sh`).

Two-stage IMPACTX with LeNet-5 on the default real dataset (Fashion-MNIST
when installed, scikit-learn digits otherwise): trains the stage-1
classifier, computes GradCAM attribution targets for the true classes
(cached, resumable), trains IMPACTX, prints the test accuracy of the
baselines and of IMPACTX, writes explanation PNGs (image, IMPACTX's own
map, post-hoc GradCAM of the stage-1 model) and exports a SavedModel that
serves the class and the explanation.
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

from keras_xai.applications import ImageClassifier
from keras_xai.applications.impactx import fit_two_stage
from keras_xai.datasets import load_default_dataset
from keras_xai.explainers import GradCAM
from keras_xai.export import export_saved_model
from keras_xai.visualization import overlay, save_image_grid


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", default="auto", choices=["auto", "fashion_mnist", "digits"]
    )
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--stage1-epochs", type=int, default=3)
    parser.add_argument("--stage2-epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--num-explained", type=int, default=8)
    parser.add_argument("--output-dir", default="demo_output")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("train_size", "stage1_epochs", "stage2_epochs", "num_explained"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            parser.error(f"{flag} must be >= 1 (received {getattr(args, name)})")
    return args


def _accuracy(probabilities, labels):
    return float(np.mean(np.argmax(probabilities, axis=-1) == labels))


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    data = load_default_dataset(args.data)
    if data.name == "digits" and args.data == "auto":
        print(
            "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); "
            "using scikit-learn's digits instead."
        )
    rng = np.random.default_rng(args.seed)
    rows = rng.permutation(len(data.x_train))[: args.train_size]
    x_train, y_train = data.x_train[rows], data.y_train[rows]
    print(
        f"data: {data.name}, {len(x_train)} training and {len(data.x_test)} "
        f"test images of shape {x_train.shape[1:]}"
    )
    os.makedirs(args.output_dir, exist_ok=True)
    shape, num_classes = x_train.shape[1:], len(data.class_names)

    start = time.time()
    result = fit_two_stage(
        ImageClassifier("lenet5", shape, num_classes),
        x_train,
        y_train,
        explainer=GradCAM,
        cache_dir=os.path.join(args.output_dir, "targets_cache"),
        stage1_epochs=args.stage1_epochs,
        stage2_epochs=args.stage2_epochs,
        batch_size=args.batch_size,
        impactx_options={"decoder_filters": (32, 16)},
        verbose=2,
    )
    print(f"two-stage training took {time.time() - start:.1f} s")

    # The same classifier trained for as many epochs as stage 1 + stage 2,
    # so IMPACTX is not credited for its extra epochs.
    keras.utils.set_random_seed(args.seed)
    longer = ImageClassifier("lenet5", shape, num_classes)
    longer.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    longer.fit(
        x_train,
        y_train,
        epochs=args.stage1_epochs + args.stage2_epochs,
        batch_size=args.batch_size,
        verbose=0,
    )

    outputs = result.model.predict(data.x_test, batch_size=256, verbose=0)
    scores = {
        f"baseline LeNet-5 ({args.stage1_epochs} epochs, = IMPACTX's M)": _accuracy(
            result.classifier.predict(data.x_test, batch_size=256, verbose=0),
            data.y_test,
        ),
        f"baseline LeNet-5 ({args.stage1_epochs + args.stage2_epochs} epochs)": (
            _accuracy(
                longer.predict(data.x_test, batch_size=256, verbose=0), data.y_test
            )
        ),
        "IMPACTX (LeNet-5, GradCAM targets)": _accuracy(outputs["class"], data.y_test),
    }
    print(f"test accuracy on {data.name} ({len(data.x_test)} images):")
    for name, value in scores.items():
        print(f"  {name}: {value:.4f}")

    count = args.num_explained
    images, labels = data.x_test[:count], data.y_test[:count]
    predicted = np.argmax(outputs["class"][:count], axis=-1)
    post_hoc = GradCAM(result.classifier)(images, targets=predicted)
    figure = save_image_grid(
        [
            [image, overlay(image, own, alpha=0.45), overlay(image, other, alpha=0.45)]
            for image, own, other in zip(
                images, outputs["explanation"][:count], post_hoc
            )
        ],
        os.path.join(args.output_dir, "impactx_explanations.png"),
        titles=["image", "IMPACTX explanation (on the image)", "post-hoc GradCAM"],
        row_labels=[
            f"true: {data.class_names[t]}\npred: {data.class_names[p]}"
            for t, p in zip(labels, predicted)
        ],
    )
    print(f"explanations written to {figure}")
    preset = result.model.save_to_preset(
        os.path.join(args.output_dir, "impactx_preset")
    )
    print(f"IMPACTX preset saved to {preset}")
    saved = export_saved_model(
        result.model, os.path.join(args.output_dir, "impactx_savedmodel")
    )
    print(f"SavedModel (serves 'class' and 'explanation') exported to {saved}")
    return scores


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
