"""`keras-xai evaluate`: accuracy, AOPC of own vs post-hoc maps, Focus."""

import json
import os

import numpy as np

from keras_xai.applications import ImageClassifier
from keras_xai.cli import post_hoc
from keras_xai.cli.explain_command import (
    add_model_and_data_arguments,
    load_model_and_test_data,
)
from keras_xai.explainers.by_name import get_explainer
from keras_xai.metrics import aopc, focus_evaluation, morf_curve
from keras_xai.models.class_model import class_model, predict_outputs

DESCRIPTION = """Measure a trained model: test accuracy; MoRF curves and AOPC
(higher = more faithful) of the model's own explanation and of post-hoc maps
computed on the same model, on the first --num-images test images; Focus on
2x2 mosaics (higher = better) for the post-hoc maps when the model accepts
mosaic-sized inputs."""


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "evaluate", help="accuracy, AOPC and Focus", description=DESCRIPTION
    )
    add_model_and_data_arguments(parser)
    parser.add_argument("--test-size", type=int, help="test images for accuracy")
    parser.add_argument(
        "--num-images",
        type=int,
        default=200,
        help="images for the MoRF/AOPC comparison (default 200)",
    )
    parser.add_argument(
        "--patch-size", type=int, default=4, help="MoRF patch side (default 4)"
    )
    parser.add_argument(
        "--focus-mosaics",
        type=int,
        default=100,
        help="mosaics for Focus, 0 to skip (default 100)",
    )
    post_hoc.add_arguments(parser, default=("gradcam", "shap"))
    parser.add_argument("--output", help="JSON path (default MODEL_DIR/metrics.json)")
    parser.set_defaults(run=run, parser=parser)
    return parser


def _aopc_of(model, images, maps, targets, args):
    curves = morf_curve(
        class_model(model), images, maps, targets, patch_size=args.patch_size
    )
    return {
        "aopc_mean": float(np.mean(aopc(curves))),
        "aopc_std": float(np.std(aopc(curves))),
        "morf_curve_mean": np.mean(curves, axis=0).tolist(),
    }


def _focus(model, data, method, args):
    if not isinstance(model, ImageClassifier) or model.pooling == "flatten":
        return {
            "skipped": "the model does not accept 2Hx2W mosaics (only "
            "ImageClassifier with global pooling does)"
        }
    h, w, c = model.image_shape
    mosaic = ImageClassifier.from_config(
        dict(model.get_config(), image_shape=(2 * h, 2 * w, c))
    )
    mosaic.set_weights(model.get_weights())
    result = focus_evaluation(
        mosaic,
        get_explainer(method),
        data.x_test,
        data.y_test,
        args.focus_mosaics,
        seed=args.seed,
    )
    return {"focus_median": float(np.median(result["scores"]))}


def run(args):
    for flag in ("num_images", "patch_size"):
        if getattr(args, flag) < 1:
            args.parser.error(f"--{flag.replace('_', '-')} must be >= 1")
    model, _, data = load_model_and_test_data(args, args.test_size)
    probabilities, own = predict_outputs(model, data.x_test)
    predicted = np.argmax(probabilities, -1).astype("int32")
    report = {
        "test_images": len(data.x_test),
        "accuracy": float(np.mean(predicted == data.y_test)),
    }
    print(f"accuracy ({len(data.x_test)} test images): {report['accuracy']:.4f}")
    n = min(args.num_images, len(data.x_test))
    images, targets = data.x_test[:n], predicted[:n]
    faithfulness = {}
    if own is not None:
        faithfulness["own"] = _aopc_of(model, images, own[:n], targets, args)
    for method in post_hoc.methods(args, model):
        print(f"post-hoc {method} on {n} images ...")
        maps = post_hoc.post_hoc_maps(
            model, method, images, targets, args.shap_evals, args.seed
        )
        faithfulness[method] = _aopc_of(model, images, maps, targets, args)
        if args.focus_mosaics > 0 and method != "shap":
            report.setdefault("focus", {})[method] = _focus(model, data, method, args)
    report["morf"] = faithfulness
    for name, values in faithfulness.items():
        print(f"AOPC (MoRF, {n} images) {name}: {values['aopc_mean']:.4f}")
    for name, values in report.get("focus", {}).items():
        print(f"Focus {name}: {values}")
    output = args.output or os.path.join(
        args.model if os.path.isdir(args.model) else ".", "metrics.json"
    )
    with open(output, "w") as file:
        json.dump(report, file, indent=2)
    print(f"metrics written to {output}")
    return 0
