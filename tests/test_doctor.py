"""The doctor finds each kind of damage done on purpose to a real library, the repair fixes it
keeping what is sound, and a second check says all is well; the command line's lines and exit
codes; the window's Check Library dialog.

Libraries are real: a small folder indexed with the fake encoder, then damaged through SQLite
(keyword index shadow tables, vectors written back as NaN or too long, orphan chunks), by
writing garbage over a page of the file, or by replacing the file with something else."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder, SharedFakeSource, fake_model_cli, save_shape, small_folder
from gui_support import open_fake_window
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mediafind import doctor, roots_rows, search_rows
from mediafind.cli import main
from mediafind.errors import LibraryBusy, LibraryDamaged
from mediafind.gui.window import MainWindow
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.query import parse
from mediafind.schema import connect
from mediafind.search import Searcher
from mediafind.session import Options, Session
from mediafind.store import Store

__all__ = ["open_fake_window"]  # fixture


def index(library: Path, folder: Path | None = None) -> None:
    encoder = FakeEncoder()
    with Store.open(library, writer=True) as store:
        if folder is not None:
            roots_rows.add_root(store, folder)
        sync(Indexer(store, lambda: encoder, encoder.identity))  # type: ignore[arg-type,return-value]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = small_folder(tmp_path / "files")
    save_shape(root / "holiday" / "red square.png", "red", "square", seed=3)
    (root / "notes" / "kitchen.txt").write_text("A blue square tile above the sink.\n")
    return root


@pytest.fixture
def library(tmp_path: Path, folder: Path) -> Path:
    path = tmp_path / "lib" / "library.sqlite3"
    index(path, folder)
    return path


def damage(library: Path, *sql: str, args: tuple[object, ...] = ()) -> None:
    """Change the file beneath the store: foreign keys off, as a damaged file has them."""
    conn = connect(library)
    conn.pragma("foreign_keys", False)
    with conn:
        for statement in sql:
            conn.execute(statement, args if "?" in statement else ())
    conn.close()


def chunk_of(library: Path, name: str) -> int:
    with Store.open(library) as store:
        row = store.conn.execute(
            "SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id "
            "WHERE CAST(f.path AS TEXT) LIKE ? AND c.seq >= 0",
            (f"%{name}",),
        ).fetchone()
    assert row is not None
    return int(row[0])


def write_vector(library: Path, chunk_id: int, vector: np.ndarray, modality: str) -> None:
    damage(
        library,
        f"DELETE FROM vectors WHERE chunk_id = {chunk_id}",
        "INSERT INTO vectors(chunk_id, embedding, modality) VALUES (?, ?, ?)",
        args=(chunk_id, vector.astype(np.float32).tobytes(), modality),
    )


def verdicts(report: doctor.Report) -> dict[str, str]:
    return {f.check: f.verdict for f in report.findings}


def photos_like(library: Path, picture: Path) -> list[str]:
    """A search by a picture, as the app answers it: the photos' names, nearest first."""
    with Store.open(library) as store:
        query = parse("").with_image(picture)
        hits = Searcher(store, FakeEncoder()).answer(query, 10).hits  # type: ignore[arg-type]
    return [h.path.name for h in hits if h.kind == "photo"]


def test_a_sound_library_passes_every_check(library: Path) -> None:
    for full in (False, True):
        report = doctor.check(library, full=full, model_identity=FakeEncoder.identity)
        assert report.healthy and not report.repairable, report
        assert set(verdicts(report).values()) == {"ok"}
    counts = doctor.check(library).finding(doctor.COUNTS)
    assert counts is not None and counts.said == "5 files, 5 chunks, 5 vectors"


def test_a_damaged_keyword_index_is_found_and_rebuilt(library: Path) -> None:
    damage(library, "DELETE FROM chunks_fts_data WHERE id > 10")
    report = doctor.check(library)
    assert verdicts(report)[doctor.KEYWORDS] == "damaged"
    assert not report.beyond_repair
    repaired = doctor.repair(library)
    assert repaired.done == ("rebuilt the keyword index from the text",)
    assert doctor.check(library).healthy
    with Store.open(library) as store:
        hits = search_rows.keyword_chunks(store, "sink", 5)
    assert [h.path.name for h in hits] == ["kitchen.txt"]


