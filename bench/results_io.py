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
