"""Hostile inputs, made by the tests: each is indexed (and searched) within seconds, with the
reason or result that says what is true of it."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import string
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TINY_SPEC, FakeEncoder, save_shape

from mediafind import captions, roots_rows
from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.errors import UnreadableFile
from mediafind.indexer import MAX_CAPTION_CHUNKS, Indexer, Outcome
from mediafind.keeper import sync
from mediafind.query import parse
from mediafind.search import Searcher
from mediafind.store import Store
from mediafind.text import MAX_RUN_CHARS, decode_text


@pytest.fixture(scope="module")
def tiny() -> OpenClipEncoder:
    """The real tokenizer (whose cost grows with the square of a word's length) and model."""
    return OpenClipEncoder(parse_spec(TINY_SPEC), device="cpu")


@pytest.fixture
def library(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    root = tmp_path / "files"
    root.mkdir()
    with Store.open(tmp_path / "lib" / "library.sqlite3", writer=True) as store:
        roots_rows.add_root(store, root)
        yield root, store


def _index(store: Store, encoder: OpenClipEncoder | FakeEncoder) -> Outcome:
    return sync(Indexer(store, lambda: encoder, encoder.identity))


def _letters(count: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(count))


def test_a_150000_letter_word_is_indexed_in_seconds(
    library: tuple[Path, Store], tiny: OpenClipEncoder
) -> None:
    root, store = library
    (root / "sequence.txt").write_text(f"sequence of the red sample\n\n{_letters(150_000)}\n")

    started = time.monotonic()
    outcome = _index(store, tiny)

    assert time.monotonic() - started < 10  # uncut, the word alone took 110 s
    assert outcome.indexed == 1 and not outcome.errors
    chunks = store.conn.execute("SELECT text FROM chunks WHERE text IS NOT NULL").fetchall()
    assert max(len(text) for (text,) in chunks) <= MAX_RUN_CHARS + 40


def test_a_megabyte_of_base64_on_one_line_is_one_chunk(
    library: tuple[Path, Store], tiny: OpenClipEncoder
) -> None:
    root, store = library
    blob = base64.b64encode(random.Random(2).randbytes(750_000)).decode()
    (root / "attachment.txt").write_text(blob)

    started = time.monotonic()
    outcome = _index(store, tiny)

    assert time.monotonic() - started < 10
    assert outcome.indexed == 1
    assert store.vector_count() == 1


def test_a_20000_letter_query_is_answered_in_seconds(
    library: tuple[Path, Store], tiny: OpenClipEncoder
) -> None:
    root, store = library
    (root / "note.txt").write_text("a red circle on the kitchen table")
    _index(store, tiny)

    started = time.monotonic()
    hits = Searcher(store, tiny).search(parse(f"red {_letters(20_000, 3)}"))

    assert time.monotonic() - started < 5  # uncut: 76 s
    assert isinstance(hits, list)


def test_a_16_mb_caption_sidecar_gives_a_handful_of_vectors(library: tuple[Path, Store]) -> None:
    root, store = library
    photo = save_shape(root / "a.png", "red", "circle")
    words = "the red circle in the garden " * (16 * 1024 * 1024 // 30)
    photo.with_suffix(".txt").write_text(words)

    outcome = _index(store, FakeEncoder())

    assert outcome.indexed == 1
    captions_kept = captions.of_photo(photo, photo.read_bytes()).texts
    assert sum(map(len, captions_kept)) <= captions.MAX_CAPTION_CHARS
    assert 1 < store.vector_count() <= 1 + MAX_CAPTION_CHUNKS  # uncut: 33,899


def _png(path: Path, width: int, height: int) -> Path:
    """A real single-colour PNG of width x height that compresses to a few kilobytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * width  # filter byte, then greyscale pixels
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def test_a_picture_over_the_pixel_budget_is_refused_when_indexed_and_searched(
    library: tuple[Path, Store],
) -> None:
    root, store = library
    huge = _png(root / "huge.png", 9500, 9000)  # 85 megapixels in 80 kB

    outcome = _index(store, FakeEncoder())

    assert [reason for _, reason in outcome.errors] == [
        "picture too large to open (86 megapixels; mediafind opens pictures up to 80)"
    ]
    with pytest.raises(UnreadableFile, match="picture too large to open"):
        Searcher(store, FakeEncoder()).search(parse(str(huge)))


def test_a_zip_bomb_document_is_refused(library: tuple[Path, Store]) -> None:
    import zipfile

    root, store = library
    with zipfile.ZipFile(root / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", b"<" + b"a" * (200 * 1024 * 1024) + b">")

    started = time.monotonic()
    outcome = _index(store, FakeEncoder())

    assert time.monotonic() - started < 10
    assert len(outcome.errors) == 1 and outcome.indexed == 0


def test_names_with_invalid_utf8_and_newlines_are_indexed_and_found(
    library: tuple[Path, Store],
) -> None:
    root, store = library
    for raw in (b"caf\xe9 red.txt", b"two\nlines red.txt"):
        Path(os.fsdecode(bytes(root) + b"/" + raw)).write_text("a red circle")

    outcome = _index(store, FakeEncoder())

    assert outcome.indexed == 2 and not outcome.errors
    hits = Searcher(store, FakeEncoder()).search(parse("red"))
    found = {os.fsencode(h.path.name) for h in hits}
    assert found == {b"caf\xe9 red.txt", b"two\nlines red.txt"}
    # --json: a path any JSON reader takes (valid UTF-8), and the exact bytes beside it.
    latin = next(h for h in hits if b"caf" in os.fsencode(h.path.name)).to_json()
    text = json.dumps(latin, ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogates
    assert str(latin["path"]).endswith("caf\ufffd red.txt")
    assert base64.b64decode(str(latin["path_b64"])).endswith(b"/caf\xe9 red.txt")
    plain = next(h for h in hits if b"lines" in os.fsencode(h.path.name)).to_json()
    assert "path_b64" not in plain


SENTENCES = {
    "cp932": "今日は東京の公園で桜の写真を撮りました。とても綺麗でした。",
    "gb18030": "今天我们在北京的公园里拍了很多樱花的照片，非常漂亮。",
    "big5": "今天我們在台北的公園裡拍了很多櫻花的照片，非常漂亮。",
    "euc_kr": "오늘 서울 공원에서 벚꽃 사진을 많이 찍었습니다. 정말 아름다웠어요.",
    "utf-16-le": "A red circle on the kitchen table.\nIt was a sunny day in 東京.",
    "utf-16-be": "A red circle on the kitchen table.\nIt was a sunny day.",
    "utf-32-le": "A red circle on the kitchen table.\nIt was a sunny day.",
    "utf-32-be": "今日は東京の公園で桜の写真を撮りました。",
}


@pytest.mark.parametrize("codec", SENTENCES)
def test_east_asian_code_pages_and_utf16_without_a_bom_are_read(codec: str) -> None:
    assert decode_text(SENTENCES[codec].encode(codec)) == SENTENCES[codec]


def test_binary_data_with_zero_bytes_is_still_refused() -> None:
    for data in (random.Random(4).randbytes(5000), bytes(range(256)) * 10, b"\0\0\1\0" * 500):
        with pytest.raises(UnreadableFile):
            decode_text(data)


def test_a_japanese_paragraph_is_cut_into_chunks_not_into_one_word(
    library: tuple[Path, Store], tiny: OpenClipEncoder
) -> None:
    root, store = library
    (root / "日記.txt").write_bytes((SENTENCES["cp932"] * 40).encode("cp932"))

    _index(store, tiny)

    texts = [t for (t,) in store.conn.execute("SELECT text FROM chunks WHERE text IS NOT NULL")]
    assert len(texts) > 3
    assert "".join(texts).count("桜") >= 40  # nothing cut away; ideographs kept unspaced
    assert " " not in texts[0]


def test_a_2_gb_file_is_hashed_in_blocks_not_read_whole(tmp_path: Path) -> None:
    sparse = tmp_path / "big.txt"
    with open(sparse, "wb") as f:
        f.truncate(2 * 1024**3)
    child = (
        "import sys; from pathlib import Path; from mediafind import media;"
        "head, size, _ = media.read_head(Path(sys.argv[1]), 8_000_001);"
        # This process's own peak (getrusage's would count the parent's from before exec).
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1];"
        "print(size, len(head), peak)"
    )
    out = subprocess.run(
        [sys.executable, "-c", child, str(sparse)], capture_output=True, text=True, check=True
    ).stdout.split()

    size, head, peak_kb = map(int, out)
    assert (size, head) == (2 * 1024**3, 8_000_001)
    assert peak_kb < 300 * 1024  # read whole, it was 3.2 GB


def test_ctrl_c_stops_index_within_two_seconds_while_a_file_is_being_hashed(
    tmp_path: Path,
) -> None:
    root, library = tmp_path / "files", tmp_path / "lib"
    root.mkdir()
    for name in ("huge.txt", "huger.txt"):  # sparse: hashing each takes seconds
        with open(root / name, "wb") as f:
            f.truncate(8 * 1024**3)
    env = {**os.environ, "MEDIAFIND_LIBRARY": str(library)}
    # As from a terminal, where Ctrl-C reaches the command: the tests may run with SIGINT
    # ignored (started in the background by a script: `cmd &` ignores it, and so does every
    # process started under it), and Python then never raises KeyboardInterrupt; the command
    # would index both files to the end (21 s) before exiting.
    as_in_a_terminal = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.argv = ['mediafind', *sys.argv[1:]]; "
        "runpy.run_module('mediafind', run_name='__main__')"
    )
    base = [sys.executable, "-c", as_in_a_terminal, "--model", TINY_SPEC]
    child = subprocess.Popen(
        [*base, "index", str(root)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not (library / "library.sqlite3").exists() or _pending(library) < 2:
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        # The model loads first, then the decode threads open the files: hashing has begun.
        while not _open_files(child.pid) & {str(root / "huge.txt"), str(root / "huger.txt")}:
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        started = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
        assert time.monotonic() - started < 2
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    assert b"interrupted" in err
    with Store.open(library / "library.sqlite3", writer=True) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.counts()["pending"] == 2


def _open_files(pid: int) -> set[str]:
    """The files a process has open (Linux)."""
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.add(str(fd.readlink()))
        except OSError:  # closed meanwhile
            continue
    return found


def _pending(library: Path) -> int:
    try:
        with Store.open(library / "library.sqlite3") as reader:
            return reader.counts()["pending"]
    except Exception:  # created a moment ago, not yet a library
        return 0


@pytest.mark.skipif(sys.platform != "linux", reason="Pillow's libtiff is a library of its own")
def test_libtiff_complaints_do_not_reach_the_terminal() -> None:
    """libtiff prints about damaged TIFFs on stderr by itself; mediafind silences it (the file's
    reason is recorded from Pillow's error). Its own complaint function is called here."""
    script = (
        "import ctypes, sys\n"
        "from mediafind import media\n"
        "quiet = sys.argv[1] == 'quiet'\n"
        "if quiet: assert media.quiet_libtiff()\n"
        "else: import PIL._imaging\n"
        "tiff = ctypes.CDLL(media._loaded_libraries('libtiff')[0])\n"
        "tiff.TIFFError(b'TIFFReadDirectory', b'%s', b'Sorry, can not handle this')\n"
        "tiff.TIFFWarning(b'TIFFReadDirectory', b'%s', b'Unknown field with tag 65000')\n"
    )
    for mode, expected in (("loud", 2), ("quiet", 0)):
        done = subprocess.run(
            [sys.executable, "-c", script, mode], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert len(done.stderr.splitlines()) == expected, done.stderr
