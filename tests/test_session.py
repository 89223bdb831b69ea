"""The session: the policies both faces share, with real libraries and a fake model source."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder, save_shape, small_folder

from mediafind import config, memo, roots_rows
from mediafind.embed import ModelSpec
from mediafind.errors import ConfigError, MediafindError, ModelUnavailable
from mediafind.query import parse
from mediafind.session import (
    MODEL_MISSING,
    MODEL_NOT_LOADED,
    MODEL_READY,
    Options,
    Session,
)
from mediafind.store import Store


class Source:
    """Hands out one FakeEncoder; counts loads; can be told that the weights are missing."""

    def __init__(self, missing: bool = False) -> None:
        self.encoder = FakeEncoder()
        self.missing = missing
        self.loads = 0

    def identity(self, spec: ModelSpec) -> str:
        return self.encoder.identity

    def close(self) -> None:
        pass

    def load(self, spec: ModelSpec, device: str) -> FakeEncoder:
        if self.missing:
            raise ModelUnavailable(f"the weights of {spec.text} are not here")
        self.loads += 1
        return self.encoder


def indexed_session(tmp_path: Path, source: Source | None = None, **options: str) -> Session:
    session = Session(Options(library=str(tmp_path / "library"), **options), source or Source())
    session.index_now([small_folder(tmp_path / "Pictures")])
    return session


def test_the_model_comes_from_the_flag_then_environment_then_settings_then_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = str(tmp_path / "library")
    session = indexed_session(tmp_path, model="fast")
    assert session.model_text == "fast"
    assert Session(Options(library=library), Source()).model_text == "fake"  # as recorded
    config.save_settings(config.Settings(model="best"))
    assert Session(Options(library=library), Source()).model_text == "best"
    monkeypatch.setenv(config.ENV_MODEL, "multilingual")
    again = Session(Options(library=library), Source())
    assert (again.model_text, again.model_locked_by) == ("multilingual", config.ENV_MODEL)
    flagged = Session(Options(library=library, model="balanced"), Source())
    assert (flagged.model_text, flagged.model_locked_by) == ("balanced", "--model")


def test_a_broken_settings_file_stops_the_command_line_but_not_the_window(tmp_path: Path) -> None:
    config.settings_path().parent.mkdir(parents=True, exist_ok=True)
    config.settings_path().write_text("model = [", encoding="utf-8")
    with pytest.raises(ConfigError):
        Session(Options(library=str(tmp_path / "library")), Source())
    window = Session(Options(library=str(tmp_path / "library")), Source(), tolerant=True)
    assert window.settings == config.Settings()
    assert window.settings_problem is not None and "settings" in window.settings_problem


def test_without_the_model_a_search_finds_words_and_says_why(tmp_path: Path) -> None:
    indexed_session(tmp_path, model="fast")
    offline = Session(Options(library=str(tmp_path / "library"), model="fast"), Source(True))
    results = offline.search(parse("red circle"), 20)
    assert results is not None and results.words_only and results.final
    assert "weights of" in results.note
    assert {h.path.name for h in results.hits} == {"garden.md", "red circle.png"}
    assert offline.model_state == MODEL_MISSING
    picture = save_shape(tmp_path / "query.png", "red", "circle", seed=9)
    by_picture = offline.search(parse("").with_image(picture), 20)
    assert by_picture is not None and by_picture.hits == ()
    assert by_picture.note.startswith("Searching by picture needs the model.")


def test_word_matches_come_first_while_the_model_loads(tmp_path: Path) -> None:
    session = indexed_session(tmp_path, model="fast")
    fresh = Session(Options(library=str(tmp_path / "library"), model="fast"), Source())
    interim = []
    results = fresh.search(parse("garden", lenient=True), 20, interim=interim.append)
    assert [r.final for r in interim] == [False] and interim[0].words_only
    assert results is not None and results.final and not results.words_only
    assert fresh.model_state == MODEL_READY
    dropped = fresh.search(parse("garden"), 20, current=lambda: False)
    assert dropped is None  # superseded: never delivered
    session.stop()
    fresh.stop()


def test_the_idle_model_is_let_go_after_the_settings_idle_time(tmp_path: Path) -> None:
    config.save_settings(config.Settings(model_idle_seconds=1))
    source = Source()
    session = Session(Options(library=str(tmp_path / "library"), model="fast"), source)
    assert session.idle_release == 1.0
    session.start()
    try:
        session.load_encoder()
        assert session.model_state == MODEL_READY
        deadline = time.monotonic() + 10
        while session.model_state != MODEL_NOT_LOADED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session.model_state == MODEL_NOT_LOADED
        session.load_encoder()
        assert source.loads == 2
    finally:
        session.stop()


def test_folders_added_without_a_running_keeper_are_written_at_once(tmp_path: Path) -> None:
    session = Session(Options(library=str(tmp_path / "library"), model="fast"), Source())
    pictures = tmp_path / "Pictures"
    (pictures / "2024").mkdir(parents=True)
    assert session.add_folder(pictures) == pictures
    assert session.add_folder(pictures / "2024") == pictures  # already watched, inside
    assert session.remove_folder(tmp_path / "elsewhere") is False
    (pictures / "2024").rmdir()
    pictures.rmdir()
    [state] = session.overview().folders
    assert (state.path, state.state, state.note) == (pictures, "offline", "folder not found")
    assert session.remove_folder(pictures) is True
    assert session.overview().folders == []


def test_with_its_keeper_running_folders_and_index_go_through_the_keeper(tmp_path: Path) -> None:
    """The keeper holds the write lock: adding a folder or indexing must be done by it, not
    refused as if another process wrote the library; and the caller gets the same answers."""
    pictures = small_folder(tmp_path / "Pictures")
    options = Options(library=str(tmp_path / "library"), model="fast", watch=False)
    session = Session(options, Source())
    session.start()
    try:
        session.wait_started()
        assert session.index is not None
        assert session.add_folder(pictures, polling=True, wait=True) == pictures
        assert session.add_folder(pictures / "holiday", wait=True) == pictures
        outcome = session.index_now()
        assert (outcome.indexed, len(outcome.errors)) == (3, 0)
        assert session.overview().counts["photo"] == 2
        with Store.open(session.library_file) as store:
            assert [r.polling for r in roots_rows.roots(store)] == [True]
        assert session.remove_folder(tmp_path / "elsewhere", wait=True) is False
        assert session.remove_folder(pictures, wait=True) is True
        assert session.overview().folders == []
        keeper = session.index
    finally:
        session.stop()
    with pytest.raises(MediafindError, match="stopped"):
        keeper.add_folder(pictures).result(timeout=5)


def test_the_overview_lists_what_could_not_be_read(tmp_path: Path) -> None:
    root = small_folder(tmp_path / "Pictures")
    (root / "broken.png").write_bytes(b"not a picture")
    session = Session(Options(library=str(tmp_path / "library"), model="fast"), Source())
    session.index_now([root])
    view = session.overview()
    assert view.counts["photo"] == 2 and view.counts["note"] == 1
    assert [p.name for p, _ in view.errors] == ["broken.png"]
    [state] = view.folders
    assert (state.state, state.files, state.errors) == ("unwatched", 4, 1)
    assert state.describe() == "unwatched, 4 files, 1 could not be read"


def test_another_models_library_answers_with_words_and_says_how_to_search_it(
    tmp_path: Path,
) -> None:
    indexed_session(tmp_path, model="fast")
    other = Source()
    other.encoder.identity = "another-model"
    session = Session(Options(library=str(tmp_path / "library"), model="best"), other)
    results = session.search(parse("garden"), 20)
    assert results is not None and results.words_only
    assert "indexed with" in results.note and "mediafind --model" in results.note
    assert [h.path.name for h in results.hits] == ["garden.md"]


def test_a_query_asked_again_needs_no_model(tmp_path: Path) -> None:
    session = indexed_session(tmp_path, model="fast")
    first = session.search(parse("red circle"), 20)
    assert first is not None and not first.words_only
    session.stop()
    # Another process, whose model cannot even be opened: the vectors of the query and of the
    # relevance floor's generic descriptions are remembered.
    source = Source(missing=True)
    again = Session(Options(library=str(tmp_path / "library"), model="fast"), source)
    repeated = again.search(parse("red circle"), 20)
    assert repeated is not None and not repeated.words_only
    assert [(h.path, h.score) for h in repeated.hits] == [(h.path, h.score) for h in first.hits]
    assert source.encoder.texts_encoded == []
    new = again.search(parse("blue square"), 20)
    assert new is not None and new.words_only and "weights of" in new.note


def test_remembered_query_vectors_are_kept_per_model_and_the_oldest_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memo, "KEPT", 3)
    one = memo.TextMemo(tmp_path, "model-1", 4)
    other = memo.TextMemo(tmp_path, "model-2", 4)
    for i in range(5):
        one.put(f"query {i}", np.full(4, i, dtype=np.float32))
        time.sleep(0.01)  # distinct modification times
    assert one.get("query 0") is None and one.get("query 1") is None
    found = one.get("query 4")
    assert found is not None and found.tolist() == [4.0] * 4
    assert other.get("query 4") is None
    assert memo.TextMemo(tmp_path, "model-1", 8).get("query 4") is None  # not its size
