"""The library's doctor: checks that find damage (`mediafind doctor`, Help → Check Library) and a
repair that keeps what is sound.

The quick check reads the file's structure (SQLite's quick_check), the schema version, both
keyword indexes' own checks, that files, chunks and vectors are in step, the model, and the copy
of the vectors beside the library; the full check adds SQLite's integrity_check and reads every
vector: a vector that is not finite or not unit-length passes SQLite's checks and silently
ranks wrong, so only reading it finds it.

The repair, under the writer lock, keeps what is sound: it rebuilds a keyword index, removes
orphans, sends the files whose vectors are bad or missing back to be embedded (pending), and
removes a bad vector copy (searches make it anew). A file beyond repair (its structure damaged,
or not a database at all) is moved aside, never deleted, and a new library is made with the
same watched folders.

The checks read beneath the store's rows (pragmas, FTS5 commands, sqlite-vec's key table), and
must run on a file the store cannot open: the SQL for them is here, as the vector copy's is in
mediafind.nearest.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw
import numpy as np

from mediafind.errors import LibraryDamaged, MediafindError
from mediafind.nearest import SUFFIX
from mediafind.rows import IMAGE_SOURCE, decode_path, encode_path
from mediafind.schema import FOREIGN, SCHEMA_VERSION, connect, damaged, foreign
from mediafind.store import Store
from mediafind.vectorfile import Unusable, VectorFile
from mediafind.writelock import WriterLock

log = logging.getLogger(__name__)

OK = "ok"
WARNING = "warning"
DAMAGED = "damaged"

# The checks, by the names the faces show.
FILE = "library file"
STRUCTURE = "integrity"
SCHEMA = "schema"
KEYWORDS = "keyword index"
NAMES = "name index"
COUNTS = "counts"
MODEL = "model"
VECTORS = "vectors"
COPY = "vector copy"

# A stored vector is unit-length (the encoders normalise); fp16 models round to within ~1e-3.
UNIT_TOLERANCE = 0.01
# Vectors read at a time by the full check: a few MB at 512 dimensions.
READ_BLOCK = 4096
# Problems SQLite's checks list before they stop (its default is 100; a few tell the story).
STRUCTURE_LINES = 10
# Files named in a finding; the rest are counted.
NAMED = 5
# The keyword indexes (FTS5 tables).
FTS = ("chunks_fts", "names_fts")
# Parts of a library file, moved aside together.
PARTS = ("", "-wal", "-shm", SUFFIX)


@dataclass(frozen=True)
class Finding:
    """One check's outcome: its verdict, what it found in one line, and what repair would do."""

    check: str
    verdict: str
    said: str = ""
    repair: str = ""
    files: tuple[Path, ...] = ()  # the files it concerns, for bad vectors

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "verdict": self.verdict,
            "finding": self.said,
            "repair": self.repair,
            "files": [str(f) for f in self.files],
        }


@dataclass(frozen=True)
class Report:
    """What a check found."""

    library: Path
    findings: tuple[Finding, ...]
    full: bool = False
    seconds: float = 0.0
    beyond_repair: bool = False  # the file must be moved aside and a new library made
    roots: tuple[Path, ...] = ()  # the watched folders, as far as they could be read

    @property
    def damaged(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.verdict == DAMAGED)

    @property
    def healthy(self) -> bool:
        """No damage (warnings say what the next `index` or search will do by itself)."""
        return not self.damaged

    @property
    def repairable(self) -> bool:
        return any(f.repair for f in self.findings if f.verdict != OK)

    def finding(self, check: str) -> Finding | None:
        return next((f for f in self.findings if f.check == check), None)

    def to_json(self) -> dict[str, object]:
        return {
            "library": str(self.library),
            "full": self.full,
            "seconds": round(self.seconds, 3),
            "healthy": self.healthy,
            "beyond_repair": self.beyond_repair,
            "checks": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True)
class Repaired:
    """What a repair did, and what the user does next."""

    done: tuple[str, ...]
    moved_to: Path | None = None  # where the damaged file went, when it was beyond repair
    folders: tuple[Path, ...] = ()  # the watched folders the new library has
    folders_lost: bool = False  # the damaged file's folders could not be read
    reindex: bool = False  # files wait to be embedded: `mediafind index` (or the window) does it

    def to_json(self) -> dict[str, object]:
        return {
            "done": list(self.done),
            "moved_to": None if self.moved_to is None else str(self.moved_to),
            "folders": [str(f) for f in self.folders],
            "folders_lost": self.folders_lost,
            "reindex": self.reindex,
        }


