"""The command line forgives and says plainly: a mistyped library creates nothing, options go
before or after the command, a mistyped command or model is named with the nearest right one,
the words say what really happened, and every command exits 0, 1 or 2 for the same reasons.

The real `main` in this process (with the fake model source, as test_instance has it), real
libraries and folders in tmp_path, and real `python -m mediafind` processes."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    FakeEncoder,
    SharedFakeSource,
    fake_model_cli,
    run_cli,
    save_shape,
    small_folder,
)

from mediafind.cli import build_parser, main
from mediafind.commands import _WatchReporter
from mediafind.embed import PRESETS, ModelSpec
from mediafind.errors import ModelUnavailable
from mediafind.instance import Server
from mediafind.keeper import IDLE, Status
from mediafind.report import Indexed, Progress
from mediafind.session import MODEL_MISSING, Options, Session
from mediafind.terminal import TerminalProgress, match_bar, summary

FakeSource = SharedFakeSource


class MissingSource(FakeSource):
    """A model whose weights cannot be had (offline, never downloaded)."""

    def load(self, spec: ModelSpec, device: str) -> FakeEncoder:
        raise ModelUnavailable("the model's weights are not downloaded; connect once")


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with fake_model_cli(monkeypatch):
        yield


cli = run_cli


def usage_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """What argparse says about a command line it refuses (it exits 2)."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    assert exited.value.code == 2
    return capsys.readouterr().err


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    return small_folder(tmp_path / "Pictures")


@pytest.fixture
def library(tmp_path: Path, pictures: Path) -> Path:
    """An indexed library of the small folder."""
    lib = tmp_path / "library"
    assert main(["--library", str(lib), "index", str(pictures)]) == 0
    return lib


# -- a mistyped library -------------------------------------------------------------------


READ_ONLY = [
    ["search", "red circle"],
    ["status"],
    ["status", "--json"],
    ["folders", "list"],
    ["folders", "remove", "/anywhere"],
    ["watch"],
    ["index"],  # without folders: nothing to put in a new library
]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_a_command_that_only_reads_finds_no_library_and_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    typo = tmp_path / "libary"
    code, out, err = cli(capsys, "--library", str(typo), *command)
    assert (code, out) == (2, "")
    assert err == (
        f"mediafind: no library at {typo}; add a folder with "
        f"`mediafind --library {typo} folders add FOLDER` to create one\n"
    )
    assert not typo.exists()


def test_without_library_flag_the_next_step_names_no_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAFIND_LIBRARY", str(tmp_path / "nowhere"))
    code, _, err = cli(capsys, "status")
    assert code == 2
    assert err.endswith("add a folder with `mediafind folders add FOLDER` to create one\n")


def test_models_lists_the_presets_without_a_library_and_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "libary"
    code, out, _ = cli(capsys, "--library", str(typo), "models")
    assert code == 0
    assert all(p.name in out for p in PRESETS)
    assert f"library's vectors made by: no library at {typo} yet" in out
    assert not typo.exists()