def test_a_damaged_name_index_is_found_and_rebuilt(library: Path) -> None:
    damage(library, "DELETE FROM names_fts_data WHERE id > 10")
    assert verdicts(doctor.check(library))[doctor.NAMES] == "damaged"
    doctor.repair(library)
    assert doctor.check(library).healthy
    with Store.open(library) as store:
        assert [f.path.name for f in search_rows.files_named(store, "garden", 5)] == ["garden.md"]


@pytest.mark.parametrize(
    "bad", [np.full(16, math.nan), np.full(16, 5.0), np.zeros(16)], ids=["nan", "long", "zero"]
)
def test_bad_vectors_are_found_by_the_full_check_and_embedded_again(
    library: Path, folder: Path, bad: np.ndarray, tmp_path: Path
) -> None:
    blue = folder / "holiday" / "blue square.png"
    write_vector(library, chunk_of(library, "blue square.png"), bad, "image")
    assert doctor.check(library).healthy  # SQLite's checks pass: only reading finds it
    report = doctor.check(library, full=True)
    found = report.finding(doctor.VECTORS)
    assert found is not None and found.verdict == "damaged" and found.files == (blue,)
    assert (
        "1 of 5 are not finite or not unit-length, of 1 file " in found.said
        and str(blue) in found.said
    )
    repaired = doctor.repair(library, full=True)
    assert repaired.reindex
    with Store.open(library) as store:
        assert [r.path for r in store.pending()] == [blue]
    index(library)
    assert doctor.check(library, full=True).healthy
    blueish = save_shape(tmp_path / "query" / "blue triangle.png", "blue", "triangle", seed=4)
    assert photos_like(library, blueish)[0] == "blue square.png"


def test_orphan_chunks_and_vectors_are_removed(library: Path) -> None:
    vector = np.eye(16, dtype=np.float32)[0]
    damage(
        library,
        "INSERT INTO chunks(id, file_id, seq, source, text) VALUES (900, 999, 0, 'text', 'lost')",
        "INSERT INTO vectors(chunk_id, embedding, modality) VALUES (901, ?, 'text')",
        args=(vector.tobytes(),),
    )
    report = doctor.check(library)
    counts = report.finding(doctor.COUNTS)
    assert counts is not None and counts.verdict == "damaged"
    assert "1 chunks of no file" in counts.said and "1 vectors of no chunk" in counts.said
    repaired = doctor.repair(library)
    assert repaired.done == ("removed 2 chunks and vectors that belonged to nothing",)
    assert doctor.check(library, full=True).healthy
    with Store.open(library) as store:
        assert search_rows.keyword_chunks(store, "lost", 5) == []


def test_an_indexed_file_missing_its_vector_is_embedded_again(library: Path) -> None:
    damage(library, f"DELETE FROM vectors WHERE chunk_id = {chunk_of(library, 'red circle.png')}")
    counts = doctor.check(library).finding(doctor.COUNTS)
    assert counts is not None and "1 indexed files missing vectors" in counts.said
    doctor.repair(library)
    index(library)
    assert doctor.check(library, full=True).healthy


def test_index_stops_at_damage_and_says_to_run_the_doctor(library: Path) -> None:
    damage(library, "DELETE FROM chunks_fts_data WHERE id > 10")
    with Store.open(library, writer=True) as store, pytest.raises(LibraryDamaged) as said:
        doctor.preflight(store)
    assert "mediafind doctor --repair" in str(said.value)