# -- checking -------------------------------------------------------------------------------


def check(library: Path, *, full: bool = False, model_identity: str | None = None) -> Report:
    """Check the library file at library (quick, or full: every page and every vector), without
    changing it. model_identity: the configured model's, to compare with the library's."""
    started = time.perf_counter()
    try:
        conn = connect(library)
    except MediafindError as e:
        return _beyond(library, full, started, f"it cannot be opened: {e}")
    try:
        return _check(conn, library, full, model_identity, started)
    finally:
        conn.close()


def _beyond(
    library: Path, full: bool, started: float, why: str, roots: tuple[Path, ...] = ()
) -> Report:
    finding = Finding(
        FILE, DAMAGED, why,
        "move it aside and make a new library with the same watched folders",
    )  # fmt: skip
    return Report(library, (finding,), full, time.perf_counter() - started, True, roots)


def _check(
    conn: apsw.Connection, library: Path, full: bool, identity: str | None, started: float
) -> Report:
    if library.stat().st_size == 0:
        return _beyond(library, full, started, "the file is empty (0 bytes), not a library")
    try:
        problems = _structure(conn, full)
    except (apsw.NotADBError, apsw.CorruptError) as e:
        why = f"SQLite cannot read it ({e})"
        return _beyond(library, full, started, why, _roots(conn))
    if problems:
        shown = "; ".join(problems[:3]) + ("; …" if len(problems) > 3 else "")
        return _beyond(library, full, started, f"SQLite found damage: {shown}", _roots(conn))
    if foreign(conn):
        return _beyond(library, full, started, f"it is not a mediafind library ({FOREIGN})")
    findings = [Finding(STRUCTURE, OK, "full integrity check" if full else "quick check")]
    version = int(conn.pragma("user_version"))
    if version > SCHEMA_VERSION:
        findings.append(Finding(SCHEMA, WARNING, f"written by a newer mediafind (schema "
                                f"{version}, this one knows {SCHEMA_VERSION}); update mediafind "
                                "to check it"))  # fmt: skip
        return Report(library, tuple(findings), full, time.perf_counter() - started)
    if version < SCHEMA_VERSION:
        said = f"schema {version}: the next command upgrades it to {SCHEMA_VERSION}"
        findings.append(Finding(SCHEMA, WARNING, said))
        return Report(library, tuple(findings), full, time.perf_counter() - started)
    findings.append(Finding(SCHEMA, OK, f"version {version}"))
    try:
        findings += [_fts(conn, "chunks_fts", KEYWORDS), _fts(conn, "names_fts", NAMES)]
        findings.append(_counts(conn))
        findings.append(_model(conn, identity))
        if full:
            findings.append(_vectors(conn))
        findings.append(_copy(conn, library, full))
    except (apsw.CorruptError, apsw.NotADBError) as e:
        return _beyond(library, full, started, f"reading it failed: {e}", _roots(conn))
    return Report(
        library, tuple(findings), full, time.perf_counter() - started, False, _roots(conn)
    )


def _structure(conn: apsw.Connection, full: bool) -> list[str]:
    """SQLite's own check of every page (full) or of the file's structure (quick): its
    problems, none when sound."""
    pragma = "integrity_check" if full else "quick_check"
    rows = conn.execute(f"PRAGMA {pragma}({STRUCTURE_LINES})").fetchall()
    lines = [str(r[0]) for r in rows]
    # SQLite asks the keyword indexes to check themselves too (3.44 on): that is their own
    # finding, repaired by a rebuild, not damage to the file.
    return [line for line in lines if line != "ok" and not any(f'table "{t}"' in line for t in FTS)]


def _fts(conn: apsw.Connection, table: str, name: str) -> Finding:
    """FTS5's own check: the index agrees with the text it indexes."""
    try:
        conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
    except apsw.CorruptError as e:
        return Finding(name, DAMAGED, f"it does not match the text it indexes ({e})",
                       f"rebuild the {name} from the text")  # fmt: skip
    return Finding(name, OK)


