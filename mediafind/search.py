"""Queries: words and pictures -> photos and notes, best first, each with why it matched.

Every file is scored by its evidence, each on a scale of 0 to 1 and independent of how many
results are asked for:

- picture: the photo's similarity to the query, placed between the nearest photo's (0.8) and
  half of it (0); a text query keeps only photos it describes better than generic words ("a
  photo") do — the relevance floor — and counts those near the floor less;
- caption: the words of a photo's caption as below; for a picture query also its meaning, at
  half weight;
- passage: the same for a note's best passage, by meaning;
- words: how many of the query's meaningful words (stopwords left out, accents folded) one
  passage, or a photo's caption, holds: all of them 0.75, 0.9 when they stand together as in
  the query, 0.95 when only a few files hold them so (a name, a number, a quoted phrase); some
  of them at most 0.1, a tie-breaker;
- name: the same for the file's name and folders below the watched folder;
- text in picture: the same for the text read in a photo or a scanned page (OCR), by its words
  and by its meaning (at half weight for a photo, like a caption's, for the picture counts).

A file's score joins its evidence as independent signals, 1 - (1-a)(1-b)…, so a caption or a
name that shares one common word with the query never beats a picture that shows it, and a
document's score does not grow with its length (its best passage counts). The relevance floor
applies to meaning alone: words and names are never hidden. Photos and notes are two lists,
each ranked by score; asked for both, they are merged by score.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from mediafind import media, people_search, search_rows, words
from mediafind.embed import Encoder, Vectors
from mediafind.errors import MediafindError, ModelMismatch, UnreadableFile, describe
from mediafind.evaluate_rows import relevance_cutoff
from mediafind.people import key as name_key
from mediafind.people_rows import Facts, Place
from mediafind.picturetext import boxes_from_json, union
from mediafind.query import ALL, DATE, Query
from mediafind.query import NAME as BY_NAME  # NAME here is the evidence
from mediafind.report import json_path
from mediafind.store import (
    CAPTION_SOURCE,
    NOTE,
    OCR_SOURCE,
    PHOTO,
    ChunkHit,
    FileFilter,
    NamedFile,
    Store,
)
from mediafind.text import cap_words
from mediafind.vectorfile import product

log = logging.getLogger(__name__)

# Candidates each list brings, whatever the page size (more when a page asks for more): the
# first results are then the same for -n 3 and -n 200.
POOL = 200
# Text passages fetched per candidate document: a long note's many passages must not crowd out
# the other documents.
CHUNKS_PER_DOCUMENT = 4
# Words: what a passage, caption or name holding all of the query's meaningful words counts;
# more when they stand together, as the query has them ("a red circle", not "red paint ... a
# circle of friends"); more again when, so, at most RARE_FILES files hold them (they name it).
ALL_WORDS = 0.75
TOGETHER = 0.9
RARE_WORDS = 0.95
RARE_FILES = 3
# What meaning alone (a picture, a passage) counts at most. Below the words that state the
# query: a small model finds many passages nearly as near as the best one, and the one that says
# it in so many words must still come first.
MEANING = 0.8
# ... and one holding only some of them: at most this, a tie-breaker. A caption or a name that
# shares one common word with the query ("the red sofa" for "a red circle") must never beat a
# picture that shows it.
SOME_WORDS = 0.1
# A document's nearest passage is the best of all its passages, and the best of many is near by
# chance: its strength is divided by 1 + this x ln(passages) (a 270-passage PDF: by 1.28).
LONG_DOCUMENT = 0.05
# A picture query finds captions by meaning (a dropped picture of a red triangle finds the photo
# captioned "a red triangle on the fridge"); that counts half of what the photo's own picture
# would, so look-alikes still come first in "Find Similar".
CAPTION_BY_MEANING = 0.5
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
# A text query this similar to a generic description means nothing the model can read (words
# it never learnt: the tiny test model reads "a purple elephant" as "a note"): it matches by
# its words alone. Real models put even short queries well below this.
SAYS_NOTHING = 0.99
# A text query that describes an item this much better than the floor asks is surely about it;
# nearer the floor, the item's strength is scaled down in proportion.
SURE_MARGIN = 0.12
# With a calibrated cutoff (`mediafind eval --apply`), a photo at the cutoff is found with the
# precision asked for there (0.9 by default): it counts this much of a sure match, and fully
# SURE_MARGIN / 2 above it.
AT_CUTOFF = 0.5

# Why a file matched, as both faces show it.
PICTURE = "picture"
CAPTION = "caption"
PASSAGE = "passage"
WORDS = "words"
NAME = "name"
TEXT_IN_PICTURE = "text in picture"


@dataclass(frozen=True, slots=True)
class Hit:
    file_id: int
    path: Path
    kind: str  # "photo" or "note"
    score: float  # 0..1, higher is better; comparable within one query
    similarity: float  # cosine similarity of the best match (0 for word-only matches)
    # The strongest evidence: "image", "text" (a note's text), "caption", "name" or "ocr" (text
    # read in a picture).
    match: str
    snippet: str | None = None
    # page, heading, start, end; for text read in a picture, box: where its lines stand
    # ([left, top, right, bottom] fractions of the picture as shown) and lines: each line's box.
    location: dict[str, object] = field(default_factory=dict)
    highlights: tuple[tuple[int, int], ...] = ()  # spans of the query's words in the snippet
    why: tuple[str, ...] = ()  # the evidence that brought it, strongest first (see above)
    # When the photo was taken, else when the file last changed (a timestamp): given when the
    # results are in date order, for the window to group them by month.
    date: float | None = None
    people: tuple[str, ...] = ()  # the people in a photo, as its metadata names them
    place: Place | None = None  # where a photo was taken (GPS), named when a town is near

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            **json_path(self.path.absolute()),
            "kind": self.kind,
            "score": round(self.score, 6),
            "similarity": round(self.similarity, 6),
            "match": self.match,
            "why": list(self.why),
            "people": list(self.people),
            "place": self.place.to_json() if self.place is not None else None,
        }
        if self.snippet is not None:
            data["snippet"] = self.snippet
            data["highlights"] = [list(span) for span in self.highlights]
        if self.location:
            data["location"] = self.location
        return data


@dataclass
class _Evidence:
    """What is known of one file while a query is answered."""

    file_id: int
    named: ChunkHit | NamedFile  # what found it first, which knows its path
    kind: str
    strength: dict[str, float] = field(default_factory=dict)  # why -> 0..1
    similarity: float = 0.0
    passage: ChunkHit | None = None  # the text to show
    passage_strength: float = -1.0

    def add(self, why: str, value: float) -> None:
        if value > 0:
            self.strength[why] = max(self.strength.get(why, 0.0), min(value, 1.0))

    def offer(self, chunk: ChunkHit, value: float) -> None:
        """A passage to show, kept if it is the strongest so far."""
        if value > self.passage_strength:
            self.passage, self.passage_strength = chunk, value

    @property
    def meaning(self) -> float:
        """The strongest evidence by meaning (what breaks ties between equal words)."""
        return max(self.strength.get(PICTURE, 0.0), self.strength.get(PASSAGE, 0.0))

    @property
    def score(self) -> float:
        missing = 1.0
        for value in self.strength.values():
            missing *= 1.0 - value
        return 1.0 - missing


@dataclass(frozen=True, slots=True)
class Answer:
    """The hits of a query, and how many files of each kind it found before the page was cut:
    browsing, all that pass the filters; searching, all that cleared the relevance floor."""

    hits: list[Hit]
    totals: dict[str, int]
    # Photos the generic floor would have shown that the library's calibrated cutoff hid.
    hidden: int = 0
    # Nothing found: the person: and place: names no photo of the library has, said as
    # sentences (people_search.unknown_names).
    unknown: tuple[str, ...] = ()


class Terms:
    """The query's words as matching needs them: meaningful words folded, the last one maybe
    unfinished (typing), phrases that must be there."""

    def __init__(self, query: Query) -> None:
        self.content = words.content_words(query.words)
        self.phrases = [" ".join(words.tokens(p)) for p in query.phrases]
        self.phrases = [p for p in self.phrases if p]
        negatives = (" ".join(words.tokens(n)) for n in query.negatives)
        self.negatives = [n for n in negatives if n]
        self.partial = self.content[-1] if query.typing and self.content else None
        self.highlight = (*query.phrases, *query.words)
        self.raw_partial = query.words[-1] if query.typing and query.words else None

    def __bool__(self) -> bool:
        return bool(self.content or self.phrases)

    def fts(self) -> str:
        """An FTS5 query for candidates: every phrase, and any of the meaningful words."""
        terms = [_quote(w) for w in self.content]
        if self.partial is not None and terms:
            terms[-1] += "*"
        any_word = " OR ".join(terms)
        required = " AND ".join(_quote(p) for p in self.phrases)
        if required and any_word:
            return f"{required} AND ({any_word})"
        return required or any_word

    def together(self, text: str) -> bool:
        """Whether one sentence of text holds the meaningful words in the query's order, next
        to each other (one word may stand between two of them: "red round circle")."""
        if len(self.content) < 2:
            return True
        first, *rest = self.content
        for sentence in _SENTENCE_END.split(text):
            folded = words.tokens(sentence)
            for start, token in enumerate(folded):
                if token != first:
                    continue
                at = start
                for word in rest:
                    window = folded[at + 1 : at + 3]
                    if word not in window:
                        break
                    at += 1 + window.index(word)
                else:
                    return True
        return False

    def coverage(self, text: str) -> float:
        """The share of the meaningful words text holds (0 without every phrase, or with a
        word the query pushes away)."""
        folded = words.tokens(text)
        if self.phrases or self.negatives:
            joined = " " + " ".join(folded) + " "
            if not all(f" {p} " in joined for p in self.phrases):
                return 0.0
            if any(f" {n} " in joined for n in self.negatives):
                return 0.0
        if not self.content:
            return 1.0
        present = set(folded)
        found = 0
        for word in self.content:
            if word in present or (
                word == self.partial and any(t.startswith(word) for t in present)
            ):
                found += 1
        return found / len(self.content)


def _words_strength(coverage: float, together: bool, rare: bool) -> float:
    """What a share of the query's words counts: all of them about as much as a picture that
    shows it, more when they stand together or few files hold them; some of them no more than a
    tie-breaker."""
    if coverage < 1.0:
        return SOME_WORDS * coverage
    if not together:
        return ALL_WORDS
    return RARE_WORDS if rare else TOGETHER


class Searcher:
    """Answers queries on one library: with the model that made its vectors, or by words alone
    (encoder None: the model is missing or loading)."""

    def __init__(
        self,
        store: Store,
        encoder: Encoder | None,
        nulls: dict[str, Vectors] | None = None,
        cutoff: bool = True,
    ) -> None:
        """nulls: where to keep the generic descriptions' vectors, shared by the searches of
        one model (encoding them costs as much as the query itself). cutoff: photos found by
        words are kept by the library's calibrated cutoff for this model when it has one
        (`mediafind eval --apply`), else by the generic floor; False: by the generic floor."""
        info = store.model()
        if encoder is not None and info is not None and info.identity != encoder.identity:
            raise ModelMismatch(
                f"this library was indexed with {info.spec}, not {encoder.spec}; search without "
                f"--model, or run `mediafind --model {encoder.spec} index` to re-embed it"
            )
        self.store = store
        self.encoder = encoder
        self._nulls: dict[str, Vectors] = {} if nulls is None else nulls
        self.cutoff = (
            relevance_cutoff(store, encoder.identity) if cutoff and encoder is not None else None
        )
        self._hidden = 0

    def search(self, query: Query, limit: int = 20) -> list[Hit]:
        """Run a parsed query (see mediafind.query). Without words or pictures (filters alone,
        or nothing), list what passes the filters, newest first."""
        return self.answer(query, limit).hits

    def answer(self, query: Query, limit: int = 20) -> Answer:
        """The hits of search, with the number of files of each kind found; when there are
        none, the person: and place: names the library does not know."""
        query = people_search.narrowed(query, self.store.people)
        answer = self._browse(query, limit) if query.empty else self._answer(query, limit)
        if not answer.hits and (query.people or query.places):
            answer = replace(answer, unknown=people_search.unknown_names(query, self.store.people))
        return answer

    def _answer(self, query: Query, limit: int) -> Answer:
        self._hidden = 0
        pool = max(limit, POOL)
        terms = Terms(query)
        found: dict[int, _Evidence] = {}
        if self.encoder is None:
            where = file_filter(query)
        else:
            vector, described, itself = self._vector(query)
            where = file_filter(query, exclude=itself)
            floor = described if query.words_only else None
            if query.kind in (PHOTO, ALL):
                self._pictures(vector, floor, pool, where, found)
            self._passages(vector, floor, query, terms, pool, where, found)
        if terms:
            self._words(query, terms, pool, where, found)
            if query.kind in (PHOTO, ALL):
                self._names(terms, pool, where, found)
                self._facts(terms, pool, where, found)
        excluded = self._files_with_words(query.negatives, where)
        lists = []
        totals: dict[str, int] = {}
        for kind in (PHOTO, NOTE):
            if query.kind in (kind, ALL):
                ranked = [e for e in found.values() if e.kind == kind and e.strength]
                if kind == NOTE:
                    ranked = [e for e in ranked if e.file_id not in excluded]
                ranked.sort(key=lambda e: (-e.score, -e.meaning, e.file_id))
                lists.append(ranked)
                totals[kind] = len(ranked)
        hits = self._with_facts([self._hit(e, terms) for e in _interleave(lists)[:limit]], query)
        # Another order sorts the best matches (the page), not the whole library.
        if query.order == DATE:
            dates = search_rows.file_dates(self.store, [h.file_id for h in hits])
            hits = [replace(h, date=dates.get(h.file_id, 0.0)) for h in hits]
            hits.sort(key=lambda h: h.date or 0.0, reverse=True)
        elif query.order == BY_NAME:
            hits.sort(key=lambda h: (h.path.name.casefold(), h.path))
        return Answer(hits, totals, self._hidden)

    def _browse(self, query: Query, limit: int) -> Answer:
        kind = None if query.kind == ALL else query.kind
        where = file_filter(query)
        by_name = query.order == BY_NAME
        rows = search_rows.browse(self.store, kind, limit, where, by_name=by_name)
        hits = [
            Hit(r.file_id, r.path, r.kind, 0.0, 0.0, "", date=None if by_name else r.date)
            for r in rows
        ]
        kinds = (PHOTO, NOTE) if kind is None else (kind,)
        hits = self._with_facts(hits, query)
        return Answer(hits, {k: search_rows.count(self.store, k, where) for k in kinds})

    # -- the query vector -----------------------------------------------------------------

    def _vector(self, query: Query) -> tuple[Vectors, Vectors, list[int]]:
        """The weighted sum of the parts' vectors, less the negatives, as a unit vector; the
        same without the negatives (what the query describes, for the relevance floor); and
        the files that are a query picture itself (to leave out of the results)."""
        assert self.encoder is not None
        total = np.zeros(self.encoder.dimension, dtype=np.float32)
        itself: list[int] = []
        texts = [p for p in query.parts if p.text]
        if texts:
            # Long words cut first: the tokenizer's cost grows with the square of a word's length.
            encoded = self.encoder.encode_texts([cap_words(p.text or "") for p in texts])
            for part, vec in zip(texts, encoded, strict=True):
                total += part.weight * vec
        for part in query.images:
            assert part.image is not None
            vec, ids = self._picture(part.image)
            total += part.weight * vec
            itself += ids
        described = _unit(total.copy())
        if query.negatives:
            for vec in self.encoder.encode_texts([cap_words(n) for n in query.negatives]):
                total -= NEGATIVE_WEIGHT * vec
        return _unit(total), described, itself

    def _picture(self, path: Path) -> tuple[Vectors, list[int]]:
        assert self.encoder is not None
        try:
            media.check_picture_size(path.stat().st_size)
            data = path.read_bytes()
        except OSError as e:
            raise UnreadableFile(f"cannot read {path}: {describe(e, with_file=False)}") from e
        except UnreadableFile as e:
            raise UnreadableFile(f"{path}: {e}") from e
        try:
            # The same budget as indexing: a picture too large to decode safely is refused.
            picture = media.open_image(data, self.encoder.image_size, raw=media.is_raw(path))
        except UnreadableFile as e:
            raise UnreadableFile(f"{path}: {e}") from e
        itself = search_rows.files_with_hash(self.store, media.content_hash(data))
        known = self.store.file_by_path(path.absolute())
        if known is not None and known.id not in itself:
            itself.append(known.id)
        return self.encoder.encode_images([picture.image])[0], itself

    # -- evidence -------------------------------------------------------------------------

    def _pictures(
        self,
        vector: Vectors,
        floor: Vectors | None,
        pool: int,
        where: FileFilter,
        found: dict[int, _Evidence],
    ) -> None:
        """Photos by their picture."""
        hits = self.store.knn(vector.tobytes(), "image", pool, where=where, with_vectors=True)
        for hit, strength, similarity in self._by_meaning(vector, floor, hits, "image"):
            evidence = _evidence(found, hit.file_id, hit, PHOTO)
            evidence.add(PICTURE, strength)
            evidence.similarity = max(evidence.similarity, similarity)

    def _passages(
        self,
        vector: Vectors,
        floor: Vectors | None,
        query: Query,
        terms: Terms,
        pool: int,
        where: FileFilter,
        found: dict[int, _Evidence],
    ) -> None:
        """Notes by the meaning of their passages, photos by the meaning of the text read in
        them; for a picture query, photos by the meaning of their captions too. A text query
        finds captions by their words alone (below): a caption near the words in meaning ("the
        red sofa" for "a red circle") is weaker evidence than the picture it belongs to."""
        by_picture = floor is None and bool(query.images)
        k = pool * CHUNKS_PER_DOCUMENT
        hits = self.store.knn(vector.tobytes(), "text", k, where=where, with_vectors=True)
        if not by_picture:
            hits = [h for h in hits if h.source != CAPTION_SOURCE]
        passages = search_rows.passage_counts(self.store, sorted({h.file_id for h in hits}))
        for hit, strength, similarity in self._by_meaning(vector, floor, hits, "text"):
            if terms.phrases and terms.coverage(hit.text or "") == 0:
                continue  # quotes mean the phrase must be there
            kind = hit.kind
            if query.kind not in (kind, ALL):
                continue
            evidence = _evidence(found, hit.file_id, hit, kind)
            # The best of a document's passages is the nearest of many: a long document would
            # win by numbers alone. Each tenfold of passages costs about a tenth.
            strength /= 1.0 + LONG_DOCUMENT * math.log(passages.get(hit.file_id, 1))
            if kind == PHOTO:
                strength *= CAPTION_BY_MEANING
            evidence.add(_why(hit, PASSAGE), strength)
            evidence.similarity = max(evidence.similarity, similarity)
            evidence.offer(hit, strength)

    def _by_meaning(
        self, vector: Vectors, floor: Vectors | None, hits: list[ChunkHit], modality: str
    ) -> Iterable[tuple[ChunkHit, float, float]]:
        """Each hit that clears the relevance floor (text queries), with its strength (how near
        it is, compared with the nearest) and its cosine similarity."""
        items = [h for h in hits if h.vector]
        if not items:
            return []
        # One matrix of the hits' vectors: a product per hit cost more than the search itself.
        stored = np.frombuffer(b"".join(h.vector or b"" for h in items), dtype=np.float32)
        stored = stored.reshape(len(items), -1)
        similarity = product(stored, vector).tolist()
        if floor is None:
            kept = [(h, s, 1.0) for h, s in zip(items, similarity, strict=True)]
        else:
            if modality not in self._nulls:
                assert self.encoder is not None
                self._nulls[modality] = self.encoder.encode_texts(list(NULL_PROMPTS[modality]))
            nulls = self._nulls[modality]
            if float((nulls @ floor).max()) > SAYS_NOTHING:
                return []  # the model reads the words as generic ones: no meaning to match
            described = product(stored, floor)
            nearest = float(described.max())
            generic = np.max([product(stored, null) for null in nulls], axis=0)
            margins = (described - generic).tolist()
            kept = [
                (h, s, min(1.0, (m - FLOOR_MARGIN) / SURE_MARGIN))
                for h, d, m, s in zip(items, described.tolist(), margins, similarity, strict=True)
                if m > FLOOR_MARGIN and d >= FLOOR_SHARE * nearest
            ]
            if modality == "image" and self.cutoff is not None:
                generic = {id(h) for h, _, _ in kept}
                kept = self._calibrated(items, described.tolist(), similarity, generic)
        if not kept:
            return []
        # Strength: where the similarity lies between the nearest item's and FLOOR_SHARE of it,
        # so the best match counts 1 whatever the model's scale of similarities; for a text
        # query, times how clearly the words describe it better than generic words do (the
        # nearest of a few unrelated photos is still the nearest).
        top = max(s for _, s, _ in kept)
        if top <= 0:
            return []
        low = FLOOR_SHARE * top
        return [(h, MEANING * max(0.0, (s - low) / (top - low)) * sure, s) for h, s, sure in kept]

    def _calibrated(
        self,
        items: list[ChunkHit],
        described: list[float],
        similarity: list[float],
        generic: set[int],
    ) -> list[tuple[ChunkHit, float, float]]:
        """The photos at or above the library's calibrated cutoff, in place of the generic
        floor's (generic: the id() of each hit that kept); counts those it hid."""
        cut = self.cutoff
        assert cut is not None
        kept = [
            (h, s, min(1.0, AT_CUTOFF + (d - cut) / SURE_MARGIN))
            for h, d, s in zip(items, described, similarity, strict=True)
            if d >= cut
        ]
        self._hidden += sum(
            id(h) in generic and d < cut for h, d in zip(items, described, strict=True)
        )
        return kept

    def _words(
        self, query: Query, terms: Terms, pool: int, where: FileFilter, found: dict[int, _Evidence]
    ) -> None:
        """Notes and captioned photos by their words: how many of the query's words a passage
        or caption holds."""
        chunks = search_rows.keyword_chunks(
            self.store, terms.fts(), pool * CHUNKS_PER_DOCUMENT, where
        )
        covered = [(h, terms.coverage(h.text or "")) for h in chunks]
        covered = [(h, c) for h, c in covered if c > 0]
        complete = {h.file_id for h, c in covered if c >= 1.0}
        rare = 0 < len(complete) <= RARE_FILES
        for hit, coverage in covered:
            kind = hit.kind
            if query.kind not in (kind, ALL):
                continue
            strength = _words_strength(coverage, terms.together(hit.text or ""), rare)
            evidence = _evidence(found, hit.file_id, hit, kind)
            evidence.add(_why(hit, WORDS), strength)
            evidence.offer(hit, strength + evidence.strength.get(PASSAGE, 0.0))

    def _names(
        self, terms: Terms, pool: int, where: FileFilter, found: dict[int, _Evidence]
    ) -> None:
        """Files whose name or folder holds the query's words."""
        named = search_rows.files_named(self.store, terms.fts(), pool, where)
        covered = [(n, terms.coverage(n.name)) for n in named]
        complete = sum(1 for _, c in covered if c >= 1.0)
        for n, coverage in covered:
            if coverage > 0:
                evidence = _evidence(found, n.file_id, n, n.kind)
                rare = 0 < complete <= RARE_FILES
                evidence.add(NAME, _words_strength(coverage, terms.together(n.name), rare))

    def _facts(
        self, terms: Terms, pool: int, where: FileFilter, found: dict[int, _Evidence]
    ) -> None:
        """Photos whose people, tags or place hold the query's words."""
        condition, args = where.sql()
        paths = dict(self.store.people.matching(terms.fts(), pool, condition, args))
        facts = self.store.people.of(list(paths))
        named = {i: NamedFile(i, Path(p), PHOTO, "") for i, p in paths.items()}
        complete = []
        covered = []
        for file_id, fact in facts.items():
            text = "\n".join(_all_names(fact))
            coverage = terms.coverage(text)
            if coverage > 0 and file_id in named:
                covered.append((file_id, fact, coverage, terms.together(text)))
                if coverage >= 1.0:
                    complete.append(file_id)
        rare = 0 < len(complete) <= RARE_FILES
        for file_id, fact, coverage, together in covered:
            evidence = _evidence(found, file_id, named[file_id], PHOTO)
            why = people_search.kind_of(fact, terms.content)
            evidence.add(why, _words_strength(coverage, together, rare))

    def _with_facts(self, hits: list[Hit], query: Query) -> list[Hit]:
        """The hits with their people and place, and the names that brought them (a person,
        a place, a tag, or what person: and place: asked for) as why they matched."""
        facts = self.store.people.of([h.file_id for h in hits])
        content = words.content_words(query.words)
        out = []
        for hit in hits:
            fact = facts.get(hit.file_id)
            if fact is None:
                out.append(hit)
                continue
            names = people_search.matched_names(fact, content, query)
            why = [w for w in hit.why if w not in _FACT_KINDS]
            why += [n for n in names if n not in why]
            out.append(replace(hit, people=fact.people, place=fact.place, why=tuple(why)))
        return out

    def _files_with_words(self, negatives: Sequence[str], where: FileFilter) -> set[int]:
        match = " OR ".join(_quote(n) for n in negatives)
        if not match:
            return set()
        return {h.file_id for h in search_rows.keyword_chunks(self.store, match, 100_000, where)}

    def _hit(self, evidence: _Evidence, terms: Terms) -> Hit:
        ranked = sorted(evidence.strength, key=lambda w: evidence.strength[w], reverse=True)
        passage = evidence.passage
        location: dict[str, object] = {}
        text = None
        if passage is not None:
            text = passage.text or ""
            location = {"start": passage.start, "end": passage.end}
            if passage.page is not None:
                location["page"] = passage.page
            if passage.heading:
                location["heading"] = passage.heading
            boxes = boxes_from_json(passage.boxes)
            if boxes:
                location["box"] = [round(v, 4) for v in union(boxes)]
                location["lines"] = [[round(v, 4) for v in box] for box in boxes]
        return Hit(
            evidence.file_id,
            evidence.named.path,
            evidence.kind,
            evidence.score,
            evidence.similarity,
            _MATCH[ranked[0]],
            text,
            location,
            highlight(text, terms.highlight, terms.raw_partial) if text is not None else (),
            tuple(ranked),
        )


# The strongest evidence, as the JSON's "match" has always named it.
_MATCH = {PICTURE: "image", CAPTION: "caption", PASSAGE: "text", WORDS: "text", NAME: "name",
          TEXT_IN_PICTURE: "ocr", people_search.PERSON: "person", people_search.PLACE: "place",
          people_search.TAG: "tag"}  # fmt: skip
_FACT_KINDS = (people_search.PERSON, people_search.PLACE, people_search.TAG)


def _all_names(facts: Facts) -> list[str]:
    return [*facts.people, *facts.tags, *(facts.place.names if facts.place is not None else ())]


def _why(hit: ChunkHit, otherwise: str) -> str:
    """What a text chunk's match is evidence of: a caption, text read in a picture, or
    otherwise (a note's passage by meaning, its words)."""
    if hit.source == CAPTION_SOURCE:
        return CAPTION
    return TEXT_IN_PICTURE if hit.source == OCR_SOURCE else otherwise


def _evidence(
    found: dict[int, _Evidence], file_id: int, named: ChunkHit | NamedFile, kind: str
) -> _Evidence:
    evidence = found.get(file_id)
    if evidence is None:
        evidence = found[file_id] = _Evidence(file_id, named, kind)
    return evidence


def _interleave(lists: list[list[_Evidence]]) -> list[_Evidence]:
    """Photos and notes in one list by score (each file once: they are different files). Their
    scores are shares of each list's best evidence, so the best of each meet near the top."""
    merged = [evidence for ranked in lists for evidence in ranked]
    merged.sort(key=lambda e: (-e.score, e.kind != PHOTO, e.file_id))
    return merged


def file_filter(query: Query, exclude: Sequence[int] = ()) -> FileFilter:
    """The files a query may return: its folder, dates and types, less the excluded files."""
    return FileFilter(
        folder=query.folder,
        after=query.after,
        before=query.before,
        extensions=tuple(sorted(query.types)),
        exclude=tuple(exclude),
        people=tuple(name_key(p) for p in query.people),
        places=tuple(name_key(p) for p in query.places),
    )


def keyword_search(store: Store, query: Query, limit: int = 20) -> list[Hit]:
    """Search by the words themselves, without a model: notes and captions holding the words
    (the last one as a prefix while it is being typed), and files whose name or folder holds
    them. Works while the model is missing or still loading."""
    return Searcher(store, None).search(query, limit)


def _unit(vector: Vectors) -> Vectors:
    norm = float(np.linalg.norm(vector))
    if norm == 0:
        raise MediafindError("the query cancels itself out: loosen the negative terms")
    return (vector / norm).astype(np.float32)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


_TOKEN = re.compile(r"\w")
_SENTENCE_END = re.compile(r"[.!?;:\n]+")
_DIGIT = re.compile(r"\d")


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
