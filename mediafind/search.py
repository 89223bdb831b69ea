"""Queries: words and pictures -> photos, notes and captions.

Photos are found by their picture (vector search) and by their captions; notes by meaning
(vector search over their chunks) and by their words (FTS5 BM25), fused by reciprocal rank and
aggregated per document. A result's score is its cosine similarity when one list answers the
query; when lists are fused (notes, and kind "all"), similarities from different pairings are not
on one scale, so the score is the fused rank value (higher is better, comparable within the
query) and each hit still carries its best similarity.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from mediafind import media
from mediafind.embed import Encoder, Vectors
from mediafind.errors import MediafindError, ModelMismatch, UnreadableFile, describe
from mediafind.query import ALL, Query
from mediafind.store import (
    CAPTION_SOURCE,
    IMAGE_SOURCE,
    NOTE,
    PHOTO,
    ChunkHit,
    FileFilter,
    Store,
)

log = logging.getLogger(__name__)

# Reciprocal-rank fusion constant: the usual 60 keeps one list's top hit from drowning the
# others' second and third.
RRF_K = 60
# Text chunks fetched per wanted document: several chunks of one long note can crowd the top.
CHUNKS_PER_DOCUMENT = 4
# When few documents hold the words, the words are a strong signal (a name, a number, a quoted
# phrase): their list then counts this much more than the meaning-based one.
RARE_WORDS_DOCUMENTS = 3
RARE_WORDS_WEIGHT = 2.0
# A document with several matching chunks gains this much per extra chunk (up to 5): a note
# that keeps talking about the query beats one that mentions it once, other things equal.
EXTRA_CHUNK_BONUS = 0.1
# A chunk found by meaning counts as matching when its similarity is at least this share of the
# best chunk's; further down the list, chunks are merely the nearest of what there is.
MATCH_SHARE = 0.9
# Negative terms subtract their embedding from the query's, at full weight: half as much barely
# moves a query whose words mean nearly the same as the negative ("red -circle").
NEGATIVE_WEIGHT = 1.0
# The relevance floor compares a result with generic descriptions: a text query must describe a
# photo (or a note) about as well as these, which say nothing in particular, or it is no match.
NULL_PROMPTS = {
    "image": ("", "a photo", "an image", "a picture"),
    "text": ("", "a note", "some text"),
}
# How far under the generic descriptions a result may still score: a little slack keeps weak
# but real matches (CLIP's good matches clear them by ~0.05-0.1, unrelated words fall short by as
# much), at the cost of letting some loosely related ones through.
FLOOR_MARGIN = -0.02
# ... and a result must be a near neighbour: at least this share of the similarity of the
# query's nearest item. Past the real matches, similarity falls off steeply; this trims that
# tail even when the generic descriptions do not describe those items either.
FLOOR_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Hit:
    file_id: int
    path: Path
    kind: str  # "photo" or "note"
    score: float  # higher is better; comparable within one query
    similarity: float  # cosine similarity of the best match (0 for word-only matches)
    match: str  # what matched: "image", "text" (a note's text), "caption" or "name"
    snippet: str | None = None
    location: dict[str, object] = field(default_factory=dict)  # page, heading, start, end
    highlights: tuple[tuple[int, int], ...] = ()  # spans of the query's words in the snippet

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
            data["highlights"] = [list(span) for span in self.highlights]
        if self.location:
            data["location"] = self.location
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
        self._nulls: dict[str, Vectors] = {}

    def search(self, query: Query, limit: int = 20) -> list[Hit]:
        """Run a parsed query (see mediafind.query)."""
        if query.empty:
            raise MediafindError("the search is empty: type some words or give a picture")
        vector, described, itself = self._vector(query)
        where = file_filter(query, exclude=itself)
        floor = described if query.words_only else None
        texts = self._texts(vector, floor, query, limit, where)
        lists: list[list[Hit]] = []
        if query.kind in (PHOTO, ALL):
            lists.append(self._photos(vector, floor, limit, where))
        if query.kind == PHOTO:
            lists.append([h for h in texts if h.kind == PHOTO])
        elif query.kind == NOTE:
            lists.append([h for h in texts if h.kind == NOTE])
        else:
            lists.append(texts)
        hits = _fuse(lists, limit)
        if query.sort == "date":
            dates = self.store.file_dates([h.file_id for h in hits])
            hits.sort(key=lambda h: dates.get(h.file_id, 0.0), reverse=True)
        return hits

    # -- the query vector -----------------------------------------------------------------

    def _vector(self, query: Query) -> tuple[Vectors, Vectors, list[int]]:
        """The weighted sum of the parts' vectors, less the negatives, as a unit vector; the
        same without the negatives (what the query describes, for the relevance floor); and
        the files that are a query picture itself (to leave out of the results)."""
        total = np.zeros(self.encoder.dimension, dtype=np.float32)
        itself: list[int] = []
        texts = [p for p in query.parts if p.text]
        if texts:
            encoded = self.encoder.encode_texts([p.text or "" for p in texts])
            for part, vec in zip(texts, encoded, strict=True):
                total += part.weight * vec
        for part in query.images:
            assert part.image is not None
            vec, ids = self._picture(part.image)
            total += part.weight * vec
            itself += ids
        described = _unit(total.copy())
        if query.negatives:
            for vec in self.encoder.encode_texts(query.negatives):
                total -= NEGATIVE_WEIGHT * vec
        return _unit(total), described, itself

    def _picture(self, path: Path) -> tuple[Vectors, list[int]]:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise UnreadableFile(f"cannot read {path}: {describe(e, with_file=False)}") from e
        try:
            picture = media.open_image(data, self.encoder.image_size)
        except UnreadableFile as e:
            raise UnreadableFile(f"{path}: {e}") from e
        itself = self.store.files_with_hash(media.content_hash(data))
        known = self.store.file_by_path(path.absolute())
        if known is not None and known.id not in itself:
            itself.append(known.id)
        return self.encoder.encode_images([picture.image])[0], itself

    # -- photos ---------------------------------------------------------------------------

    def _photos(
        self, vector: Vectors, floor: Vectors | None, limit: int, where: FileFilter
    ) -> list[Hit]:
        floored = floor is not None
        hits = self.store.knn(vector.tobytes(), "image", limit, where=where, with_vectors=floored)
        if floor is not None:
            hits = self._above_floor(floor, hits, "image")
        return [
            Hit(h.file_id, h.path, PHOTO, 1 - h.distance, 1 - h.distance, IMAGE_SOURCE)
            for h in hits
        ]

    def _above_floor(self, vector: Vectors, hits: list[ChunkHit], modality: str) -> list[ChunkHit]:
        """The hits the query describes about as well as the generic prompts do, or better."""
        if not hits:
            return hits
        if modality not in self._nulls:
            self._nulls[modality] = self.encoder.encode_texts(list(NULL_PROMPTS[modality]))
        nulls = self._nulls[modality]
        items = {
            h.chunk_id: np.frombuffer(h.vector, dtype=np.float32)
            for h in hits
            if h.vector is not None
        }
        nearest = max(float(vector @ item) for item in items.values())
        kept = []
        for hit in hits:
            item = items[hit.chunk_id]
            similarity = float(vector @ item)
            beats_generic = similarity - float((nulls @ item).max()) > FLOOR_MARGIN
            if beats_generic and similarity >= FLOOR_SHARE * nearest:
                kept.append(hit)
        return kept

    # -- notes and captions ---------------------------------------------------------------

    def _texts(
        self, vector: Vectors, floor: Vectors | None, query: Query, limit: int, where: FileFilter
    ) -> list[Hit]:
        """Notes and captioned photos by meaning and by words, one hit per file."""
        k = limit * CHUNKS_PER_DOCUMENT
        floored = floor is not None
        semantic = self.store.knn(vector.tobytes(), "text", k, where=where, with_vectors=floored)
        if floor is not None:
            semantic = self._above_floor(floor, semantic, "text")
        keyword: list[ChunkHit] = []
        match = fts_query(query.words, query.phrases)
        if match:
            keyword = self.store.keyword_chunks(match, k, where)
        excluded = self._files_with_words(query.negatives, where)
        if query.phrases:
            # Quotes mean the phrase must be there.
            with_phrase = {h.file_id for h in keyword}
            semantic = [h for h in semantic if h.file_id in with_phrase]
        semantic = [h for h in semantic if h.file_id not in excluded]
        keyword = [h for h in keyword if h.file_id not in excluded]
        rare = 0 < len({h.file_id for h in keyword}) <= RARE_WORDS_DOCUMENTS
        return _documents(semantic, keyword, RARE_WORDS_WEIGHT if rare else 1.0, query, limit)

    def _files_with_words(self, negatives: Sequence[str], where: FileFilter) -> set[int]:
        match = " OR ".join(_quote(n) for n in negatives)
        if not match:
            return set()
        return {h.file_id for h in self.store.keyword_chunks(match, 100_000, where)}


def _unit(vector: Vectors) -> Vectors:
    norm = float(np.linalg.norm(vector))
    if norm == 0:
        raise MediafindError("the query cancels itself out: loosen the negative terms")
    return (vector / norm).astype(np.float32)


def fts_query(words: Sequence[str], phrases: Sequence[str], prefix: bool = False) -> str:
    """An FTS5 query: every phrase, and any of the words (BM25 ranks notes holding more of
    them higher). prefix: the last word may be the start of a word (search as you type)."""
    terms = [_quote(w) for w in words if _TOKEN.search(w)]
    if prefix and terms:
        terms[-1] += "*"
    any_word = " OR ".join(terms)
    required = " AND ".join(_quote(p) for p in phrases if _TOKEN.search(p))
    if required and any_word:
        return f"{required} AND ({any_word})"
    return required or any_word


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


_TOKEN = re.compile(r"\w")
_DIGIT = re.compile(r"\d")


def _documents(
    semantic: list[ChunkHit],
    keyword: list[ChunkHit],
    keyword_weight: float,
    query: Query,
    limit: int,
) -> list[Hit]:
    """Fuse the chunks found by meaning and by words by reciprocal rank, then keep one hit per
    file: its best chunk, with a bonus for each further chunk that matches too."""
    scores: dict[int, float] = {}
    chunks: dict[int, ChunkHit] = {}
    similarity = {h.chunk_id: 1 - h.distance for h in semantic}
    for hits, weight in ((semantic, 1.0), (keyword, keyword_weight)):
        for rank, hit in enumerate(hits, start=1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weight / (RRF_K + rank)
            chunks[hit.chunk_id] = hit
    # A chunk matches when it holds the words, or is about as close in meaning as the closest.
    top = max(similarity.values(), default=0.0)
    matching = {h.chunk_id for h in keyword}
    matching |= {c for c, sim in similarity.items() if top > 0 and sim >= MATCH_SHARE * top}
    by_file: dict[int, list[int]] = {}
    for chunk_id in sorted(scores, key=lambda c: scores[c], reverse=True):
        by_file.setdefault(chunks[chunk_id].file_id, []).append(chunk_id)
    ranked: list[tuple[float, Hit]] = []
    terms = (*query.phrases, *query.words)
    partial = query.words[-1] if query.typing and query.words else None
    for chunk_ids in by_file.values():
        best = chunks[chunk_ids[0]]
        extra = sum(1 for c in chunk_ids[1:] if c in matching)
        score = scores[best.chunk_id] * (1 + EXTRA_CHUNK_BONUS * min(extra, 5))
        text = best.text or ""
        location: dict[str, object] = {"start": best.start, "end": best.end}
        if best.page is not None:
            location["page"] = best.page
        if best.heading:
            location["heading"] = best.heading
        document = Hit(
            best.file_id,
            best.path,
            PHOTO if best.kind == PHOTO else NOTE,
            score,
            max((similarity.get(c, 0.0) for c in chunk_ids), default=0.0),
            best.source,
            text,
            location,
            highlight(text, terms, partial),
        )
        ranked.append((score, document))
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    return [hit for _, hit in ranked[:limit]]


def highlight(
    text: str, terms: Sequence[str], partial: str | None = None
) -> tuple[tuple[int, int], ...]:
    """Where the query's words and phrases occur in text (case-insensitive, whole words), as
    sorted, non-overlapping (start, end) spans: what both faces show in bold. Words of one or
    two letters without a digit ("a", "of") are left out, which in bold only add noise. partial:
    a word still being typed, matched as the start of a word ("squ" in "square")."""
    spans: list[tuple[int, int]] = []
    wanted = {t for t in terms if _TOKEN.search(t) and (len(t) > 2 or _DIGIT.search(t))}
    if partial and _TOKEN.search(partial):
        wanted.add(partial)
    for word in sorted(wanted, key=len, reverse=True):
        end = r"\w*" if word == partial else r"(?!\w)"
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, word.split())) + end
        for m in re.finditer(pattern, text, re.IGNORECASE):
            if not any(s < m.end() and m.start() < e for s, e in spans):
                spans.append(m.span())
    return tuple(sorted(spans))


def file_filter(query: Query, exclude: Sequence[int] = ()) -> FileFilter:
    """The files a query may return: its folder, dates and types, less the excluded files."""
    return FileFilter(
        folder=query.folder,
        after=query.after,
        before=query.before,
        extensions=tuple(sorted(query.types)),
        exclude=tuple(exclude),
    )


def keyword_search(store: Store, query: Query, limit: int = 20) -> list[Hit]:
    """Search by the words themselves, without a model: notes and captions holding the words
    (the last one as a prefix while it is being typed), and photos whose file or folder name
    holds them. Works while the model is missing or still loading."""
    words = [w.lower() for w in _WORDS.findall(" ".join(query.words))]
    match = fts_query(words, query.phrases, prefix=query.typing)
    if not match:
        return []
    where = file_filter(query)
    hits = store.keyword_chunks(match, limit * CHUNKS_PER_DOCUMENT, where)
    if query.kind == NOTE:
        hits = [h for h in hits if h.source != CAPTION_SOURCE]
    elif query.kind == PHOTO:
        hits = [h for h in hits if h.source == CAPTION_SOURCE]
    lists = [_documents([], hits, 1.0, query, limit)]
    if query.kind in (PHOTO, ALL) and words:
        named = store.files_named(words, PHOTO, limit)
        lists.append([Hit(i, p, PHOTO, 1.0, 0.0, "name") for i, p in named])
    return _fuse(lists, limit)


_WORDS = re.compile(r"\w+")


def _fuse(lists: list[list[Hit]], limit: int) -> list[Hit]:
    """One list as it is; several merged by reciprocal rank, a file found by several lists
    (a photo by its picture and by its caption) once, with the sum of its ranks' shares."""
    lists = [hits for hits in lists if hits]
    if len(lists) <= 1:
        return lists[0][:limit] if lists else []
    scores: dict[int, float] = {}
    first: dict[int, Hit] = {}
    for hits in lists:
        for rank, hit in enumerate(hits, start=1):
            scores[hit.file_id] = scores.get(hit.file_id, 0.0) + 1.0 / (RRF_K + rank)
            kept = first.get(hit.file_id)
            if kept is None or (kept.snippet is None and hit.snippet is not None):
                first[hit.file_id] = hit
    ordered = sorted(scores, key=lambda f: scores[f], reverse=True)[:limit]
    return [replace(first[f], score=scores[f]) for f in ordered]