@dataclass
class _Strays:
    """Rows out of step: chunks of no file, vectors of no chunk, files to embed again."""

    orphan_chunks: list[int] = field(default_factory=list)
    orphan_vectors: list[int] = field(default_factory=list)
    unembedded: list[int] = field(default_factory=list)  # files whose vectors are missing
    mislabelled: int = 0  # vectors whose modality is not their chunk's

    def __bool__(self) -> bool:
        return bool(self.orphan_chunks or self.orphan_vectors or self.unembedded
                    or self.mislabelled)  # fmt: skip


def _has_vectors(conn: apsw.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vectors'"
    ).fetchone()
    return row is not None


def _strays(conn: apsw.Connection, kinds: bool = True) -> _Strays:
    """kinds: also check each vector's modality against its chunk's source (a scan of every
    vector's metadata: 0.2 s at 100k photos)."""
    found = _Strays()
    found.orphan_chunks = _ids(
        conn, "SELECT id FROM chunks WHERE file_id NOT IN (SELECT id FROM files)"
    )
    if _has_vectors(conn):
        # Chunks numbered from 0 have a vector (below 0: words saved while the model was
        # missing); an indexed file has at least one.
        with _temp_ids(conn, "SELECT chunk_id FROM vectors") as vectors:
            found.orphan_vectors = _ids(
                conn, f"SELECT id FROM {vectors} WHERE id NOT IN (SELECT id FROM chunks)"
            )
            found.unembedded = _ids(
                conn,
                "SELECT DISTINCT c.file_id FROM chunks c JOIN files f ON f.id = c.file_id "
                f"WHERE c.seq >= 0 AND c.id NOT IN (SELECT id FROM {vectors}) UNION "
                "SELECT id FROM files f WHERE status = 'indexed' AND NOT EXISTS "
                "(SELECT 1 FROM chunks c WHERE c.file_id = f.id AND c.seq >= 0)",
            )
        if kinds:
            found.mislabelled = int(
                _one(
                    conn,
                    "SELECT count(*) FROM vectors v JOIN chunks c ON c.id = v.chunk_id "
                    f"WHERE (c.source = '{IMAGE_SOURCE}') != (v.modality = 'image')",
                )
            )
    else:
        found.unembedded = _ids(
            conn, "SELECT DISTINCT file_id FROM chunks WHERE seq >= 0 UNION "
            "SELECT id FROM files WHERE status = 'indexed'"
        )  # fmt: skip
    return found


def _counts(conn: apsw.Connection, kinds: bool = True) -> Finding:
    files = int(_one(conn, "SELECT count(*) FROM files"))
    chunks = int(_one(conn, "SELECT count(*) FROM chunks"))
    vectors = int(_one(conn, "SELECT count(*) FROM vectors")) if _has_vectors(conn) else 0
    figures = f"{files:,} files, {chunks:,} chunks, {vectors:,} vectors"
    found = _strays(conn, kinds)
    if not found:
        return Finding(COUNTS, OK, figures)
    parts = []
    if found.orphan_chunks:
        parts.append(f"{len(found.orphan_chunks):,} chunks of no file")
    if found.orphan_vectors:
        parts.append(f"{len(found.orphan_vectors):,} vectors of no chunk")
    if found.unembedded:
        parts.append(f"{len(found.unembedded):,} indexed files missing vectors")
    if found.mislabelled:
        parts.append(f"{found.mislabelled:,} vectors filed under the wrong kind")
    return Finding(COUNTS, DAMAGED, f"{', '.join(parts)} ({figures})",
                   "remove what belongs to nothing and embed those files again")  # fmt: skip


def _model(conn: apsw.Connection, identity: str | None) -> Finding:
    row = conn.execute("SELECT value FROM meta WHERE key = 'model'").fetchone()
    if row is None:
        return Finding(MODEL, OK, "nothing embedded yet")
    try:
        recorded = json.loads(row[0])
        spec, recorded_identity = str(recorded["spec"]), str(recorded["identity"])
        int(recorded["dimension"])
    except (ValueError, KeyError, TypeError):
        return Finding(MODEL, DAMAGED, "the library's record of its model cannot be read",
                       "embed every file again")  # fmt: skip
    if identity is not None and identity != recorded_identity:
        said = (f"the vectors were made by {spec}, not by the model chosen now: the next "
                "`mediafind index` embeds every file again")  # fmt: skip
        return Finding(MODEL, WARNING, said)
    return Finding(MODEL, OK, spec)