def garble_page(library: Path, table: str) -> None:
    """Write garbage over one page of a table in the middle of the file."""
    with Store.open(library) as store:
        store.conn.pragma("wal_checkpoint", "TRUNCATE")
        page_size = int(store.conn.pragma("page_size"))
        pages = [r[0] for r in store.conn.execute("SELECT pageno FROM dbstat WHERE name = ?",
                                                   (table,))]  # fmt: skip
    with open(library, "r+b") as f:
        f.seek((pages[-1] - 1) * page_size)
        f.write(bytes(range(256)) * (page_size // 256))


def test_a_damaged_page_moves_the_library_aside_for_a_new_one_with_its_folders(
    library: Path, folder: Path
) -> None:
    garble_page(library, "chunks")
    report = doctor.check(library)
    assert report.beyond_repair and verdicts(report) == {doctor.FILE: "damaged"}
    assert report.roots == (folder,)
    repaired = doctor.repair(library)
    assert repaired.moved_to is not None and repaired.moved_to.exists()
    assert repaired.moved_to.name.startswith("library.sqlite3.damaged-")
    assert repaired.folders == (folder,) and repaired.reindex
    assert doctor.check(library).healthy
    index(library)
    assert photos_like(library, folder / "holiday" / "red circle.png")[0] == "red square.png"


@pytest.mark.parametrize("content", [b"", b"these are not the bytes of a database\n" * 200])
def test_a_file_that_is_not_a_library_is_moved_aside_never_deleted(
    library: Path, content: bytes
) -> None:
    for part in ("-wal", "-shm"):
        library.with_name(library.name + part).unlink(missing_ok=True)
    library.write_bytes(content)
    report = doctor.check(library)
    assert report.beyond_repair and report.finding(doctor.FILE) is not None
    repaired = doctor.repair(library)
    assert repaired.moved_to is not None and repaired.moved_to.read_bytes() == content
    assert repaired.folders_lost and repaired.folders == ()
    assert doctor.check(library).healthy


def test_repair_is_refused_while_another_process_writes(library: Path) -> None:
    damage(library, "DELETE FROM chunks_fts_data WHERE id > 10")
    with Store.open(library, writer=True), pytest.raises(LibraryBusy):
        doctor.repair(library)


def test_a_damaged_vector_copy_is_removed_and_made_anew(library: Path, folder: Path) -> None:
    red = folder / "holiday" / "red circle.png"
    photos_like(library, red)  # makes the copy
    copy = doctor.library_copy(library)
    assert copy.exists()
    copy.write_bytes(b"MFVECS1\n" + b"\xff" * 64)
    assert verdicts(doctor.check(library))[doctor.COPY] == "damaged"
    doctor.repair(library)
    assert not copy.exists() and doctor.check(library).healthy
    assert photos_like(library, red)[0] == "red square.png"


def test_another_model_is_a_warning_not_damage(library: Path) -> None:
    report = doctor.check(library, model_identity="another-model")
    assert report.healthy and verdicts(report)[doctor.MODEL] == "warning"


# -- the command line ---------------------------------------------------------------------


@pytest.fixture
def _fake_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with fake_model_cli(monkeypatch):
        yield


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


@pytest.mark.usefixtures("_fake_model")
def test_doctor_prints_a_line_per_check_and_exits_0_on_a_sound_library(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = cli(capsys, "--library", str(library.parent), "doctor")
    assert (code, err) == (0, "")
    assert lines[0] == "ok       integrity: quick check"
    assert "ok       keyword index" in lines
    assert lines[-2].startswith("The library is sound (quick check")


@pytest.mark.usefixtures("_fake_model")
def test_doctor_names_the_damage_exits_1_and_repair_fixes_it(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(library, "DELETE FROM chunks_fts_data WHERE id > 10")
    where = ("--library", str(library.parent))
    code, lines, _ = cli(capsys, *where, "doctor")
    assert code == 1
    assert any(line.startswith("DAMAGED  keyword index: it does not match") for line in lines)
    assert lines[-2] == "1 problem found (quick check, " + lines[-2].split(", ", 1)[1]
    assert lines[-1] == (
        "Next: `mediafind doctor --repair` will rebuild the keyword index from the text."
    )
    code, lines, _ = cli(capsys, *where, "doctor", "--repair")
    assert code == 0
    assert "repaired rebuilt the keyword index from the text" in lines
    assert "ok       keyword index" in lines
    code, lines, _ = cli(capsys, *where, "doctor", "--json")
    assert code == 0 and json.loads("\n".join(lines))["healthy"] is True


@pytest.mark.usefixtures("_fake_model")
def test_doctor_repairs_a_file_that_is_not_a_library_and_says_what_next(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garble_page(library, "chunks")
    where = ("--library", str(library.parent))
    code, lines, _ = cli(capsys, *where, "doctor", "--json")
    assert code == 1 and json.loads("\n".join(lines))["beyond_repair"] is True
    code, lines, _ = cli(capsys, *where, "doctor", "--repair")
    assert code == 0
    assert any(line.startswith("repaired moved the damaged library aside to ") for line in lines)
    assert lines[-1] == "Next: `mediafind index` indexes the 1 folder again."
    code, lines, err = cli(capsys, *where, "index")
    assert code == 0, err


@pytest.mark.usefixtures("_fake_model")
def test_index_refuses_a_damaged_library_and_says_to_run_the_doctor(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(library, "DELETE FROM chunks_fts_data WHERE id > 10")
    code, _, err = cli(capsys, "--library", str(library.parent), "index")
    assert code == 1
    assert "is damaged" in err and "`mediafind doctor --repair`" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("_fake_model")
def test_doctor_repair_is_refused_in_one_line_while_another_process_writes(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(library, "DELETE FROM chunks_fts_data WHERE id > 10")
    with Store.open(library, writer=True):
        code, _, err = cli(capsys, "--library", str(library.parent), "doctor", "--repair")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "close the window or `watch`" in err


# -- the session and the window -----------------------------------------------------------


@pytest.fixture
def session(library: Path) -> Iterator[Session]:
    s = Session(Options(library=str(library.parent), model="fast"), SharedFakeSource())
    yield s
    s.stop()


def test_a_running_keeper_repairs_in_place_and_embeds_again(
    session: Session, library: Path
) -> None:
    write_vector(library, chunk_of(library, "blue square.png"), np.full(16, math.nan), "image")
    session.start()
    assert session.wait_started(10) and session.index is not None
    keeper = session.index
    repaired = session.repair_library(full=True)
    assert repaired.reindex and session.index is keeper  # not restarted
    assert keeper.wait_idle(10)
    assert session.check_library_health(full=True).healthy


def test_a_running_keeper_is_stopped_to_replace_a_library_beyond_repair(
    session: Session, library: Path, folder: Path
) -> None:
    session.start()
    assert session.wait_started(10) and session.index is not None
    keeper = session.index
    garble_page(library, "chunks")
    repaired = session.repair_library()
    assert repaired.moved_to is not None
    assert session.wait_started(10) and session.index is not None and session.index is not keeper
    assert session.index.wait_idle(10)
    assert session.overview().counts["photo"] == 3


def test_check_library_dialog_lists_findings_and_repairs(
    qtbot: QtBot, session: Session, library: Path
) -> None:
    from mediafind.gui.doctor_dialog import DoctorDialog

    damage(library, "DELETE FROM chunks_fts_data WHERE id > 10")
    dialog = DoctorDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)
    rows = [dialog.findings.topLevelItem(i) for i in range(dialog.findings.topLevelItemCount())]
    texts = {r.text(0): r.text(1) for r in rows if r is not None}
    assert texts["keyword index"].startswith("Damaged: it does not match")
    assert dialog.repair_button.isVisible() and dialog.repair_button.isEnabled()
    qtbot.mouseClick(dialog.repair_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.repaired is not None, timeout=10_000)
    qtbot.waitUntil(lambda: dialog.report is not None and dialog.report.healthy, timeout=10_000)
    assert not dialog.repair_button.isVisible()
    assert "rebuilt the keyword index" in dialog.summary.text()


def test_help_check_library_repairs_the_library_the_window_holds(
    open_fake_window: Callable[..., MainWindow], qtbot: QtBot, library: Path
) -> None:
    from mediafind.gui.doctor_dialog import DoctorDialog

    garble_page(library, "chunks")
    window = open_fake_window(library.parent)
    session = window.session
    (help_menu,) = [a.menu() for a in window.menuBar().actions() if a.text() == "&Help"]
    (action,) = [a for a in help_menu.actions() if a.text() == "&Check Library…"]
    action.trigger()
    dialog = window.findChild(DoctorDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)
    assert dialog.findings.topLevelItem(0).text(0) == "library file"
    assert dialog.findings.topLevelItem(0).text(1).startswith("Damaged: SQLite")
    qtbot.mouseClick(dialog.repair_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.report is not None and dialog.repaired is not None, timeout=20_000
    )
    assert dialog.report.healthy and "moved the damaged library aside" in dialog.summary.text()
    # The window indexes the new library's folders again by itself.
    qtbot.waitUntil(lambda: session.index is not None, timeout=20_000)
    assert session.index is not None and session.index.wait_idle(20)
    assert session.overview().counts["photo"] == 3


def test_a_vector_filed_under_the_wrong_kind_is_embedded_again(library: Path) -> None:
    chunk = chunk_of(library, "blue square.png")
    write_vector(library, chunk, np.eye(16, dtype=np.float32)[2], "text")
    counts = doctor.check(library).finding(doctor.COUNTS)
    assert counts is not None and "1 vectors filed under the wrong kind" in counts.said
    doctor.repair(library)
    index(library)
    assert doctor.check(library, full=True).healthy