def test_adding_a_folder_creates_the_library_and_says_so_once(
    tmp_path: Path, pictures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = tmp_path / "new library"
    code, out, _ = cli(capsys, "--library", str(lib), "folders", "add", str(pictures))
    assert code == 0
    assert out.splitlines()[0] == f"created a new library at {lib}"
    assert (lib / "library.sqlite3").is_file()
    code, out, _ = cli(capsys, "--library", str(lib), "folders", "add", str(tmp_path))
    assert code == 0 and "created" not in out


def test_index_creates_the_library_and_says_so(
    tmp_path: Path, pictures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = tmp_path / "new library"
    code, out, _ = cli(capsys, "--library", str(lib), "index", str(pictures))
    assert code == 0
    assert out.splitlines()[0] == f"created a new library at {lib}"
    code, out, _ = cli(capsys, "--library", str(lib), "index")
    assert code == 0 and "created" not in out


def test_a_folder_that_does_not_exist_creates_no_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = tmp_path / "lib"
    code, out, err = cli(capsys, "--library", str(lib), "folders", "add", str(tmp_path / "nope"))
    assert (code, out, err) == (2, "", f"mediafind: {tmp_path / 'nope'} does not exist\n")
    assert not (lib / "library.sqlite3").exists()


@pytest.mark.parametrize("content", [os.urandom(3000), b"my shopping list\neggs\n"])
@pytest.mark.parametrize(
    "command", [["status"], ["search", "red"], ["folders", "add", "."], ["index"]], ids=" ".join
)
def test_a_library_path_that_is_a_file_is_one_line_and_the_file_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, command: list[str]
) -> None:
    file = tmp_path / "notes.txt"
    file.write_bytes(content)
    code, out, err = cli(capsys, "--library", str(file), *command)
    assert (code, out) == (2, "")
    assert err == (
        f"mediafind: {file} is a file, not a library folder; a library is a folder that holds "
        "library.sqlite3\n"
    )
    assert file.read_bytes() == content


def test_the_library_file_itself_given_as_library_suggests_its_folder(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "--library", str(library / "library.sqlite3"), "status")
    assert code == 2
    assert err.splitlines() == [
        f"mediafind: {library / 'library.sqlite3'} is a file, not a library folder; "
        f"did you mean --library {library}?"
    ]


@pytest.mark.parametrize("content", [os.urandom(3000), b"hello\n" * 100])
@pytest.mark.parametrize("command", [["status"], ["search", "red"], ["index"]], ids=" ".join)
def test_a_library_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, command: list[str]
) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "library.sqlite3").write_bytes(content)
    code, out, err = cli(capsys, "--library", str(lib), *command)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"mediafind: {lib / 'library.sqlite3'} is not a mediafind library (file is not a "
        "database); if it was one, `mediafind doctor` can move it aside and make a new one, "
        "otherwise choose another library folder"
    ]
    assert (lib / "library.sqlite3").read_bytes() == content


def test_a_folder_in_place_of_the_library_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = tmp_path / "lib"
    (lib / "library.sqlite3").mkdir(parents=True)
    for command in (["status"], ["folders", "add", str(tmp_path)]):
        code, _, err = cli(capsys, "--library", str(lib), *command)
        assert code == 2
        assert err == f"mediafind: {lib / 'library.sqlite3'} is a folder, not a library file\n"


# -- options, commands, models ------------------------------------------------------------


