import importlib.util
import pathlib

import pytest

pytest.importorskip("pdoc", reason="pdoc is not installed (extra docs)")

_SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "build_guides.py"


def _load():
    spec = importlib.util.spec_from_file_location("keras_xai_build_guides", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_guide_is_built_with_its_figures_and_no_broken_link(tmp_path):
    guides = _load()
    written = guides.build(tmp_path)
    names = {page.stem for page in written}
    applications = {p.parent.name for p in guides.ROOT.glob("applications/*/README.md")}
    assert {"overview", "scaling"} | applications == names
    for page in written:
        text = page.read_text(encoding="utf-8")
        assert 'href="../keras_xai.html"' in text  # back to the API reference
        # Every relative image or link of the page was copied beside it.
        for target in guides.re.findall(r'(?:src|href)="([^"#:]+)"', text):
            if target != "../keras_xai.html":  # written by pdoc, not here
                assert (page.parent / target).is_file(), (page.name, target)
    assert (tmp_path / "guides" / "impactx" / "example_explanations.png").is_file()


def test_a_link_to_nothing_fails_the_build_and_is_named(tmp_path):
    guides = _load()
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "applications" / "paper").mkdir(parents=True)
    (root / "README.md").write_text(
        "# Overview\n\n[the paper](applications/paper/README.md)\n"
    )
    (root / "docs" / "scaling.md").write_text("# Scaling\n")
    (root / "applications" / "paper" / "README.md").write_text(
        "# Paper\n\n![figure](missing.png)\n"
    )
    with pytest.raises(ValueError, match="applications/paper/README.md: missing.png"):
        guides.build(tmp_path / "site", root=root)
