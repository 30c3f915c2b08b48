"""`ResultsStore`: finished measurements of a long experiment, kept on disk."""

import contextlib
import datetime
import json
import os
import platform
import time

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one process per file.
    fcntl = None


class ResultsStore:
    """A JSON file of finished runs, rewritten atomically after each one.

    Long experiments (many seeds and methods) call `get(key)` before a run
    and `put(key, value)` after it, so an interrupted experiment rerun with
    the same settings skips what it already measured. Results saved under
    different settings are ignored (the settings are part of the file).

    Several processes may share one file if they measure different runs
    (e.g. two lanes of a benchmark, each with its own arms): every write
    merges the runs already on disk under a lock, so none is lost. On
    platforms without `fcntl` (Windows) use one process per file.

    Args:
        path: str. The JSON file.
        settings: dict. JSON-serialisable settings of the experiment; runs
            stored under other settings are not reused.

    Example:

    ```python
    store = ResultsStore("results.json", {"epochs": 3})
    if store.get("ce/seed0") is None:
        store.put("ce/seed0", {"accuracy": train_and_measure()})
    ```
    """

    def __init__(self, path, settings):
        if not isinstance(settings, dict):
            raise ValueError(
                f"`settings` must be a dict. Received: {type(settings).__name__}"
            )
        self.path = os.fspath(path)
        self.settings = json.loads(json.dumps(settings))
        self.extra = {}
        self.runs = self._read_runs()

    @staticmethod
    def add_arguments(parser, output_dir):
        """Adds `--output-dir` and `--report-only` to an experiment's parser.

        The two arguments `for_experiment` leaves out of the settings.

        Args:
            parser: `argparse.ArgumentParser`.
            output_dir: str. Default of `--output-dir` (where `results.json`
                lives).
        """
        parser.add_argument("--output-dir", default=output_dir)
        parser.add_argument(
            "--report-only",
            action="store_true",
            help="rebuild the table and plots from results.json, train nothing",
        )

    @classmethod
    def for_experiment(cls, args, ignore=()):
        """The store `results.json` in `args.output_dir` of a command line.

        The settings are every parsed argument except `output_dir`,
        `report_only` and `ignore` (arguments that choose which runs to do,
        such as seeds, not how a run is done), so a rerun with other seeds
        reuses the runs it shares with the stored ones.

        Args:
            args: `argparse.Namespace` with an `output_dir` attribute.
            ignore: iterable of str. More argument names left out of the
                settings. Defaults to `()`.

        Returns:
            A `ResultsStore`.
        """
        skipped = {"output_dir", "report_only", *ignore}
        settings = {k: v for k, v in vars(args).items() if k not in skipped}
        return cls(os.path.join(args.output_dir, "results.json"), settings)

    @classmethod
    def run_experiment(cls, args, measure, report, ignore=(), log=print):
        """Runs an experiment's command line: the missing runs, then the report.

        Opens the store of `for_experiment(args, ignore)`; unless
        `--report-only` was given, `measure(store, args)` runs and stores
        the measurements (skipping those the store already holds); then
        `report(store, args)` builds the tables and plots from the stored
        runs. Logs the time the whole took.

        Args:
            args: `argparse.Namespace` from a parser given `add_arguments`.
            measure: callable `(store, args)`. Trains and measures, calling
                `store.put` for each finished run.
            report: callable `(store, args)`. Summarises the stored runs
                (e.g. tables via `finish`, plots).
            ignore: iterable of str. See `for_experiment`. Defaults to `()`.
            log: callable. Receives the closing "done in ... s" line.
                Defaults to `print`.

        Returns:
            The `ResultsStore`.

        Example:

        ```python
        def main(argv=None):
            return ResultsStore.run_experiment(
                parse_args(argv), measure, report, ignore=("seeds",)
            )
        ```
        """
        start = time.time()
        store = cls.for_experiment(args, ignore=ignore)
        if not args.report_only:
            measure(store, args)
        report(store, args)
        log(f"done in {time.time() - start:.0f} s")
        return store

    def get(self, key):
        """The stored value of run `key`, or `None`."""
        return self.runs.get(key)

    def put(self, key, value):
        """Stores run `key` and rewrites the file; returns `value`."""
        self.runs[key] = value
        self.save()
        return value

    def finish(self, **summary):
        """Saves `summary` (e.g. `table=...`) with the time and the machine.

        Args:
            **summary: JSON-serialisable entries written next to the runs,
                replacing any earlier summary.
        """
        self.extra = {
            **summary,
            "finished": datetime.datetime.now().isoformat(),
            "machine": platform.platform(),
        }
        self.save()

    def save(self):
        """Writes settings, runs and `extra` (e.g. summary tables) atomically.

        Runs that another process stored in the file under the same settings
        since this store read it are merged in first (this store's own runs
        win for a key both hold).
        """
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        with self._locked():
            on_disk = self._read_runs()
            self.runs = {**on_disk, **self.runs}
            temporary = f"{self.path}.{os.getpid()}.tmp"
            with open(temporary, "w") as file:
                json.dump(
                    {"settings": self.settings, "runs": self.runs, **self.extra},
                    file,
                    indent=1,
                )
            os.replace(temporary, self.path)

    def _read_runs(self):
        """The runs stored in the file under this store's settings, or `{}`."""
        if not os.path.isfile(self.path):
            return {}
        try:
            with open(self.path) as file:
                saved = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"Results file {self.path!r} is not valid JSON ({error}); "
                "move it away to start afresh"
            ) from None
        if saved.get("settings") != self.settings:
            return {}
        return saved.get("runs", {})

    @contextlib.contextmanager
    def _locked(self):
        """Holds an exclusive lock on `<path>.lock` (no-op without fcntl)."""
        if fcntl is None:
            yield
            return
        with open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
