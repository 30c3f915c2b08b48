import warnings

import pytest

import keras_xai


def test_api_reference_builds_from_the_docstrings(tmp_path, monkeypatch):
    pdoc = pytest.importorskip("pdoc")
    monkeypatch.setenv("PDOC_ALLOW_EXEC", "1")
    pdoc.render.configure(docformat="google")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc("keras_xai", output_directory=tmp_path)
    problems = [str(w.message) for w in caught if "pdoc" in (w.filename or "")]
    assert not problems, problems[:5]
    assert (tmp_path / "index.html").is_file()
    # Every public name of the model zoo has its own entry.
    page = (tmp_path / "keras_xai" / "applications.html").read_text()
    for name in keras_xai.applications.__all__:
        assert f'id="{name}"' in page, name
    # Methods are documented with their classes (Google-style sections).
    assert 'id="GuidedModel.compile_defaults"' in page
    assert (tmp_path / "keras_xai" / "training.html").is_file()
