"""The package's layer order, checked from the imports of every module.

A module may import modules of its own layer or of a lower one, never of a
higher one. The order is the one README's "Layout" section shows.
"""

import ast
import pathlib

import keras_xai

LAYERS = (
    ("version", "backend"),
    ("utils",),
    ("models",),
    ("layers", "losses", "explainers", "datasets", "metrics"),
    ("visualization",),
    ("training",),
    ("applications",),
    ("benchmarks", "export"),
    ("cli", "testing"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
ROOT = pathlib.Path(keras_xai.__file__).parent


def _package(module_parts):
    """`keras_xai.<package>...` -> `<package>` (a top-level module's stem)."""
    return module_parts[1] if len(module_parts) > 1 else None


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "keras_xai":
                yield node.lineno, _package(parts)


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative == pathlib.Path("__init__.py"):
            continue  # the package root re-exports every layer
        yield path, relative.parts[0].removesuffix(".py")


def test_every_package_has_a_layer():
    packages = {package for _, package in _modules()}
    assert packages <= set(RANK), sorted(packages - set(RANK))


def test_no_module_imports_a_higher_layer():
    violations = []
    for path, package in _modules():
        for line, imported in _imports(path):
            if imported is None or imported == package:
                continue
            assert imported in RANK, f"{path}:{line} imports unknown {imported!r}"
            if RANK[imported] > RANK[package]:
                violations.append(f"{path.relative_to(ROOT)}:{line} -> {imported}")
    assert not violations, "\n".join(violations)


def test_the_check_sees_a_violation(tmp_path):
    # The parser finds an upward import (so the check above can fail).
    module = tmp_path / "module.py"
    module.write_text("from keras_xai.cli.main import main\nimport keras_xai.utils\n")
    assert list(_imports(module)) == [(1, "cli"), (2, "utils")]
