"""Nearest neighbours over the copy of the vectors beside the library: the same answers as an exact
search, whatever happened to the library or to the copy since it was made."""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from mediafind import nearest, roots_rows
from mediafind.rows import FileFilter
from mediafind.store import IMAGE_SOURCE, NOTE, PHOTO, TEXT_SOURCE, ModelInfo, NewChunk, Store
from mediafind.vectorfile import VectorFile

DIMENSION = 16
MODEL = ModelInfo("fake", "fake-1", DIMENSION)
DAY = 86_400.0


class Library:
    """A library of photos with random vectors in a few folders, and notes of a few passages."""

    def __init__(self, store: Store, photos: int = 300, notes: int = 20, seed: int = 0) -> None:
        self.store = store
        self.rng = np.random.default_rng(seed)
        store.set_model(MODEL)
        self.root = roots_rows.add_root(store, store.path.parent / "photos")
        self.count = 0
        with store.atomic():
            for i in range(photos):
                self.photo(f"{2020 + i % 3}/IMG_{i}.{'png' if i % 5 == 0 else 'jpg'}")
            for i in range(notes):
                self.note(f"notes/note {i}.md", passages=1 + i % 4)

    def using(self, store: Store) -> Library:
        """The same library through another connection (another process's, say)."""
        other = copy.copy(self)
        other.store = store
        return other

    def vector(self) -> bytes:
        return self.rng.standard_normal(DIMENSION).astype(np.float32).tobytes()

    def file(self, name: str, kind: str) -> int:
        path = self.root.path / name
        self.store.mark_pending(self.root.id, path, kind, 10, 1, None)
        row = self.store.file_by_path(path)
        assert row is not None
        return row.id

    def photo(self, name: str, vector: bytes | None = None) -> int:
        file_id = self.file(name, PHOTO)
        self.count += 1
        self.store.save_indexed(
            file_id, content_hash=f"h{file_id}", size=10, mtime_ns=1,
            chunks=[NewChunk(IMAGE_SOURCE, None, None, None, vector or self.vector())],
            taken_at=1_600_000_000 + self.count * DAY,
        )  # fmt: skip
        return file_id

    def note(self, name: str, passages: int) -> int:
        file_id = self.file(name, NOTE)
        chunks = [NewChunk(TEXT_SOURCE, f"words {p}", 0, 7, self.vector()) for p in range(passages)]
        self.store.save_indexed(file_id, content_hash=f"h{file_id}", size=10, mtime_ns=1,
                                chunks=chunks)  # fmt: skip
        return file_id

    def exact(self, query: bytes, modality: str, k: int, where: FileFilter) -> list[int]:
        """Chunk ids nearest first, by sqlite-vec's own search."""
        hits = self.store._nearest._sqlite_knn(query, modality, k, where, False)
        return [h.chunk_id for h in hits]

    def assert_exact(self, queries: int = 5, k: int = 10, where: FileFilter | None = None) -> None:
        """The store's KNN answers as an exact search does, vectors and distances included."""
        where = where or FileFilter()
        for _ in range(queries):
            query = self.vector()
            for modality in ("image", "text"):
                hits = self.store.knn(query, modality, k, where=where, with_vectors=True)
                assert [h.chunk_id for h in hits] == self.exact(query, modality, k, where)
                for hit in hits:
                    v = np.frombuffer(hit.vector or b"", dtype=np.float32)
                    q = np.frombuffer(query, dtype=np.float32)
                    cosine = float(v @ q) / float(np.linalg.norm(v) * np.linalg.norm(q))
                    assert hit.distance == pytest.approx(1 - cosine, abs=1e-5)


@pytest.fixture
def library(store: Store) -> Library:
    return Library(store)


def copy_of(store: Store) -> Path:
    return store.path.with_name(store.path.name + nearest.SUFFIX)


def copy_seq(store: Store) -> int:
    file = VectorFile(copy_of(store))
    try:
        return file.seq
    finally:
        file.close()


def test_knn_answers_as_an_exact_search_and_keeps_its_copy_beside_the_library(
    library: Library,
) -> None:
    library.assert_exact()
    assert copy_of(library.store).stat().st_size > library.count * DIMENSION * 4


