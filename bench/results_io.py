"""What every benchmark records about the machine, and where it writes."""

import json
import os
import platform
import time

import keras

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def machine_info():
    """CPU count and platform string of this machine."""
    return {"cpus": os.cpu_count(), "platform": platform.platform()}


def write_result(result, name, backend, output=None):
    """Writes `result` as JSON to `output` or `results/<name>_<backend>.json`.

    Every file opens with the same header — the benchmark's name, the Keras
    backend and version, the machine and the date — unless `result` sets
    those keys itself.

    Returns:
        The path written.
    """
    header = {
        "benchmark": name,
        "backend": backend,
        "keras": keras.__version__,
        "machine": machine_info(),
        "date": time.strftime("%Y-%m-%d"),
    }
    result = {**header, **result}
    output = output or os.path.join(RESULTS_DIR, f"{name}_{backend}.json")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as file:
        json.dump(result, file, indent=2)
    print(f"written {output}")
    return output


def write_step_result(name, args, ce_ms, results, **fields):
    """`write_result` for a training-step benchmark of the random LeNet-5.

    Adds what every such benchmark records: the model, `args.batch_size`
    and `args.rounds`, how a step was timed, the CE step's median and the
    per-configuration `results`.

    Args:
        name: str. The benchmark's name.
        args: the parsed `step_timing_parser` arguments.
        ce_ms: float. The CE step's median in milliseconds.
        results: list of per-configuration dicts.
        **fields: more entries, first in the file.

    Returns:
        dict: the result written.
    """
    result = {
        **fields,
        "model": "ImageClassifier lenet5 28x28x1, 10 classes (random weights)",
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "step": "model.train_on_batch after warm-up, round-robin, median",
        "ce_step_ms": ce_ms,
        "results": results,
    }
    write_result(result, name, keras.backend.backend(), args.output)
    return result