def _vectors(conn: apsw.Connection) -> Finding:
    """Every vector read: finite and unit-length, or bad."""
    if not _has_vectors(conn):
        return Finding(VECTORS, OK, "none yet")
    bad: list[int] = []
    count = 0
    rows = conn.execute("SELECT chunk_id, embedding FROM vectors")
    while block := list(itertools.islice(rows, READ_BLOCK)):
        ids = np.fromiter((r[0] for r in block), dtype=np.int64, count=len(block))
        matrix = np.frombuffer(b"".join(r[1] for r in block), dtype=np.float32)
        matrix = matrix.reshape(len(block), -1)
        with np.errstate(invalid="ignore", over="ignore"):
            norms = np.linalg.norm(matrix, axis=1)
            wrong = ~np.isfinite(matrix).all(axis=1) | ~(np.abs(norms - 1) <= UNIT_TOLERANCE)
        bad += ids[wrong].tolist()
        count += len(block)
    if not bad:
        return Finding(VECTORS, OK, f"{count:,} read, all finite and unit-length")
    files = _files_of_chunks(conn, bad)
    named = ", ".join(str(f) for f in files[:NAMED]) + (" …" if len(files) > NAMED else "")
    return Finding(
        VECTORS, DAMAGED,
        f"{len(bad):,} of {count:,} are not finite or not unit-length, of {_files(len(files))} "
        f"({named}): searches rank them wrongly",
        "embed those files again", tuple(files),
    )  # fmt: skip


def _files(n: int) -> str:
    return f"{n:,} file" + ("" if n == 1 else "s")


def _files_of_chunks(conn: apsw.Connection, chunk_ids: list[int]) -> list[Path]:
    rows = conn.execute(
        "SELECT DISTINCT f.path FROM chunks c JOIN files f ON f.id = c.file_id "
        "WHERE c.id IN (SELECT value FROM json_each(?)) ORDER BY f.path",
        (json.dumps(chunk_ids),),
    )
    return [decode_path(r[0]) for r in rows]


def _copy(conn: apsw.Connection, library: Path, full: bool) -> Finding:
    """The copy of the vectors beside the library: one of this library, whole, or none."""
    path = library.with_name(library.name + SUFFIX)
    if not path.exists():
        return Finding(COPY, OK, "none (the next search makes it)")
    try:
        copy = VectorFile(path)
    except Unusable as e:
        return Finding(COPY, DAMAGED, f"{e}", "remove it (the next search makes it anew)")
    try:
        token = conn.execute("SELECT value FROM meta WHERE key = 'vectors_token'").fetchone()
        if token is None or copy.token != str(token[0]):
            return Finding(COPY, WARNING, "it copies another state of the library",
                           "remove it (the next search makes it anew)")  # fmt: skip
        if full:
            for modality, section in copy.sections.items():
                with np.errstate(invalid="ignore", over="ignore"):
                    sound = bool(np.isfinite(section.matrix).all())
                if not sound:
                    return Finding(COPY, DAMAGED, f"its {modality} vectors are not all finite",
                                   "remove it (the next search makes it anew)")  # fmt: skip
        latest = _one(conn, "SELECT coalesce(max(seq), 0) FROM vector_log")
        behind = int(latest) - copy.seq
        said = "in step" if behind <= 0 else f"{behind:,} changes behind (searches catch up)"
        return Finding(COPY, OK, said)
    finally:
        copy.close()


def _roots(conn: apsw.Connection) -> tuple[Path, ...]:
    """The watched folders, as far as the file lets them be read."""
    try:
        return tuple(decode_path(r[0]) for r in conn.execute("SELECT path FROM roots"))
    except apsw.Error:
        return ()


def _root_rows(conn: apsw.Connection) -> list[tuple[Any, ...]]:
    try:
        return conn.execute("SELECT path, polling, excludes FROM roots ORDER BY id").fetchall()
    except apsw.Error:
        return []


def _ids(conn: apsw.Connection, sql: str) -> list[int]:
    return [int(r[0]) for r in conn.execute(sql)]


