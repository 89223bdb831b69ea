"""What the faces show: the library's overview, a search's answer, what an index run did and its
progress, as plain values. Each turns into a dict of JSON types and back, so that a running
instance can answer the command line over its socket and the command line prints the same
thing whether it asked the instance or did the work itself.

Nothing here imports more than the standard library: the command line reads these answers
without loading numpy, the store or the model.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Progress:
    """How far an index run is."""

    done: int
    total: int
    current: Path | None
    errors: int
    rate: float  # files per second
    eta: float | None  # seconds

    def to_dict(self) -> Json:
        return {
            "done": self.done,
            "total": self.total,
            "current": None if self.current is None else str(self.current),
            "errors": self.errors,
            "rate": self.rate,
            "eta": self.eta,
        }

    @classmethod
    def from_dict(cls, data: Json) -> Progress:
        current, eta = data["current"], data["eta"]
        return cls(
            done=int(data["done"]),
            total=int(data["total"]),
            current=None if current is None else Path(current),
            errors=int(data["errors"]),
            rate=float(data["rate"]),
            eta=None if eta is None else float(eta),
        )


@dataclass(frozen=True, slots=True)
class FolderState:
    """A watched folder as a user sees it: live, polling or offline as the process writing the
    library watches it; unwatched when no process does (offline when it is missing)."""

    path: Path
    state: str
    note: str
    files: int
    errors: int

    def describe(self) -> str:
        note = f" ({self.note})" if self.note else ""
        files = f"{self.files:,} file{'' if self.files == 1 else 's'}"
        unread = f", {self.errors:,} could not be read" if self.errors else ""
        return f"{self.state}{note}, {files}{unread}"

    def to_json(self) -> Json:
        entry: Json = {"path": str(self.path), "state": self.state}
        entry |= {"files": self.files, "errors": self.errors}
        if self.note:
            entry["note"] = self.note
        return entry

    @classmethod
    def from_json(cls, data: Json) -> FolderState:
        note = str(data.get("note", ""))
        return cls(
            Path(data["path"]), str(data["state"]), note, int(data["files"]), int(data["errors"])
        )


@dataclass(frozen=True, slots=True)
class Overview:
    """What the library holds now: its model, counts, folders, and the files that could not be
    read, hold nothing to index (empty), or were read only in part (notes), each with its
    reason."""

    library: Path
    exists: bool = False
    size_bytes: int = 0
    model: str | None = None
    writer_pid: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    folders: list[FolderState] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[tuple[Path, str]] = field(default_factory=list)
    empty: list[tuple[Path, str]] = field(default_factory=list)
    # Indexed photos whose metadata names people (with_people), and with GPS (with_place).
    named: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> Json:
        return {
            "library": str(self.library),
            "exists": self.exists,
            "size_bytes": self.size_bytes,
            "model": self.model,
            "writer_pid": self.writer_pid,
            "counts": dict(self.counts),
            "folders": [f.to_json() for f in self.folders],
            "errors": _pairs_to_json(self.errors),
            "notes": _pairs_to_json(self.notes),
            "empty": _pairs_to_json(self.empty),
            "named": dict(self.named),
        }

    @classmethod
    def from_dict(cls, data: Json) -> Overview:
        return cls(
            library=Path(data["library"]),
            exists=bool(data["exists"]),
            size_bytes=int(data["size_bytes"]),
            model=data["model"],
            writer_pid=data["writer_pid"],
            counts={str(k): int(v) for k, v in data["counts"].items()},
            folders=[FolderState.from_json(f) for f in data["folders"]],
            errors=_pairs_from_json(data["errors"]),
            notes=_pairs_from_json(data["notes"]),
            empty=_pairs_from_json(data.get("empty", [])),
            named={str(k): int(v) for k, v in data.get("named", {}).items()},
        )


@dataclass(frozen=True, slots=True)
class Found:
    """A search's answer as the faces print it: each hit as `search --json` writes it (see the
    README: path, kind, score, similarity, match, why, and for passages snippet, highlights and
    location), best first; whether they are word matches only, and why; and how many photos
    the library's calibrated relevance cutoff hid."""

    hits: tuple[Json, ...] = ()
    words_only: bool = False
    note: str = ""
    hidden: int = 0
    unknown: tuple[str, ...] = ()  # nothing found: the person: and place: names no photo has

    def to_dict(self) -> Json:
        return {
            "hits": list(self.hits),
            "words_only": self.words_only,
            "note": self.note,
            "hidden": self.hidden,
            "unknown": list(self.unknown),
        }

    @classmethod
    def from_dict(cls, data: Json) -> Found:
        hits = data["hits"]
        if not isinstance(hits, list) or not all(isinstance(h, dict) for h in hits):
            raise TypeError("hits must be a list of objects")
        # An instance of an older mediafind does not say "hidden" (it had no cutoff) nor
        # "unknown".
        hidden = int(data.get("hidden", 0))
        unknown = data.get("unknown", [])
        said = tuple(str(s) for s in unknown) if isinstance(unknown, list) else ()
        return cls(tuple(hits), bool(data["words_only"]), str(data["note"]), hidden, said)


