"""The keras_xai main job (run through `bash scripts/demo.sh`).

Trains LeNet-5 on the default real dataset (Fashion-MNIST when installed,
scikit-learn digits otherwise), prints the test accuracy it measured, writes
GradCAM explanation PNGs for a few test images and saves the model.
"""

import argparse
import os
import sys
import time

import keras

from keras_xai.applications import ImageClassifier
from keras_xai.datasets import load_default_dataset
from keras_xai.explainers import GradCAM
from keras_xai.visualization import explanation_figure


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", default="auto", choices=["auto", "fashion_mnist", "digits"]
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--num-explained", type=int, default=8)
    parser.add_argument("--output-dir", default="demo_output")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1 (received {args.epochs})")
    if args.num_explained < 1:
        parser.error(f"--num-explained must be >= 1 (received {args.num_explained})")
    return args


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    data = load_default_dataset(args.data)
    if data.name == "digits" and args.data == "auto":
        print(
            "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); "
            "using scikit-learn's digits instead."
        )
    print(
        f"data: {data.name}, {len(data.x_train)} training and {len(data.x_test)} "
        f"test images of shape {data.x_train.shape[1:]}"
    )
    model = ImageClassifier(
        "lenet5", data.x_train.shape[1:], num_classes=len(data.class_names)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.time()
    model.fit(
        data.x_train,
        data.y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=0.1,
        verbose=2,
    )
    print(f"training took {time.time() - start:.1f} s")
    _, accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
    print(f"test accuracy ({data.name}, LeNet-5, {args.epochs} epochs): {accuracy:.4f}")

    os.makedirs(args.output_dir, exist_ok=True)
    images = data.x_test[: args.num_explained]
    labels = data.y_test[: args.num_explained]
    explainer = GradCAM(model)
    predictions = explainer.predict_classes(images)
    maps = explainer(images, targets=predictions)
    figure = explanation_figure(
        images,
        maps,
        os.path.join(args.output_dir, "gradcam_test_images.png"),
        labels=labels,
        predictions=predictions,
        class_names=data.class_names,
    )
    print(f"GradCAM explanations written to {figure}")
    model_path = os.path.join(args.output_dir, "lenet5.keras")
    model.save(model_path)
    print(f"model saved to {model_path}")
    return accuracy


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
