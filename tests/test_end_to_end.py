"""The whole engine through the command line, with the project's tiny OpenCLIP model on a
generated folder: nested, with spaces and non-ASCII names, a corrupt photo and an empty file."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TINY_SPEC, save_shape

from mediafind import shapes
from mediafind.cli import main
from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.query import Part, Query, parse
from mediafind.search import Searcher
from mediafind.store import Store

PAIRS = [
    (c, s) for c in ("red", "green", "blue", "yellow") for s in ("circle", "square", "triangle")
]
PHOTOS_PER_PAIR = 6
# Folders a real library has: nested, spaces, accents, other scripts.
FOLDERS = ["Ferien 2024/über den Wolken", "photos with spaces", "日本の写真/秋", "."]


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A folder of shapes and notes, indexed once for the whole module."""
    base = tmp_path_factory.mktemp("e2e")
    root, lib = base / "My Pictures", base / "library"
    rng = random.Random(20261122)
    for i, (colour, shape) in enumerate(PAIRS):
        for k in range(PHOTOS_PER_PAIR):
            folder = root / FOLDERS[(i + k) % len(FOLDERS)]
            ext = (".jpg", ".png", ".webp")[k % 3]
            save_shape(folder / f"{colour} {shape} {k}{ext}", colour, shape, rng.randrange(10**9))
        note = root / "notes" / f"note {i:02}.md"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(f"# Diary {i}\n\n{shapes.note(colour, shape, rng)}\n", encoding="utf-8")
    (root / "photos with spaces" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    (root / "photos with spaces" / "zero bytes.png").write_bytes(b"")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDIAFIND_CONFIG_DIR", str(base / "config"))
        code = main(["--library", str(lib), "--model", TINY_SPEC, "index", str(root)])
        assert code == 0
        yield root, lib


@pytest.fixture(scope="module")
def searcher(library: tuple[Path, Path]) -> Iterator[Searcher]:
    _, lib = library
    with Store.open(lib / "library.sqlite3") as store:
        yield Searcher(store, OpenClipEncoder(parse_spec(TINY_SPEC), device="cpu"))


def pair_of(path: Path) -> tuple[str, str]:
    colour, shape = path.name.split()[:2]
    return colour, shape


@pytest.mark.parametrize(("colour", "shape"), PAIRS)
def test_typed_words_bring_the_matching_photos_first(
    searcher: Searcher, colour: str, shape: str
) -> None:
    hits = searcher.search(parse(f"a {colour} {shape}").narrowed(kind="photo"), 5)
    precision = sum(pair_of(h.path) == (colour, shape) for h in hits) / 5
    assert precision >= 0.8, [h.path.name for h in hits]


def test_dropped_picture_of_a_green_square_brings_its_note_first(
    library: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, lib = library
    dropped = save_shape(tmp_path / "dropped.jpg", "green", "square", seed=777)
    code, out, _ = cli(
        "--library", str(lib), "--model", TINY_SPEC, "search", "--image", str(dropped),
        "--kind", "note", "--json", capsys=capsys,
    )  # fmt: skip
    assert code == 0
    results = json.loads(out)
    assert results[0]["kind"] == "note"
    assert "green square" in results[0]["snippet"].lower()
    assert results[0]["score"] >= results[-1]["score"]


def test_similar_photos_leave_out_the_query_picture_itself(
    library: tuple[Path, Path], searcher: Searcher
) -> None:
    root, _ = library
    query = next(root.rglob("blue triangle 0.*"))
    hits = searcher.search(Query(parts=(Part(image=query),), kind="photo"), 5)
    assert query not in [h.path for h in hits]
    assert sum(pair_of(h.path) == ("blue", "triangle") for h in hits) >= 4


def test_search_json_has_the_promised_shape(
    library: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, lib = library
    code, out, _ = cli("--library", str(lib), "search", "a yellow circle", "-n", "7", "--json",
                       capsys=capsys)  # fmt: skip
    assert code == 0
    results = json.loads(out)
    assert len(results) == 7
    assert {"path", "kind", "score"} <= set(results[0])
    assert all(Path(r["path"]).is_absolute() for r in results)
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert {r["kind"] for r in results} == {"photo", "note"}
    assert all("snippet" in r for r in results if r["kind"] == "note")


def test_status_json_counts_photos_notes_and_errors_with_reasons(
    library: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, lib = library
    code, out, _ = cli("--library", str(lib), "status", "--json", capsys=capsys)
    assert code == 0
    status = json.loads(out)
    assert status["counts"] == {
        "photo": len(PAIRS) * PHOTOS_PER_PAIR,
        "note": len(PAIRS),
        "error": 1,
        "pending": 0,
        "empty": 1,
    }
    assert status["model"] == parse_spec(TINY_SPEC).text
    assert status["folders"] == [
        {"path": str(root), "state": "unwatched", "files": len(PAIRS) * 7 + 2, "errors": 1}
    ]
    # The corrupt photo could not be read; the empty one holds nothing to index.
    reasons = {Path(e["path"]).name: e["reason"] for e in status["errors"]}
    assert reasons.keys() == {"corrupt.jpg"}
    empty = {Path(e["path"]).name: e["reason"] for e in status["empty"]}
    assert empty == {"zero bytes.png": "empty file"}


def test_rename_and_delete_are_followed_without_reembedding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, lib = tmp_path / "photos", tmp_path / "lib"
    save_shape(root / "a.jpg", "red", "circle", 1)
    save_shape(root / "b.jpg", "blue", "square", 2)
    base = ["--library", str(lib), "--model", TINY_SPEC]
    assert cli(*base, "index", str(root), capsys=capsys)[0] == 0
    (root / "sub").mkdir()
    (root / "a.jpg").rename(root / "sub" / "renamed circle.jpg")
    (root / "b.jpg").unlink()
    code, out, _ = cli(*base, "index", capsys=capsys)
    assert code == 0
    assert out.startswith("Indexed 1 file in ") and out.endswith(" (1 moved, 1 removed)\n")
    code, out, _ = cli(*base, "search", "a red circle", "--json", capsys=capsys)
    assert [Path(r["path"]).name for r in json.loads(out)] == ["renamed circle.jpg"]


def test_corrupt_and_empty_files_are_reported_and_the_rest_indexed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "photos"
    save_shape(root / "good.jpg", "red", "circle", 1)
    (root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0not really a jpeg")
    (root / "empty.jpg").write_bytes(b"")
    code, out, err = cli("--library", str(tmp_path / "lib"), "--model", TINY_SPEC, "index",
                         str(root), capsys=capsys)  # fmt: skip
    assert code == 0
    assert "(1 new or changed); 1 could not be read (listed above; " in out
    assert out.endswith("; 1 holds nothing to index (listed above)\n")
    assert f"nothing to index in {root / 'empty.jpg'}: empty file" in err
    assert f"could not read {root / 'corrupt.jpg'}: " in err


def test_nothing_indexable_at_all_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "broken"
    root.mkdir()
    (root / "corrupt.jpg").write_bytes(b"garbage")
    code, _, _ = cli("--library", str(tmp_path / "lib"), "--model", TINY_SPEC, "index", str(root),
                     capsys=capsys)  # fmt: skip
    assert code == 1


def test_without_the_model_index_makes_words_searchable_and_the_pictures_wait(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, lib = tmp_path / "new", tmp_path / "lib"
    save_shape(root / "a.jpg", "red", "circle", 1)
    base = ["--library", str(lib), "--model", TINY_SPEC]
    assert cli(*base, "index", str(root), capsys=capsys)[0] == 0
    save_shape(root / "b.jpg", "blue", "circle", 2)
    (root / "b.jpg.txt").write_text("Kite flying at the beach", encoding="utf-8")
    (root / "recipe.md").write_text("# Dessert\n\nCrème brûlée for Sunday.\n", encoding="utf-8")
    missing = ["--library", str(lib), "--model", f"local-dir:{tmp_path / 'missing'}"]
    code, _, err = cli(*missing, "index", str(root), capsys=capsys)
    assert code == 2
    [line] = err.splitlines()  # one line: what works and what to do
    assert "their words are searchable meanwhile" in line and "--model local-dir:" in line
    with Store.open(lib / "library.sqlite3") as store:
        assert store.counts() == {"photo": 1, "note": 0, "error": 0, "pending": 2, "empty": 0}
        assert store.vector_count() == 1  # a.jpg keeps its vector
    for words, found in (("creme", "recipe.md"), ("beach", "b.jpg"), ("kite", "b.jpg")):
        code, out, _ = cli(*missing, "search", words, "--json", capsys=capsys)
        assert code == 0 and [Path(h["path"]).name for h in json.loads(out)][:1] == [found]
    # The model is back: everything is embedded, and the words saved meanwhile make way.
    assert cli(*base, "index", capsys=capsys)[0] == 0
    with Store.open(lib / "library.sqlite3") as store:
        assert store.counts() == {"photo": 2, "note": 1, "error": 0, "pending": 0, "empty": 0}
        assert store.conn.execute("SELECT count(*) FROM chunks WHERE seq < 0").fetchone()[0] == 0
    code, out, _ = cli(*base, "search", "creme", "--json", capsys=capsys)
    assert [Path(h["path"]).name for h in json.loads(out)][:1] == ["recipe.md"]


def test_search_without_the_model_finds_words_and_says_why(
    library: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, lib = library
    missing = ["--library", str(lib), "--model", f"local-dir:{tmp_path / 'missing'}"]
    code, out, err = cli(*missing, "search", "green square", "--json", capsys=capsys)
    assert code == 0
    assert "word matches only" in err and "--model local-dir:" in err
    hits = json.loads(out)
    both = [h for h in hits if h["score"] >= 0.9]  # holding both words: the rest hold one
    assert both and hits[: len(both)] == both
    for hit in both:
        said = (Path(hit["path"]).name + " " + hit.get("snippet", "")).lower()
        assert "green" in said and "square" in said, hit