def test_knn_inside_a_write_transaction_sees_it_and_leaves_the_copy_as_it_was(
    library: Library,
) -> None:
    store = library.store
    query = library.vector()
    store.knn(query, "image", 1)
    before = copy_seq(store)
    with pytest.raises(RuntimeError), store.atomic():
        new = library.photo("new.jpg", vector=query)
        assert store.knn(query, "image", 1)[0].file_id == new
        raise RuntimeError("rolled back")
    # The same chunk id and log entry again, with another vector.
    library.photo("new.jpg")
    assert store.knn(query, "image", 1)[0].distance > 1e-3
    assert copy_seq(store) == before
    library.assert_exact()


def test_photos_saved_replaced_or_deleted_after_the_copy_was_made_are_searched_as_they_are(
    library: Library, tmp_path: Path
) -> None:
    store = library.store
    query = library.vector()
    first = store.knn(query, "image", 3)
    with Store.open(store.path, writer=True) as writer:  # another process's writes
        other = library.using(writer)
        added = other.photo("new.jpg", vector=query)
        writer.delete_files([first[0].file_id])
        other.photo(str(first[1].path.relative_to(library.root.path)))  # re-indexed: new vector
        writer.save_error(first[2].file_id, "broken", 10, 2)
        writer.copy_chunks(added, other.file("copy.jpg", PHOTO), [IMAGE_SOURCE])
    hits = store.knn(query, "image", 5)
    assert {h.path.name for h in hits[:2]} == {"new.jpg", "copy.jpg"}
    assert not {first[0].file_id, first[2].file_id} & {h.file_id for h in hits}
    library.assert_exact()


def test_a_chunk_id_used_again_is_searched_by_its_new_vector(library: Library) -> None:
    store = library.store
    old = library.vector()
    last = library.photo("last.jpg", vector=old)
    assert store.knn(old, "image", 1)[0].file_id == last
    store.delete_files([last])
    library.photo("again.jpg")  # the chunk takes the id the deleted one had
    assert store.knn(old, "image", 1)[0].distance > 1e-3
    library.assert_exact()


