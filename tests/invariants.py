"""What must hold of a library whatever happened to the process that wrote it: `check` lists
what does not (an empty list: all holds).

After any crash (complete=False): SQLite's own check; every file row with the chunks and
vectors its kind and state call for; no chunk without its file, no vector without its chunk;
both keyword indexes agree with what they index; the copy of the vectors beside the library
(mediafind.nearest) answers a nearest-neighbour search as sqlite-vec and a plain numpy scan do.
After an index run that completed (complete=True), also: nothing pending, and, given the
folder, the library equals a clean index of it (`clean_index`): the same files with the same
kind and state, the same chunks, the same vectors up to float tolerance.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import apsw
import numpy as np
from conftest import FakeEncoder

from mediafind import dupes, dupes_rows, roots_rows
from mediafind.dupes_hash import closest
from mediafind.embed import Encoder
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.picturetext import Reading
from mediafind.rows import FileFilter
from mediafind.sources import default_reader
from mediafind.store import Store

# Every invariant `check` knows, in the order it checks them.
CRASH_SAFE = (
    "sqlite integrity",
    "keyword indexes' own checks",
    "files have their chunks",
    "chunks have their vectors",
    "no orphan chunks",
    "no orphan vectors",
    "vectors finite and of unit length",
    "keyword index agrees with the chunks",
    "name index agrees with the files",
    "vector copy answers as sqlite-vec",
    "duplicate links agree with the hashes",
)
AFTER_INDEX = ("nothing pending",)
AGAINST_CLEAN = ("equals a clean index",)

# Vectors of two indexes of the same files may differ by this much (a model's batches differ).
VECTOR_TOLERANCE = 1e-4
# Distances of the same nearest neighbours, read three ways.
DISTANCE_TOLERANCE = 1e-5
# Keyword queries tried against each index, and probe vectors per modality.
MATCH_SAMPLES = 12
PROBES = 4
PROBE_K = 10
# Violations listed of one kind before "and N more".
SHOWN = 5

_WORD = re.compile(r"[^\W\d_]{3,}")


def checked(*, complete: bool = True, against_clean: bool = False) -> tuple[str, ...]:
    """The invariants `check` checks when called so."""
    return CRASH_SAFE + AFTER_INDEX * complete + AGAINST_CLEAN * against_clean


def check(
    library: Path,
    *,
    complete: bool = True,
    clean: Path | None = None,
    seed: int = 0,
) -> list[str]:
    """Violations of the invariants in library (a library file), each "invariant: what".
    complete: an index run finished on it; clean: a library file of a clean index of the same
    folder, which it must equal."""
    violations: list[str] = []
    rng = random.Random(seed)
    with Store.open(library) as store:
        conn = store.conn

        def report(invariant: str, found: list[str]) -> None:
            _report(violations, invariant, found)

        def rows(sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
            return [tuple(r) for r in conn.execute(sql, args)]

        integrity = [str(r[0]) for r in rows("PRAGMA integrity_check")]
        report("sqlite integrity", [] if integrity == ["ok"] else integrity)

        own = []
        for table in ("chunks_fts", "names_fts"):
            try:
                conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
            except Exception as e:  # apsw.CorruptError and kin: what they say is the finding
                own.append(f"{table}: {e}")
        report("keyword indexes' own checks", own)

        has_vectors = bool(rows("SELECT 1 FROM sqlite_master WHERE name = 'vectors'"))
        vectors: dict[int, tuple[bytes, str]] = {}
        if has_vectors:
            for chunk_id, embedding, modality in rows(
                "SELECT chunk_id, embedding, modality FROM vectors"
            ):
                assert isinstance(chunk_id, int) and isinstance(embedding, bytes)
                vectors[chunk_id] = (embedding, str(modality))
        chunks = rows("SELECT id, file_id, seq, source, text FROM chunks")
        files = {
            int(i): (str(kind), str(status))
            for i, kind, status in rows("SELECT id, kind, status FROM files")
        }
        paths = {int(i): bytes(p) for i, p in rows("SELECT id, path FROM files")}
        by_file: dict[int, list[tuple[object, ...]]] = {}
        for chunk in chunks:
            by_file.setdefault(int(chunk[1]), []).append(chunk)

        missing = []
        for file_id, (kind, status) in files.items():
            own_chunks = [c for c in by_file.get(file_id, []) if int(c[2]) >= 0]
            sources = [str(c[3]) for c in own_chunks]
            name = paths[file_id].decode(errors="replace")
            if status == "error" and by_file.get(file_id):
                missing.append(f"{name} could not be read, yet has {len(by_file[file_id])} chunks")
            elif status == "indexed" and kind == "photo" and sources.count("image") != 1:
                missing.append(f"photo {name} has {sources.count('image')} image chunks, not 1")
            elif (
                status == "indexed"
                and kind == "note"
                and (not {"text", "ocr"} & set(sources) or "image" in sources)
            ):
                missing.append(f"note {name} has the chunks {sorted(set(sources))}")
        report("files have their chunks", missing)

        unvectored = []
        for chunk_id, file_id, seq, source, text in chunks:
            held = vectors.get(int(chunk_id))
            words_only = int(seq) < 0
            if words_only and held is not None:
                unvectored.append(f"chunk {chunk_id} (words only) has a vector")
            elif not words_only and held is None:
                unvectored.append(f"chunk {chunk_id} of file {file_id} has no vector")
            elif held is not None and held[1] != ("image" if source == "image" else "text"):
                unvectored.append(f"chunk {chunk_id} ({source}) has a vector of {held[1]}")
            if (source == "image") != (text is None):
                unvectored.append(f"chunk {chunk_id} ({source}) has text {text!r}")
        report("chunks have their vectors", unvectored)

        report(
            "no orphan chunks",
            [f"chunk {c[0]} of missing file {c[1]}" for c in chunks if c[1] not in files],
        )
        chunk_ids = {int(c[0]) for c in chunks}
        report(
            "no orphan vectors",
            [f"vector of missing chunk {i}" for i in sorted(set(vectors) - chunk_ids)],
        )

        bad = []
        model = store.model()
        for chunk_id, (embedding, _) in vectors.items():
            v = np.frombuffer(embedding, dtype=np.float32)
            if model is None or len(v) != model.dimension:
                bad.append(f"vector of chunk {chunk_id} has {len(v)} dimensions, not the model's")
            elif not np.all(np.isfinite(v)) or abs(float(np.linalg.norm(v)) - 1.0) > 1e-3:
                bad.append(f"vector of chunk {chunk_id} has norm {np.linalg.norm(v)}")
        report("vectors finite and of unit length", bad)

        texts = {int(c[0]): str(c[4]) for c in chunks if c[4] is not None}
        report(
            "keyword index agrees with the chunks",
            _agrees(conn, "chunks_fts", texts, rng),
        )
        names = {int(i): str(n) for i, n in rows("SELECT id, name FROM file_names")}
        report("name index agrees with the files", _agrees(conn, "names_fts", names, rng))

        report("vector copy answers as sqlite-vec", _nearest_agrees(store, vectors, rng))
        report("duplicate links agree with the hashes", _links_agree(store))

        if complete:
            pending = [
                paths[i].decode(errors="replace") for i, (_, s) in files.items() if s == "pending"
            ]
            report("nothing pending", pending)
    if clean is not None:
        _report(violations, "equals a clean index", differences(library, clean))
    return violations


def _links_agree(store: Store) -> list[str]:
    """Every content whose hashes are kept is linked (the indexer links it in the transaction
    that keeps its hashes); every kept link is a pair within NEAR_BITS, with its bits right;
    and every pair close enough that the band look-up must find it (2 * BANDS - 1 bits) is
    kept. Compared with every pair, one by one."""
    found: list[str] = []
    kept = {str(d): (int(w), int(m)) for d, w, m in store.conn.execute(
        "SELECT hash, whole, middle FROM picture_hashes")}  # fmt: skip
    linked = {str(d) for (d,) in store.conn.execute("SELECT DISTINCT hash FROM picture_bands")}
    found += [f"content {d[:12]} hashed but not linked" for d in sorted(set(kept) - linked)]
    pairs = {(str(a), str(b)): int(bits) for a, b, bits in dupes_rows.pairs(store)}
    contents = sorted(kept)
    for i, a in enumerate(contents):
        for b in contents[i + 1 :]:
            bits = closest(kept[a], kept[b])
            stored = pairs.pop((a, b), None)
            if stored is not None and stored != bits:
                found.append(f"link {a[:12]}-{b[:12]} says {stored} bits, not {bits}")
            elif stored is not None and bits > dupes.NEAR_BITS:
                found.append(f"link {a[:12]}-{b[:12]} is {bits} bits apart")
            elif stored is None and bits < 2 * dupes.BANDS:
                found.append(f"{a[:12]} and {b[:12]} are {bits} bits apart, not linked")
    found += [f"link {a[:12]}-{b[:12]} of a content without hashes" for a, b in pairs]
    return found


def _report(violations: list[str], invariant: str, found: list[str]) -> None:
    """Add what was found against an invariant to violations, the first SHOWN of it."""
    violations.extend(f"{invariant}: {what}" for what in found[:SHOWN])
    if len(found) > SHOWN:
        violations.append(f"{invariant}: and {len(found) - SHOWN} more")


def _agrees(
    conn: apsw.Connection, table: str, texts: dict[int, str], rng: random.Random
) -> list[str]:
    """A keyword index holds a row per text, and a word of a sample of them finds them."""
    found = []
    indexed = int(conn.execute(f"SELECT count(*) FROM {table}_docsize").fetchone()[0])
    if indexed != len(texts):
        found.append(f"{table} holds {indexed} rows for {len(texts)} texts")
    sample = rng.sample(sorted(texts), min(MATCH_SAMPLES, len(texts)))
    for row_id in sample:
        words = _WORD.findall(texts[row_id])
        if not words:
            continue
        word = rng.choice(words)
        hits = {
            int(r[0])
            for r in conn.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ?", ('"' + word + '"',)
            )
        }
        if row_id not in hits:
            found.append(f"{word!r} does not find row {row_id} in {table}")
        ghosts = hits - set(texts)
        if ghosts:
            found.append(f"{word!r} finds rows {sorted(ghosts)[:5]} of {table} that are gone")
    return found


def _nearest_agrees(
    store: Store, vectors: dict[int, tuple[bytes, str]], rng: random.Random
) -> list[str]:
    """The store's KNN, over the copy beside the library, finds the nearest chunks a numpy scan
    of the vectors table finds, as does sqlite-vec's own KNN."""
    model = store.model()
    if model is None or not vectors:
        return []
    found = []
    np_rng = np.random.default_rng(rng.randrange(2**32))
    for modality in ("image", "text"):
        ids = np.array([i for i, (_, m) in vectors.items() if m == modality], dtype=np.int64)
        if not len(ids):
            continue
        matrix = np.stack([np.frombuffer(vectors[i][0], dtype=np.float32) for i in ids.tolist()])
        probes = [matrix[rng.randrange(len(ids))] for _ in range(PROBES // 2)]
        probes += list(np_rng.standard_normal((PROBES - len(probes), model.dimension)))
        for probe in probes:
            query = np.asarray(probe, dtype=np.float32)
            truth = 1.0 - (matrix @ query) / (
                np.linalg.norm(matrix, axis=1) * np.linalg.norm(query)
            )
            distance_of = dict(zip(ids.tolist(), truth.tolist(), strict=True))
            best = np.sort(truth)[:PROBE_K]
            answers = {
                "the copy": store.knn(query.tobytes(), modality, PROBE_K),
                "sqlite-vec": store._nearest._sqlite_knn(
                    query.tobytes(), modality, PROBE_K, FileFilter(), False
                ),
            }
            if store._nearest._copy is None:
                found.append("the search did not use the copy of the vectors")
            for who, hits in answers.items():
                got = np.array([h.distance for h in hits], dtype=float)  # None: nan
                true = np.array([distance_of.get(h.chunk_id, np.inf) for h in hits])
                if len(hits) != len(best) or not np.allclose(got, best, atol=DISTANCE_TOLERANCE):
                    found.append(f"{who} found distances {got[:3]}… for {best[:3]}… ({modality})")
                elif not np.allclose(true, got, atol=DISTANCE_TOLERANCE):
                    found.append(f"{who} answered chunks that are not that near ({modality})")
    return found


@dataclass(frozen=True)
class FileState:
    """One file as a library holds it: what two indexes of the same folder must agree on."""

    kind: str
    status: str
    chunks: tuple[tuple[object, ...], ...]  # (source, text, start, end, page, heading), sorted
    vectors: tuple[bytes | None, ...]  # in the same order


def _model(library: Path) -> tuple[str, int] | None:
    with Store.open(library) as store:
        model = store.model()
        return None if model is None else (model.identity, model.dimension)


def snapshot(library: Path) -> dict[str, FileState]:
    """Every file of a library by path, with its chunks and vectors."""
    with Store.open(library) as store:
        conn = store.conn
        has_vectors = bool(
            conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'vectors'").fetchall()
        )
        vectors = (
            dict(conn.execute("SELECT chunk_id, embedding FROM vectors").fetchall())
            if has_vectors
            else {}
        )
        chunks: dict[int, list[tuple[tuple[object, ...], bytes | None]]] = {}
        for chunk_id, file_id, *fields in conn.execute(
            "SELECT id, file_id, source, text, start, end, page, heading FROM chunks WHERE seq >= 0"
        ):
            chunks.setdefault(file_id, []).append((tuple(fields), vectors.get(chunk_id)))
        out = {}
        for file_id, path, kind, status in conn.execute("SELECT id, path, kind, status FROM files"):
            held = sorted(chunks.get(file_id, []), key=lambda c: repr(c[0]))
            out[bytes(path).decode(errors="surrogateescape")] = FileState(
                kind, status, tuple(c[0] for c in held), tuple(c[1] for c in held)
            )
        return out


def differences(library: Path, clean: Path) -> list[str]:
    """How library differs from clean: files, their kind and state, chunks, vectors."""
    ours, theirs = snapshot(library), snapshot(clean)
    found = [] if _model(library) == _model(clean) else ["another model"]
    found += [f"{p} is missing" for p in sorted(theirs.keys() - ours.keys())]
    found += [f"{p} should not be there" for p in sorted(ours.keys() - theirs.keys())]
    for path in sorted(ours.keys() & theirs.keys()):
        a, b = ours[path], theirs[path]
        if (a.kind, a.status) != (b.kind, b.status):
            found.append(f"{path} is {a.kind}/{a.status}, not {b.kind}/{b.status}")
        elif a.chunks != b.chunks:
            found.append(
                f"{path} has other chunks than a clean index ({len(a.chunks)}, {len(b.chunks)})"
            )
        else:
            same = all(map(_same_vector, a.vectors, b.vectors))
            if not same:
                found.append(f"{path} has other vectors than a clean index")
    return found


def _same_vector(a: bytes | None, b: bytes | None) -> bool:
    if a is None or b is None:
        return a is b
    va, vb = np.frombuffer(a, np.float32), np.frombuffer(b, np.float32)
    return va.shape == vb.shape and bool(np.allclose(va, vb, atol=VECTOR_TOLERANCE))


def clean_index(
    folder: Path,
    library: Path,
    encoder: Callable[[], Encoder] = FakeEncoder,
    identity: str = FakeEncoder.identity,
) -> Path:
    """Index folder into a new library file at library, in this process, with the encoder
    made by encoder (FakeEncoder by default) under the model identity given, reading the text
    in pictures as the command line does by default (a photo read for text is decoded larger
    first, so its picture vector is made from other pixels than without)."""
    with Store.open(library, writer=True) as store:
        roots_rows.add_root(store, folder)
        reading = Reading(default_reader)
        outcome = sync(Indexer(store, encoder, identity, reading=reading))
        assert not outcome.cancelled and not outcome.waiting_for_model
    return library
