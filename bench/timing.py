"""Timing helpers shared by the benchmarks."""

import argparse
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


def step_timing_parser(doc):
    """`benchmark_parser` with the training-step benchmarks' options.

    `--batch-size` (64), `--rounds` (40 timed steps) and `--warmup` (3
    untimed steps), besides `--output`.
    """
    return benchmark_parser(doc, batch_size=64, rounds=40, warmup=3)


def peer_parser(doc):
    """`benchmark_parser` with the peer comparisons' options.

    `--images` (256 test images) and `--repeats` (3 timed calls, the best
    kept), besides `--output`.
    """
    return benchmark_parser(doc, images=256, repeats=3)


def benchmark_parser(doc, **int_options):
    """A benchmark's command-line parser.

    Args:
        doc: str. The benchmark module's `__doc__`; its first line
            describes the command.
        **int_options: option name -> default of its integer options
            (`batch_size=64` makes `--batch-size`).

    Returns:
        `argparse.ArgumentParser` with those options and `--output` (the
        JSON path; `None` writes to `bench/results/`).
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in int_options.items():
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=default)
    parser.add_argument("--output", default=None)
    return parser
