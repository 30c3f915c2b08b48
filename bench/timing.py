"""Timing helpers shared by the benchmarks."""

import time


def round_robin_step_times(steps, rounds, warmup):
    """Times each step callable once per round, the configurations interleaved.

    After `warmup` untimed calls of each (tracing, compilation), every round
    calls each step once in turn, so load from other processes on a shared
    machine hits all configurations alike.

    Args:
        steps: dict name -> callable taking no argument (one training step).
        rounds: int. Timed rounds.
        warmup: int. Untimed calls of each step first.

    Returns:
        dict name -> list of `rounds` durations in seconds.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return times


def best_seconds(function, repeats):
    """Best of `repeats` timed calls of `function()`, after one warm-up call.

    Args:
        function: callable taking no argument.
        repeats: int >= 1. Timed calls.

    Returns:
        float. The shortest duration in seconds.
    """
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def timed(function):
    """One call of `function()`: its wall time in seconds and its result."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def add_step_timing_arguments(parser):
    """Adds the options of the training-step benchmarks to `parser`.

    `--batch-size` (64), `--rounds` (40 timed steps), `--warmup` (3
    untimed steps) and `--output` (the JSON path; `None` writes to
    `bench/results/`).

    Args:
        parser: `argparse.ArgumentParser`.
    """
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--output", default=None)


def add_peer_arguments(parser):
    """Adds the options of the comparisons with peer libraries to `parser`.

    `--images` (256 test images), `--repeats` (3 timed calls, the best
    kept) and `--output` (the JSON path; `None` writes to `bench/results/`).

    Args:
        parser: `argparse.ArgumentParser`.
    """
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=None)