def _one(conn: apsw.Connection, sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0]


@contextlib.contextmanager
def _temp_ids(conn: apsw.Connection, sql: str) -> Iterator[str]:
    """The ids sql lists, in a temporary table with a key: sqlite-vec answers `IN (SELECT
    chunk_id FROM vectors)` by scanning every vector each time it is asked."""
    conn.execute("DROP TABLE IF EXISTS temp.doctor_ids")
    conn.execute(f"CREATE TEMP TABLE doctor_ids(id INTEGER PRIMARY KEY); "
                 f"INSERT OR IGNORE INTO temp.doctor_ids {sql}")  # fmt: skip
    try:
        yield "temp.doctor_ids"
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.doctor_ids")


def preflight(store: Store) -> None:
    """The cheap part of the quick check, before `index` writes: raises LibraryDamaged, which
    says to run the doctor, when the keyword indexes or the counts are out of step."""
    conn = store.conn
    try:
        problems = [
            f for f in (_fts(conn, "chunks_fts", KEYWORDS), _fts(conn, "names_fts", NAMES),
                        _counts(conn, kinds=False)) if f.verdict == DAMAGED
        ]  # fmt: skip
    except (apsw.CorruptError, apsw.NotADBError) as e:
        raise damaged(store.path, str(e)) from e
    if problems:
        what = "; ".join(f"{f.check}: {f.said}" for f in problems)
        raise LibraryDamaged(
            f"the library {store.path} is damaged ({what}); run `mediafind doctor --repair` to "
            "repair it"
        )


# -- repairing ------------------------------------------------------------------------------


def repair(
    library: Path,
    *,
    full: bool = False,
    model_identity: str | None = None,
    store: Store | None = None,
) -> Repaired:
    """Check, then repair what was found (see the module's docstring). store: the library open
    for writing by its writer (the keeper, on its thread); without it, this takes the writer
    lock, and raises LibraryBusy when another process writes. A file beyond repair is only
    handled without store (the writer must have let go of it first): with store, it raises
    LibraryDamaged."""
    if store is not None:
        report = _check(store.conn, library, full, model_identity, time.perf_counter())
        if report.beyond_repair:
            raise LibraryDamaged(
                f"the library {library} must be replaced: {report.damaged[0].said}"
            )
        return _repair_in_place(store, report)
    lock = WriterLock(library)
    lock.acquire()
    try:
        report = check(library, full=full, model_identity=model_identity)
        if report.beyond_repair:
            return _replace(library, report)
        conn = connect(library)
        writer = Store(conn, library)  # the lock is held here, not by the store
        try:
            return _repair_in_place(writer, report)
        finally:
            writer.close()
    finally:
        lock.release()


def _repair_in_place(store: Store, report: Report) -> Repaired:
    conn = store.conn
    done: list[str] = []
    reindex = False
    with store.atomic():
        # First the keyword indexes: deleting chunks below updates them through triggers,
        # which fail on a damaged index.
        if _damaged(report, KEYWORDS):
            conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")
            done.append("rebuilt the keyword index from the text")
        if _damaged(report, NAMES):
            conn.execute("INSERT INTO names_fts(names_fts) VALUES ('delete-all')")
            conn.execute("INSERT INTO names_fts(rowid, name) SELECT id, name FROM file_names")
            done.append("rebuilt the index of file names")
        if _damaged(report, MODEL):
            conn.execute("DELETE FROM meta WHERE key = 'model'")
            conn.execute("DROP TABLE IF EXISTS vectors")
            conn.execute("DELETE FROM chunks WHERE seq >= 0")
            count = _pending(conn, _ids(conn, "SELECT id FROM files WHERE status = 'indexed'"))
            done.append(f"dropped every vector: {count:,} files wait to be embedded again")
            reindex = True
        elif _damaged(report, COUNTS) or _damaged(report, VECTORS):
            has_vectors = _has_vectors(conn)
            found = _strays(conn)
            for chunk_id in found.orphan_chunks:
                _delete_chunk(conn, chunk_id, has_vectors)
            for chunk_id in found.orphan_vectors:
                conn.execute("DELETE FROM vectors WHERE chunk_id = ?", (chunk_id,))
            files = set(found.unembedded)
            if found.mislabelled:
                files |= set(_ids(conn, "SELECT c.file_id FROM vectors v JOIN chunks c ON "
                                  f"c.id = v.chunk_id WHERE (c.source = '{IMAGE_SOURCE}') != "
                                  "(v.modality = 'image')"))  # fmt: skip
            bad = report.finding(VECTORS)
            if bad is not None and bad.files:
                files |= set(_ids_of_paths(conn, bad.files))
            for file_id in files:
                chunks = _ids(conn, f"SELECT id FROM chunks WHERE file_id = {int(file_id)}")
                for chunk_id in chunks:
                    _delete_chunk(conn, chunk_id, has_vectors)
            _pending(conn, sorted(files))
            strays = len(found.orphan_chunks) + len(found.orphan_vectors)
            if strays:
                done.append(f"removed {strays:,} chunks and vectors that belonged to nothing")
            if files:
                done.append(f"{_files(len(files))} with bad or missing vectors wait to be "
                            "embedded again")  # fmt: skip
                reindex = True
    copy = library_copy(store.path)
    if _damaged(report, COPY) or _warned(report, COPY) or (done and copy.exists()):
        with contextlib.suppress(FileNotFoundError):
            copy.unlink()
            done.append("removed the copy of the vectors (the next search makes it anew)")
    return Repaired(tuple(done), reindex=reindex)


