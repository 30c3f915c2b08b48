"""`keras-xai explain`: PNG overlays of a model's own and post-hoc maps."""

import os

import numpy as np

from keras_xai.applications import MultitaskAttributeClassifier
from keras_xai.cli import data as data_module
from keras_xai.cli import post_hoc
from keras_xai.cli.run_directory import load_run
from keras_xai.datasets import object_masks
from keras_xai.models.class_model import predict_outputs
from keras_xai.visualization import draw_labelled_arrows, save_image_grid

DESCRIPTION = """Write a PNG grid: each row an image, the model's own explanation
(IMPACTX, ABN) and post-hoc maps of the same model beside it, for the
predicted class."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "explain", help="write explanation PNGs", description=DESCRIPTION
    )
    add_model_and_data_arguments(parser)
    parser.add_argument(
        "--num-images", type=int, default=8, help="test images to explain (default 8)"
    )
    post_hoc.add_arguments(parser)
    parser.add_argument(
        "--arrows",
        action="store_true",
        help="for a multitask model: one PNG per image with arrows from the "
        "names of the attributes predicted present to their CAMs' centres of mass",
    )
    parser.add_argument(
        "--output",
        help="PNG path (default: MODEL_DIR/explanations.png)",
    )
    parser.set_defaults(run=run, parser=parser)
    return parser


def add_model_and_data_arguments(parser):
    parser.add_argument(
        "--model", required=True, help="a `keras-xai train` output dir or .keras file"
    )
    parser.add_argument(
        "--data",
        choices=data_module.DATASETS,
        help="dataset (default: the one the model was trained on)",
    )
    parser.add_argument("--data-dir", help="directory of an on-disk dataset")
    parser.add_argument("--seed", type=int, default=0, help="(default 0)")


def load_model_and_test_data(args, test_size):
    model, record = load_run(args.model)
    name = args.data or record.get("data", "auto")
    data_dir = args.data_dir or record.get("options", {}).get("data_dir")
    data = data_module.load(name, data_dir, train_size=1, test_size=test_size)
    expected = tuple(model.inputs[0].shape[1:])
    if tuple(data.x_test.shape[1:]) != expected:
        raise data_module.CommandError(
            f"--data {name} has images of shape {data.x_test.shape[1:]} but the "
            f"model expects {expected}"
        )
    return model, record, data


def run(args):
    if args.num_images < 1:
        args.parser.error(f"--num-images must be >= 1; got {args.num_images}")
    model, _, data = load_model_and_test_data(args, args.num_images)
    if args.arrows:
        return draw_arrows(args, model, data)
    images, labels = data.x_test, data.y_test
    probabilities, own = predict_outputs(model, images)
    predicted = np.argmax(probabilities, axis=-1).astype("int32")
    columns, titles = [images], ["image"]
    if own is not None:
        columns.append(own)
        titles.append("own explanation")
    for method in post_hoc.methods(args, model):
        print(f"post-hoc {method} ...")
        columns.append(
            post_hoc.post_hoc_maps(
                model, method, images, predicted, args.shap_evals, args.seed
            )
        )
        titles.append(f"post-hoc {method}")
    if len(columns) == 1:
        args.parser.error(
            "the model has no explanation output of its own; give --post-hoc METHOD"
        )
    output = args.output or os.path.join(
        args.model if os.path.isdir(args.model) else ".", "explanations.png"
    )
    names = data.class_names
    save_image_grid(
        [list(row) for row in zip(*columns)],
        output,
        titles=titles,
        row_labels=[
            f"true: {names[t]}\npred: {names[p]}" for t, p in zip(labels, predicted)
        ],
    )
    print(f"explanations written to {output}")
    return 0


def draw_arrows(args, model, data):
    if not isinstance(model, MultitaskAttributeClassifier):
        raise data_module.CommandError(
            "--arrows needs a model trained with --method multitask; got a "
            f"{type(model).__name__}"
        )
    folder = args.output or os.path.join(
        args.model if os.path.isdir(args.model) else ".", "arrows"
    )
    explanations = model.explain_attributes(data.x_test)
    masks = object_masks(data.x_test)
    written = 0
    for index, entries in enumerate(explanations):
        if not entries:
            print(f"image {index}: no attribute predicted present")
            continue
        draw_labelled_arrows(
            data.x_test[index],
            [entry.center for entry in entries],
            [f"{entry.name} ({entry.probability:.2f})" for entry in entries],
            os.path.join(folder, f"arrows_{index}.png"),
            mask=masks[index],
        )
        written += 1
    print(f"{written} labelled-arrow PNGs written to {folder}")
    return 0
