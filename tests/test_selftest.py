"""`mediafind --self-test`: a real run with the tiny model, as a packaged app runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY_MODEL, TINY_SPEC

from mediafind import config, selftest
from mediafind.cli import main

pytestmark = pytest.mark.slow


def test_self_test_with_the_tiny_model_passes_and_reports_each_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--self-test", "--model", TINY_SPEC, "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert out.startswith("mediafind ")
    for step in ("load model", "index", "text 'a red circle'", "picture of a green square"):
        assert f"ok   {step}" in out
    assert "(red circle)" in out and "(green square)" in out
    assert "self-test passed in " in out
    # Only a temporary library: the user's data folder is not even created.
    assert not config.data_dir().exists()


def test_self_test_exits_non_zero_when_the_wrong_results_come_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No blue square is among the files, so whatever comes first for it is wrong.
    monkeypatch.setattr(selftest, "TEXT_QUERY", ("blue", "square"))
    code = main(["--self-test", "--model", TINY_SPEC, "--device", "cpu"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "FAIL text 'a blue square'" in out
    assert "self-test FAILED" in out


def test_without_a_bundled_model_the_self_test_says_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(selftest, "MODEL_DIR", tmp_path / "nowhere")
    assert main(["--self-test"]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "--model local-dir:" in err


def test_the_self_test_finds_the_model_inside_the_package() -> None:
    # The same lookup in a checkout, an installed wheel and the frozen app, whose spec puts the
    # model beside the package's modules (test_packaging checks that).
    assert selftest.bundled_model() == TINY_MODEL.resolve()
    assert selftest.default_model() == f"local-dir:{TINY_MODEL.resolve()}"