def library_copy(library: Path) -> Path:
    return library.with_name(library.name + SUFFIX)


def _damaged(report: Report, check: str) -> bool:
    found = report.finding(check)
    return found is not None and found.verdict == DAMAGED


def _warned(report: Report, check: str) -> bool:
    found = report.finding(check)
    return found is not None and found.verdict == WARNING and bool(found.repair)


def _delete_chunk(conn: apsw.Connection, chunk_id: int, has_vectors: bool) -> None:
    if has_vectors:
        conn.execute("DELETE FROM vectors WHERE chunk_id = ?", (chunk_id,))
    conn.execute("DELETE FROM chunks WHERE id = ?", (chunk_id,))


def _pending(conn: apsw.Connection, file_ids: list[int]) -> int:
    """Send files back to be embedded, first in line; the hash goes too, so that their content
    is read again rather than recognised and their old vectors kept."""
    for file_id in file_ids:
        conn.execute(
            "UPDATE files SET status = 'pending', hash = NULL, error = NULL, priority = 1 "
            "WHERE id = ?",
            (file_id,),
        )
    return len(file_ids)


def _ids_of_paths(conn: apsw.Connection, paths: tuple[Path, ...]) -> list[int]:
    found = []
    for path in paths:
        row = conn.execute("SELECT id FROM files WHERE path = ?", (encode_path(path),)).fetchone()
        if row is not None:
            found.append(int(row[0]))
    return found


def _replace(library: Path, report: Report) -> Repaired:
    """Move the damaged file aside (with its journal and vector copy) and make a new library
    with the same watched folders, as far as they can be read. The caller holds the lock."""
    rows: list[tuple[Any, ...]] = []
    with contextlib.suppress(MediafindError, apsw.Error):
        conn = connect(library)
        try:
            rows = _root_rows(conn)
        finally:
            conn.close()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = library.with_name(f"{library.name}.damaged-{stamp}")
    for part in PARTS:
        source = library.with_name(library.name + part)
        if source.exists():
            source.rename(aside.with_name(aside.name + part))
    done = [f"moved the damaged library aside to {aside}"]
    folders = []
    with Store.open(library) as store, store.atomic():
        for raw, polling, excludes in rows:
            store.conn.execute(
                "INSERT OR IGNORE INTO roots(path, polling, excludes, added_at) "
                "VALUES (?, ?, ?, ?)",
                (raw, polling, _json_list(excludes), time.time()),
            )
            folders.append(decode_path(raw))
    lost = not rows
    if folders:
        done.append(f"made a new library watching the same {len(folders)} folders")
    else:
        done.append("made a new, empty library: its watched folders could not be read")
    return Repaired(tuple(done), aside, tuple(folders), lost, reindex=bool(folders))


def _json_list(raw: object) -> str:
    try:
        value = json.loads(str(raw))
    except ValueError:
        return "[]"
    return json.dumps(value) if isinstance(value, list) else "[]"