@dataclass(frozen=True, slots=True)
class Added:
    """A folder given to the library: the watched folder that holds it (itself, or a folder
    above it that was already watched), and whether a running service indexes it now."""

    where: Path
    indexing: bool = False

    def to_dict(self) -> Json:
        return {"where": str(self.where), "indexing": self.indexing}

    @classmethod
    def from_dict(cls, data: Json) -> Added:
        return cls(Path(data["where"]), bool(data["indexing"]))


@dataclass(slots=True)
class Indexed:
    """What one index run did, as the command line reports it. The indexer counts into its
    own kind of it (indexer.Outcome), so the counts are written here once."""

    indexed: int = 0
    reused: int = 0  # copies and unchanged content whose vectors were kept
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: list[tuple[Path, str]] = field(default_factory=list)
    walk_errors: list[tuple[Path, str]] = field(default_factory=list)
    offline: list[Path] = field(default_factory=list)
    model_reset: bool = False
    seconds: float = 0.0
    # Without the model: files whose words were made searchable, and why the rest waits.
    words_only: int = 0
    waiting_for_model: str = ""

    def to_dict(self) -> Json:
        return {
            "indexed": self.indexed,
            "reused": self.reused,
            "moved": self.moved,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "errors": _pairs_to_json(self.errors),
            "walk_errors": _pairs_to_json(self.walk_errors),
            "offline": [str(p) for p in self.offline],
            "model_reset": self.model_reset,
            "seconds": self.seconds,
            "words_only": self.words_only,
            "waiting_for_model": self.waiting_for_model,
        }

    @classmethod
    def from_dict(cls, data: Json) -> Indexed:
        counts = ("indexed", "reused", "moved", "removed", "unchanged", "words_only")
        return cls(
            **{key: int(data[key]) for key in counts},
            errors=_pairs_from_json(data["errors"]),
            walk_errors=_pairs_from_json(data["walk_errors"]),
            offline=[Path(p) for p in data["offline"]],
            model_reset=bool(data["model_reset"]),
            seconds=float(data["seconds"]),
            waiting_for_model=str(data["waiting_for_model"]),
        )


def _pairs_to_json(pairs: list[tuple[Path, str]]) -> list[Json]:
    return [{"path": str(path), "reason": reason} for path, reason in pairs]


def _pairs_from_json(items: list[Json]) -> list[tuple[Path, str]]:
    return [(Path(item["path"]), str(item["reason"])) for item in items]


def json_path(path: Path, key: str = "path") -> Json:
    """A path as the command line's JSON gives it to other programs: text (valid UTF-8, so
    that any JSON reader takes it), and where the name is not valid UTF-8 (bytes from another
    system), its exact bytes too, base64-encoded, as key_b64 — the text then shows U+FFFD for
    the bytes it cannot say."""
    raw = os.fsencode(path)
    try:
        return {key: raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {key: raw.decode("utf-8", "replace"), f"{key}_b64": base64.b64encode(raw).decode()}