def test_restricted_searches_answer_as_an_exact_search(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = library.root.path
    excluded = library.store.knn(library.vector(), "image", 3)
    narrow = [
        FileFilter(folder=photos / "2021"),
        FileFilter(folder=photos / "notes"),
        FileFilter(after=1_600_000_000 + 100 * DAY, before=1_600_000_000 + 120 * DAY),
        FileFilter(extensions=("png",), exclude=(excluded[0].file_id,)),
        FileFilter(folder=photos / "nowhere"),
    ]
    broad = [FileFilter(exclude=tuple(h.file_id for h in excluded))]
    for where in (*narrow, *broad):
        library.assert_exact(queries=2, k=20, where=where)
    # The same, once the restricted searches rank only what passes after a first look.
    monkeypatch.setattr(nearest, "LOOK_SHARE", 0)
    for where in narrow:
        library.assert_exact(queries=2, k=20, where=where)


def test_another_model_makes_the_copy_anew(library: Library) -> None:
    store = library.store
    library.assert_exact(queries=1)
    store.set_model(ModelInfo("other", "other-1", 8))
    assert store.knn(library.vector(), "image", 5) == []
    file_id = library.file("IMG_0.jpg", PHOTO)
    vector = np.ones(8, dtype=np.float32).tobytes()
    store.save_indexed(file_id, content_hash="x", size=10, mtime_ns=1,
                       chunks=[NewChunk(IMAGE_SOURCE, None, None, None, vector)])  # fmt: skip
    assert [h.file_id for h in store.knn(vector, "image", 5)] == [file_id]
    assert VectorFile(copy_of(store)).dimension == 8


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage", "older than the log"])
def test_a_missing_damaged_or_outdated_copy_is_made_anew(library: Library, damage: str) -> None:
    store = library.store
    library.assert_exact(queries=1)
    path = copy_of(store)
    store._nearest.close()
    library.photo("late.jpg")
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        with open(path, "r+b") as f:
            f.truncate(path.stat().st_size // 2)
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage" * 1000)
    else:  # the log was trimmed past the copy (it keeps the latest changes only)
        store.conn.execute("DELETE FROM vector_log WHERE seq <= ?", (copy_seq(store) + 1,))
    with Store.open(store.path) as reader:
        library.using(reader).assert_exact()
    assert copy_seq(store) == store._nearest._position()[0]


def test_a_library_put_back_to_an_older_state_is_not_taken_for_the_copy(
    library: Library, tmp_path: Path
) -> None:
    store = library.store
    backup = tmp_path / "backup.sqlite3"
    store.conn.execute("VACUUM INTO ?", (str(backup),))
    query = library.vector()
    library.photo("after the backup.jpg", vector=query)
    assert store.knn(query, "image", 1)[0].distance < 1e-6
    store.close()
    for suffix in ("-wal", "-shm"):
        store.path.with_name(store.path.name + suffix).unlink(missing_ok=True)
    backup.replace(store.path)
    with Store.open(store.path, writer=True) as restored:
        library = library.using(restored)
        library.photo("after the backup.jpg")  # the same chunk id and log entry, another vector
        assert restored.knn(query, "image", 1)[0].distance > 1e-3
        library.assert_exact()


def test_a_copy_that_cannot_be_written_leaves_the_search_to_sqlite_vec(
    library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    copy_of(library.store).mkdir()  # nothing can be written there
    with caplog.at_level(logging.WARNING):
        library.assert_exact()
    assert "cannot write the vector copy" in caplog.text
    assert copy_of(library.store).is_dir()


def test_a_copy_that_can_be_read_but_not_written_anew_keeps_answering(
    library: Library, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(nearest, "COMPACT_AT", 2)
    store = library.store
    library.assert_exact(queries=1)
    made = copy_seq(store)
    path = copy_of(store)
    path.with_name(f"{path.name}.tmp-{os.getpid()}").mkdir()  # a new copy cannot be written
    for i in range(3):  # past COMPACT_AT: held in memory, as the copy cannot be written anew
        library.photo(f"more/{i}.jpg")
    with caplog.at_level(logging.WARNING):
        library.assert_exact(queries=2)
    assert "cannot write the vector copy" in caplog.text
    assert copy_seq(store) == made
    for i in range(3, 10):  # past 4 x COMPACT_AT: too much to hold, sqlite-vec's KNN
        library.photo(f"more/{i}.jpg")
    library.assert_exact(queries=2)
    assert store._nearest._copy is None


def test_a_storage_sqlite_vec_keeps_otherwise_leaves_the_search_to_it(
    library: Library, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(nearest._SHADOW_COLUMNS, "vectors_chunks", ["chunk_id", "vectors"])
    with caplog.at_level(logging.WARNING):
        library.assert_exact()
    assert "storage is not as expected" in caplog.text
    assert not copy_of(library.store).exists()


def test_many_changes_write_the_copy_anew(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nearest, "COMPACT_AT", 5)
    store = library.store
    store.knn(library.vector(), "image", 1)
    made = copy_seq(store)
    for i in range(3):
        library.photo(f"more/{i}.jpg")
    library.assert_exact(queries=1)
    assert copy_seq(store) == made  # held in memory
    for i in range(3, 6):
        library.photo(f"more/{i}.jpg")
    library.assert_exact(queries=1)
    assert copy_seq(store) == store._nearest._position()[0]


def test_the_vector_log_keeps_the_latest_hundred_thousand_changes(store: Store) -> None:
    Library(store, photos=1, notes=0)
    file_id = store.conn.execute("SELECT id FROM files").fetchone()[0]
    with store.atomic():
        store.conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100010) "
            "INSERT INTO chunks(file_id, seq, source) SELECT ?, i, 'image' FROM n",
            (file_id,),
        )
    count, oldest, latest = store.conn.execute(
        "SELECT count(*), min(seq), max(seq) FROM vector_log"
    ).fetchone()
    assert count == 100_000 and latest - oldest == 100_000 - 1
