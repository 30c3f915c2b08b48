"""Benchmark: gradient and occlusion explainers against Captum.

Captum is the attribution library PyTorch users reach for. This runs, in one
process, keras_xai on the current Keras backend and Captum on a PyTorch twin
of the same LeNet-5 (`bench/torch_twins.py`: weights copied, logits checked
equal), on the same Fashion-MNIST test images and targets, and records for
each method:

- images per second of keras_xai, of Captum used as its documentation
  shows (the whole batch in one `attribute` call, default options), and of
  Captum tuned as an informed user would (the fastest of a few
  `internal_batch_size` / `nt_samples_batch_size` values);
- the agreement of the maps: maximum difference relative to the map scale
  for the deterministic methods (Saliency, Integrated Gradients with the
  midpoint rule, Occlusion), mean per-image correlation for the randomised
  ones (SmoothGrad, Gradient SHAP: different random draws).

Timings are the best of `--repeats` calls after a warm-up. Needs `captum`
and `torch` (benchmark-only dependencies). Writes
`bench/results/captum_peers_<backend>.json`.

    KERAS_BACKEND=tensorflow python bench/captum_peers.py [--images 256]
"""

import captum
import captum.attr
import keras
import numpy as np
import torch
from map_agreement import mean_correlation, relative_difference
from results_io import write_result
from timing import best_seconds, peer_parser
from torch_twins import check_twin, torch_twin

from keras_xai import explainers
from keras_xai.applications import ImageClassifier
from keras_xai.datasets import load_default_dataset


def best_rate(function, count, repeats):
    """Images per second: best of `repeats` calls after one warm-up."""
    return count / best_seconds(function, repeats)


def methods(model, twin, sigma):
    """(name, keras_xai explainer, captum call(x, t, **tuning), tunings, agreement)."""
    zero = torch.zeros(1, 1, 28, 28)
    ig = captum.attr.IntegratedGradients(twin)
    noise = captum.attr.NoiseTunnel(captum.attr.Saliency(twin))
    shap = captum.attr.GradientShap(twin)
    return [
        (
            "Saliency",
            explainers.Saliency(model, batch_size=256),
            lambda x, t, **o: captum.attr.Saliency(twin).attribute(x, t, abs=True),
            [{}],
            "difference",
        ),
        (
            "IntegratedGradients(32)",
            explainers.IntegratedGradients(model, steps=32, batch_size=128),
            lambda x, t, **o: ig.attribute(
                x, zero, target=t, n_steps=32, method="riemann_middle", **o
            ),
            [{}, {"internal_batch_size": 512}, {"internal_batch_size": 2048}],
            "difference",
        ),
        (
            "SmoothGrad(50)",
            explainers.SmoothGrad(model, n=50, sigma=sigma, seed=0, batch_size=128),
            lambda x, t, **o: noise.attribute(
                x, nt_type="smoothgrad", nt_samples=50, stdevs=sigma, target=t, **o
            ),
            [{}, {"nt_samples_batch_size": 10}, {"nt_samples_batch_size": 25}],
            "correlation",
        ),
        (
            "GradientSHAP(50)",
            explainers.GradientSHAP(model, n=50, seed=0, batch_size=128),
            lambda x, t, **o: shap.attribute(x, zero, n_samples=50, target=t, **o),
            [{}],
            "correlation",
        ),
        (
            "Occlusion(4x4)",
            explainers.Occlusion(model, patch_size=4, batch_size=256),
            lambda x, t, **o: captum.attr.Occlusion(twin).attribute(
                x, (1, 4, 4), strides=(1, 4, 4), target=t, baselines=0.0, **o
            ),
            [{}, {"perturbations_per_eval": 7}, {"perturbations_per_eval": 49}],
            "difference",
        ),
    ]


def main(argv=None):
    args = peer_parser(__doc__).parse_args(argv)

    keras.utils.set_random_seed(0)
    model = ImageClassifier("lenet5", (28, 28, 1), 10)
    twin = torch_twin(model)
    data = load_default_dataset()
    images = data.x_test[: args.images].astype("float32")
    targets = np.argmax(np.asarray(model.predict(images, verbose=0)), -1)
    x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    t = torch.from_numpy(targets.astype("int64"))
    check_twin(model, twin, images)
    logits = keras.Model(model.input, model.get_layer("logits").output)
    backend = keras.backend.backend()
    print(f"backend {backend}, data {data.name}, {args.images} images")

    # The networks alone: forward passes per second of the Keras logits
    # model (compiled predict step, batches of 256) and of the PyTorch twin.
    # A perturbation method is bounded by its network's rate divided by its
    # evaluations per image, whoever drives it.
    batch = np.repeat(images[:1], 256, axis=0)
    xb = torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))

    def twin_forward():
        with torch.no_grad():
            twin(xb)

    forward = {
        "keras_logits_model_images_per_second": best_rate(
            lambda: [logits.predict_on_batch(batch) for _ in range(20)],
            256 * 20,
            args.repeats,
        ),
        "pytorch_twin_images_per_second": best_rate(
            lambda: [twin_forward() for _ in range(20)], 256 * 20, args.repeats
        ),
    }
    print(forward)

    table = {}
    # SmoothGrad's sigma is relative to each image's range in keras_xai and
    # absolute in Captum: the same on images spanning [0, 1].
    for name, ours, theirs, tunings, agreement in methods(model, twin, 0.15):
        ours_maps = ours(images, targets)
        rate = best_rate(lambda e=ours: e(images, targets), args.images, args.repeats)

        def captum_maps(options, attribute=theirs):
            return attribute(x, t, **options).detach().numpy().sum(axis=1)

        rates = {
            str(options): best_rate(
                lambda o=options: captum_maps(o), args.images, args.repeats
            )
            for options in tunings
        }
        documented = rates["{}"]
        tuned_options = max(rates, key=rates.get)
        theirs_maps = captum_maps({})
        row = {
            "keras_xai_images_per_second": rate,
            "captum_documented_images_per_second": documented,
            "captum_tuned_images_per_second": rates[tuned_options],
            "captum_tuned_options": tuned_options,
            "ratio_vs_documented": rate / documented,
            "ratio_vs_tuned": rate / rates[tuned_options],
        }
        if agreement == "difference":
            row["max_relative_difference"] = relative_difference(ours_maps, theirs_maps)
        else:
            row["mean_map_correlation"] = mean_correlation(ours_maps, theirs_maps)
        table[name] = row
        print(
            f"{name:>24s}: keras_xai {rate:8.0f} img/s, Captum {documented:8.0f} "
            f"(docs) / {rates[tuned_options]:8.0f} (tuned) -> "
            f"{row['ratio_vs_tuned']:.2f}x tuned"
        )
    result = {
        "captum": captum.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "model": "lenet5 28x28x1, 10 classes, random weights; PyTorch twin",
        "data": data.name,
        "images": args.images,
        "timing_method": f"best of {args.repeats} after a warm-up",
        "forward_passes": forward,
        "methods": table,
    }
    write_result(result, "captum_peers", backend, args.output)
    return result


if __name__ == "__main__":
    main()