def test_global_options_work_after_the_command_too(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = cli(capsys, "--library", str(library), "--alone", "search", "red circle", "--json")
    after = cli(capsys, "search", "red circle", "--json", "--library", str(library), "--alone")
    assert before == after and before[0] == 0 and "red circle.png" in before[1]
    listed = cli(capsys, "folders", "list", "--library", str(library))
    assert listed == cli(capsys, "--library", str(library), "folders", "list")
    assert listed[0] == 0 and "Pictures" in listed[1]
    # Given on both sides, the one after the command wins (it is read last).
    code, out, _ = cli(capsys, "--library", "/nowhere", "status", "--library", str(library))
    assert code == 0 and str(library) in out


def test_model_after_the_command_is_the_one_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "models", "--model", "best", "--library", str(tmp_path))
    assert code == 0 and "model in use: best" in out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["serch", "red"], "unknown command 'serch'; did you mean 'search'?"),
        (["stauts"], "unknown command 'stauts'; did you mean 'status'?"),
        (["folders", "lst"], "unknown command 'lst'; did you mean 'list'?"),
        (["xyzzy"], "unknown command 'xyzzy' (the commands: folders, index, watch, search, "),
    ],
)
def test_an_unknown_command_is_answered_with_the_nearest_one(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    assert said in usage_error(capsys, *argv)


def test_an_unknown_model_is_refused_at_once_with_the_presets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = tmp_path / "lib"
    code, out, err = cli(capsys, "--library", str(lib), "--model", "fsat", "index", str(tmp_path))
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("mediafind: unknown model 'fsat' (--model); did you mean 'fast'? ")
    assert "The presets: fast, balanced, best, multilingual" in line
    assert "NAME:PRETRAINED" in line and "hf-hub:" in line and "local-dir:PATH" in line
    assert not lib.exists()


def test_an_unknown_model_from_the_environment_is_named_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIAFIND_MODEL", "vitb32")
    code, _, err = cli(capsys, "--library", str(tmp_path / "lib"), "search", "red")
    assert code == 2
    assert err.startswith("mediafind: unknown model 'vitb32' (MEDIAFIND_MODEL). The presets: ")


def test_an_unknown_model_is_refused_before_a_running_instance_is_asked(
    library: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIAFIND_NO_INSTANCE")
    session = Session(Options(library=str(library), watch=False))
    server = Server(session)
    assert server.start()
    try:
        code, _, err = cli(capsys, "--library", str(library), "search", "red", "--model", "bset")
        assert code == 2 and "did you mean 'best'?" in err
        assert server.answered == 0
        assert cli(capsys, "--library", str(library), "status")[0] == 0
        assert server.answered > 0  # the instance does answer the command line
    finally:
        server.stop()
        session.stop()


# -- the words say what happened ----------------------------------------------------------


def test_adding_folders_without_a_watcher_says_added_and_what_indexes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    media = tmp_path / "Media"
    photos, notes = small_folder(media / "Photos"), small_folder(media / "Notes")
    base = ["--library", str(tmp_path / "lib")]
    code, out, _ = cli(capsys, *base, "folders", "add", str(photos), str(notes))
    assert code == 0
    assert out.splitlines()[1:] == [
        f"added {photos}",
        f"added {notes}",
        "`mediafind index` indexes them now; `mediafind watch` keeps them indexed as files change",
    ]
    assert "watching" not in out
    code, out, _ = cli(capsys, *base, "folders", "add", str(photos), "--polling", "never")
    assert (code, out) == (0, f"{photos} is already in the library\n")
    code, out, _ = cli(capsys, *base, "folders", "add", str(photos / "holiday"))
    assert (code, out) == (0, f"{photos / 'holiday'} is already in the library, inside {photos}\n")
    code, out, _ = cli(capsys, *base, "folders", "add", str(media))
    assert code == 0
    assert out.splitlines() == [
        f"added {media}; it takes in 2 folders already in the library: {notes}, {photos}",
        "`mediafind index` indexes it now; `mediafind watch` keeps it indexed as files change",
    ]
    code, out, _ = cli(capsys, *base, "folders", "list")
    assert out == f"{media}  (unwatched, 0 files)\n"


def test_a_parent_folder_keeps_the_files_of_the_folders_it_takes_in(
    library: Path, pictures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = pictures.parent
    code, out, _ = cli(capsys, "--library", str(library), "folders", "add", str(parent))
    assert code == 0
    assert out.splitlines()[0] == (
        f"added {parent}; it takes in a folder already in the library: {pictures}"
    )
    assert cli(capsys, "--library", str(library), "folders", "list")[1] == (
        f"{parent}  (unwatched, 3 files)\n"
    )


def test_adding_a_folder_to_a_running_mediafind_says_watching(
    library: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MEDIAFIND_NO_INSTANCE")
    session = Session(Options(library=str(library), watch=True))
    session.start()
    assert session.wait_started(10) and session.index is not None
    server = Server(session)
    assert server.start()
    more = small_folder(tmp_path / "More")
    try:
        code, out, _ = cli(capsys, "--library", str(library), "folders", "add", str(more))
        assert code == 0
        assert out.splitlines() == [
            f"watching {more}",
            f"mediafind (pid {os.getpid()}) is indexing now: `mediafind status` shows how far "
            "it is",
        ]
    finally:
        server.stop()
        session.stop()


def test_removing_a_folder_not_in_the_library_is_a_user_error_that_says_why(
    library: Path, pictures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "--library", str(library), "folders", "remove",
                         str(pictures / "notes"), "/elsewhere")  # fmt: skip
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"mediafind: {pictures / 'notes'} is not in the library; it is inside {pictures}, which "
        "is: only a whole folder of the library can be removed",
        "mediafind: /elsewhere is not in the library; `mediafind folders list` shows what is",
    ]
    code, out, _ = cli(capsys, "--library", str(library), "folders", "remove", str(pictures))
    assert (code, out) == (0, f"removed {pictures} from the library (its files stay on disk)\n")


def test_watch_says_files_wait_for_a_missing_model_not_up_to_date(
    library: Path, pictures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pictures / "notes" / "new.md").write_text("A green triangle.\n")
    session = Session(Options(library=str(library)), MissingSource())
    try:
        session.start()  # the new note is read by its words, and waits for the model
        assert session.wait_started(10) and session.index is not None
        assert session.index.wait_idle(10)
        assert session.model_state == MODEL_MISSING
        _WatchReporter(session)(Status(IDLE, message=session.status().message))
    finally:
        session.stop()
    out = capsys.readouterr().out
    assert "up to date" not in out
    assert out == (
        "1 file waits for the model (0 indexed, 0 removed, 0 could not be read so far; their "
        "words are searchable meanwhile): the model's weights are not downloaded; connect once\n"
    )


def test_watch_with_the_model_says_up_to_date(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = Session(Options(library=str(library)))
    try:
        session.start()
        assert session.wait_started(10) and session.index is not None
        assert session.index.wait_idle(10)
        capsys.readouterr()
        _WatchReporter(session)(Status(IDLE))
    finally:
        session.stop()
    assert capsys.readouterr().out.startswith("up to date (")


# -- exit codes ---------------------------------------------------------------------------


def test_help_tells_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    text = build_parser().format_help()
    for line in ("  0    done", "  1    nothing could be done", "  2    a usage or user error"):
        assert line in text
    assert "options of every command (before or after it)" in text


def test_nothing_readable_at_all_exits_1_and_a_busy_library_exits_1(
    tmp_path: Path,
    library: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.jpg").write_bytes(b"garbage")
    code, _, _ = cli(capsys, "--library", str(tmp_path / "other"), "index", str(broken))
    assert code == 1
    session = Session(Options(library=str(library), watch=False))
    session.start()
    try:
        assert session.wait_started(10) and session.index is not None
        code, _, err = cli(capsys, "--alone", "--library", str(library), "folders", "add",
                           str(broken))  # fmt: skip
        assert code == 1 and "being written by another mediafind process" in err
    finally:
        session.stop()


# -- what search and index print ----------------------------------------------------------


def test_search_shows_a_match_bar_not_numbers_and_json_keeps_the_numbers(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "--library", str(library), "search", "red circle")
    assert code == 0
    results = [line for line in out.splitlines() if not line.startswith(" ")]
    assert results and all(re.match(r"[●○]{5}  (photo|note )  /", line) for line in results)
    assert not re.search(r"\d\.\d", out)
    code, out, _ = cli(capsys, "--library", str(library), "search", "red circle", "--json")
    assert code == 0 and re.search(r'"score": [01]\.\d+', out)


def test_the_match_bar_fills_with_the_score() -> None:
    assert [match_bar(s) for s in (1.0, 0.61, 0.3, 0.01, 0.0)] == [
        "●●●●●",
        "●●●○○",
        "●●○○○",
        "●○○○○",
        "     ",
    ]


CORRUPT = "not a readable image (corrupt or unsupported format)"


def test_the_index_line_reads_as_a_sentence_and_counts_the_unreadable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "photos"
    save_shape(root / "good.jpg", "red", "circle", 1)
    save_shape(root / "fine.png", "blue", "square", 2)
    (root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0not really a jpeg")
    (root / "empty.jpg").write_bytes(b"")
    code, out, err = cli(capsys, "--library", str(tmp_path / "lib"), "index", str(root))
    assert code == 0
    unread = [line for line in err.splitlines() if line.startswith("could not read ")]
    assert unread == [f"could not read {root / 'corrupt.jpg'}: damaged image: file is truncated"]
    assert f"nothing to index in {root / 'empty.jpg'}: empty file" in err.splitlines()
    assert re.fullmatch(
        r"Indexed 4 files in \d+ s \(2 new or changed\); 1 could not be read \(listed above; "
        r"`mediafind status` lists them\); 1 holds nothing to index \(listed above\)",
        out.splitlines()[-1],
    ), out
    (root / "fine.png").unlink()
    code, out, _ = cli(capsys, "--library", str(tmp_path / "lib"), "index")
    # The unreadable file is not read again (it has not changed): still counted.
    assert re.fullmatch(r"Indexed 3 files in \d+ s \(2 unchanged, 1 removed\); 1 could not be "
                        r"read \(`mediafind status` lists them\)\n", out), out  # fmt: skip
    (root / "empty.jpg").write_bytes(b"still no picture")
    code, out, err = cli(capsys, "--library", str(tmp_path / "lib"), "index")
    assert err == f"could not read {root / 'empty.jpg'}: {CORRUPT}\n"
    assert out.endswith(" (1 unchanged); 2 could not be read (1 listed above; `mediafind status` "
                        "lists them all)\n")  # fmt: skip


def test_the_index_line_leaves_out_what_is_zero() -> None:
    done = Indexed(indexed=12, reused=3, moved=2, unchanged=1187, seconds=182)
    assert (
        summary(done)
        == "Indexed 1,204 files in 3 min (15 new or changed, 2 moved, 1,187 unchanged)"
    )
    assert summary(Indexed(seconds=0.2)) == "Indexed 0 files in 1 s"
    lost = Indexed(unchanged=1, walk_errors=[(Path("/a"), "denied")], offline=[Path("/b")])
    assert summary(lost) == (
        "Indexed 1 file in 1 s (1 unchanged); 1 folder could not be opened; "
        "1 folder offline, kept as it was"
    )


def progress(done: int, total: int) -> Progress:
    return Progress(done, total, Path("IMG_0001.jpg"), 0, rate=4.0, eta=(total - done) / 4.0)


def test_the_time_left_shows_only_once_it_means_something() -> None:
    now = [100.0]
    bar = TerminalProgress(io.StringIO(), clock=lambda: now[0])
    assert bar.line(progress(0, 1000)) == "0 of 1,000 files  IMG_0001.jpg"
    now[0] += 3
    assert "left" not in bar.line(progress(30, 1000))  # 3 s: the model may still be warming up
    now[0] += 3
    assert "left" not in bar.line(progress(10, 1000))  # 6 s, but 10 files are 1 %
    assert bar.line(progress(20, 1000)) == (
        "20 of 1,000 files, 4.0 files/s, about 4 min left  IMG_0001.jpg"
    )
    small = TerminalProgress(io.StringIO(), clock=lambda: now[0])
    small.line(progress(0, 40))
    now[0] += 6
    assert "about 9 s left" in small.line(progress(3, 40))  # few files, but 7 % of them


def test_the_progress_line_is_rewritten_in_place_and_ended_once() -> None:
    now = [0.0]
    stream = io.StringIO()
    bar = TerminalProgress(stream, clock=lambda: now[0])
    bar(progress(1, 10))
    bar(progress(2, 10))  # within the redraw interval: skipped
    now[0] += 1
    bar(progress(10, 10))
    bar.finish()
    bar.finish()
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "could not be read" not in text


# -- real processes -----------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "mediafind", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_a_real_process_suggests_the_command_and_finds_no_library(tmp_path: Path) -> None:
    typo = run("serch", "red")
    assert typo.returncode == 2
    assert "unknown command 'serch'; did you mean 'search'?" in typo.stderr
    missing = run("status", "--library", str(tmp_path / "libary"))
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr.startswith(f"mediafind: no library at {tmp_path / 'libary'}; ")
    assert not (tmp_path / "libary").exists()
    model = run("--model", "balancd", "search", "red", "--library", str(tmp_path))
    assert model.returncode == 2 and "did you mean 'balanced'?" in model.stderr


def test_the_list_of_commands_says_each_one_in_whole_sentences() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.choices and a.dest == "command")
    assert isinstance(commands.choices, dict)
    listed = {a.dest: (a.help or "").replace("%%", "%") for a in commands._get_subactions()}
    for name, sub in commands.choices.items():
        if name in ("folders", "gui"):  # their own short help, not their description's
            continue
        first = " ".join((sub.description or "").split("\n\n")[0].split())
        assert listed[name] == first, name  # the first paragraph whole, never cut mid-sentence
        assert first.endswith((".", ")")), name


@pytest.mark.parametrize(
    "command", [["status"], ["duplicates"], ["duplicates", "--json"], ["folders", "list"]]
)
def test_output_into_a_pipe_its_reader_left_is_not_an_error(
    tmp_path: Path, pictures: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """`mediafind status | head -1`: the reader leaves before the output is written; the
    command ends quietly with 0, as other tools do, not with "mediafind: Broken pipe"."""
    lib = tmp_path / "library"
    assert cli(capsys, "--library", str(lib), "index", str(pictures))[0] == 0
    read, write = os.pipe()
    os.close(read)  # nobody will read: every write is a broken pipe
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mediafind", "--library", str(lib), *command],
            stdout=write,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr.decode()) == (0, "")
