"""Queries: text -> photos and notes, picture -> notes, captions and similar photos.

Within one kind, a result's score is the cosine similarity of its best match (higher is better).
When several lists are merged (kind "all"), similarities from different pairings (text-to-image,
image-to-image, text-to-text) are not on one scale, so the lists are fused by reciprocal rank and
the score is that fused value; each hit still carries its similarity.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mediafind import media, scan
from mediafind.embed import Encoder, Vectors
from mediafind.errors import MediafindError, ModelMismatch, UnreadableFile
from mediafind.store import (
    CAPTION_SOURCE,
    IMAGE_SOURCE,
    NOTE,
    PHOTO,
    ChunkHit,
    Store,
    decode_path,
    encode_path,
)

log = logging.getLogger(__name__)

KINDS = ("photo", "note", "all")
# Reciprocal-rank fusion constant: the usual 60 keeps one list's top hit from drowning the
# others' second and third.
RRF_K = 60
# Text chunks fetched per wanted document: several chunks of one long note can crowd the top.
CHUNKS_PER_DOCUMENT = 4


@dataclass(frozen=True, slots=True)
class Hit:
    path: Path
    kind: str  # "photo" or "note"
    score: float  # higher is better; comparable within one query
    similarity: float  # cosine similarity of the best match
    match: str  # what matched: "image", "text" (a note's text), "caption" or "name"
    snippet: str | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "path": str(self.path.absolute()),
            "kind": self.kind,
            "score": round(self.score, 6),
            "similarity": round(self.similarity, 6),
            "match": self.match,
        }
        if self.snippet is not None:
            data["snippet"] = self.snippet
        return data


class Searcher:
    """Answers queries on one library with the model that made its vectors."""

    def __init__(self, store: Store, encoder: Encoder) -> None:
        info = store.model()
        if info is not None and info.identity != encoder.identity:
            raise ModelMismatch(
                f"this library was indexed with {info.spec}, not {encoder.spec}; search without "
                f"--model, or run `mediafind --model {encoder.spec} index` to re-embed it"
            )
        self.store = store
        self.encoder = encoder

    def text(
        self, query: str, kind: str = "all", limit: int = 20, folder: Path | None = None
    ) -> list[Hit]:
        """Photos that look like the words, and notes that say something like them."""
        query = query.strip()
        if not query:
            raise MediafindError("the search text is empty")
        vector = self.encoder.encode_texts([query])[0]
        lists: list[list[Hit]] = []
        if kind in ("photo", "all"):
            lists.append(self._photos(vector, limit, folder))
        if kind in ("note", "all"):
            lists.append(self._texts(vector, limit, folder, captions=kind == "all"))
        return _fuse(lists, limit)

    def image(
        self, path: Path, kind: str = "all", limit: int = 20, folder: Path | None = None
    ) -> list[Hit]:
        """Notes and captions that talk about the picture, and photos that look like it (the
        picture itself, and copies of it, left out)."""
        try:
            data = path.read_bytes()
        except OSError as e:
            raise UnreadableFile(f"cannot read {path}: {e.strerror or e}") from e
        try:
            picture = media.open_image(data, self.encoder.image_size)
        except UnreadableFile as e:
            raise UnreadableFile(f"{path}: {e}") from e
        itself = self.store.files_with_hash(scan.content_hash(data))
        known = self.store.file_by_path(encode_path(path.absolute()))
        if known is not None and known.id not in itself:
            itself.append(known.id)
        vector = self.encoder.encode_images([picture.image])[0]
        lists: list[list[Hit]] = []
        if kind in ("note", "all"):
            lists.append(self._texts(vector, limit, folder, captions=kind == "all"))
        if kind in ("photo", "all"):
            lists.append(self._photos(vector, limit, folder, exclude=itself))
        return _fuse(lists, limit)

    def _photos(
        self, vector: Vectors, limit: int, folder: Path | None, exclude: Sequence[int] = ()
    ) -> list[Hit]:
        hits = self.store.knn(vector.tobytes(), "image", limit, _folder(folder), exclude)
        return [
            Hit(decode_path(h.path), PHOTO, 1 - h.distance, 1 - h.distance, IMAGE_SOURCE)
            for h in hits
        ]

    def _texts(self, vector: Vectors, limit: int, folder: Path | None, captions: bool) -> list[Hit]:
        """Notes (and, if asked, captioned photos), best chunk per file."""
        total = self.store.vector_count()
        k = limit * CHUNKS_PER_DOCUMENT
        while True:
            hits = self.store.knn(vector.tobytes(), "text", k, _folder(folder))
            best: dict[int, ChunkHit] = {}
            for h in hits:
                if h.source == CAPTION_SOURCE and not captions:
                    continue
                if h.file_id not in best:
                    best[h.file_id] = h
            if len(best) >= limit or len(hits) < k or k >= total:
                break
            k *= 2
        return [
            Hit(
                decode_path(h.path),
                PHOTO if h.kind == PHOTO else NOTE,
                1 - h.distance,
                1 - h.distance,
                h.source,
                h.text,
            )
            for h in list(best.values())[:limit]
        ]


def keyword_search(store: Store, query: str, kind: str = "all", limit: int = 20) -> list[Hit]:
    """Search by the words themselves, without a model: notes and captions whose text holds
    every word (the last one as a prefix, for search as you type), and photos whose file or
    folder name does. Works while the model is missing or still loading."""
    words = [w for w in _WORD.findall(query.lower()) if w]
    if not words:
        return []
    match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
    lists: list[list[Hit]] = []
    if kind in ("note", "all"):
        best: dict[int, ChunkHit] = {}
        for h in store.keyword_chunks(match.strip(), limit * CHUNKS_PER_DOCUMENT):
            if kind == "note" and h.source == CAPTION_SOURCE:
                continue
            best.setdefault(h.file_id, h)
        lists.append(
            [
                Hit(
                    decode_path(h.path),
                    PHOTO if h.kind == PHOTO else NOTE,
                    -h.distance,  # BM25: higher is better once negated
                    0.0,
                    h.source,
                    h.text,
                )
                for h in list(best.values())[:limit]
            ]
        )
    if kind in ("photo", "all"):
        named = store.files_named(words, PHOTO, limit)
        lists.append([Hit(decode_path(p), PHOTO, 1.0, 0.0, "name") for p in named])
    return _fuse(lists, limit)


_WORD = re.compile(r"\w+")


def _folder(folder: Path | None) -> bytes | None:
    return None if folder is None else encode_path(folder.absolute())


def _fuse(lists: list[list[Hit]], limit: int) -> list[Hit]:
    """One list as it is; several merged by reciprocal rank, a file found by several lists
    (a photo by its picture and by its caption) once, with the sum of its ranks' shares."""
    if len(lists) == 1:
        return lists[0][:limit]
    scores: dict[Path, float] = {}
    first: dict[Path, Hit] = {}
    for hits in lists:
        for rank, hit in enumerate(hits, start=1):
            scores[hit.path] = scores.get(hit.path, 0.0) + 1.0 / (RRF_K + rank)
            kept = first.get(hit.path)
            if kept is None or (kept.snippet is None and hit.snippet is not None):
                first[hit.path] = hit
    ordered = sorted(scores, key=lambda p: scores[p], reverse=True)[:limit]
    return [
        Hit(p, first[p].kind, scores[p], first[p].similarity, first[p].match, first[p].snippet)
        for p in ordered
    ]
