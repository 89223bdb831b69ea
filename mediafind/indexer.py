"""The embedding pipeline: pending files -> decode pool -> batches -> encoder -> one transaction
per batch. Files that cannot be read are recorded with their reason and skipped; the run goes on.
What is pending is decided by scan.reconcile; this only embeds it."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from mediafind import captions, dupes, dupes_rows, extract, media, people, scan, text_rows
from mediafind.dupes_hash import hashes
from mediafind.embed import IMAGE, TEXT, Encoder, cores
from mediafind.errors import EMPTY_FILE, UnreadableFile, describe
from mediafind.people_rows import Facts, facts_key
from mediafind.pictext import TextLine, TextReader
from mediafind.picturetext import (
    Reading,
    boxes_between,
    boxes_json,
    joined,
    kept_lines,
    lines_from_json,
    lines_json,
)
from mediafind.report import Indexed, Progress
from mediafind.store import (
    CAPTION_SOURCE,
    IMAGE_SOURCE,
    OCR_SOURCE,
    TEXT_SOURCE,
    FileRow,
    ModelInfo,
    NewChunk,
    Store,
)
from mediafind.text import Span, chunk_text

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

# Photos per batch: one encoder call and one transaction each. Bigger batches amortise the
# commit; smaller ones show progress sooner and lose less work to a crash.
PHOTO_BATCH = 32
# Text chunks per batch; the text tower is much cheaper per item than the image tower.
TEXT_BATCH = 128
# Files decoded ahead of the encoder. Two batches keep it fed without holding many pictures.
LOOKAHEAD = 2 * PHOTO_BATCH


def decode_workers() -> int:
    """Threads that read, hash and decode ahead of the encoder, which uses every core (see
    embed.QUERY_ITEMS) while they share them. Decoding a 12-megapixel JPEG at reduced size
    costs about a quarter of the CPU work per photo of ViT-B-32 on a CPU (40 of 160 ms,
    bench/index_speed.py), so half the cores can always keep up; more would only wait, as
    the look-ahead bounds what they may do. On 2 cores, 2: in one run on the shared machine,
    one thread left it idle 8% of the time, two 4%."""
    return max(2, cores() // 2)


# Pictures per encoder call within a batch. A stop request is honoured between calls, so this
# bounds how long stopping takes (8 pictures: about a third of a second for ViT-B-32 on 2 cores).
ENCODE_CHUNK = 8
# A photo's caption chunks beyond this many are dropped: each is a vector the photo's searches
# weigh, and a title with a few paragraphs (captions.MAX_CAPTION_CHARS) fits in far fewer.
MAX_CAPTION_CHUNKS = 32
# How often a stop request is looked at while the encoder waits for a file being decoded.
STOP_POLL = 0.1
# Overlap between consecutive text chunks, in tokens: enough to keep a short sentence whole.
CHUNK_OVERLAP_TOKENS = 16
# Without the model, text is cut by words (its tokenizer may be missing too): about as long as
# the model's chunks. Embedding cuts it again with the model's own tokenizer.
WORDS_PER_CHUNK = 50
WORDS_OVERLAP = 10
# A photo whose text is read is decoded this large on its short side (a 12-megapixel JPEG at
# half size, a phone screenshot whole): small print stays readable. Only photos where the cheap
# pass found text are decoded this large; the pass itself sees the copy decoded for the model.
READ_SIDE = 1024
# Photos whose people and place are read per transaction when catching up (read_people): a
# transaction per photo made a 100k library's catch-up wait on the disk, not on reading.
PEOPLE_BATCH = 200
# A photo's chunks of text read in it beyond this many are dropped, as for captions: a page of
# small print fits in far fewer, and each is a vector the photo's searches weigh.
MAX_READ_CHUNKS = 32


@dataclass
class Outcome(Indexed):
    """What indexing did: counts of a run (or, in the keeper, of all runs so far) and the files
    that could not be read, with their reasons (report.Indexed's fields), and whether it was
    stopped."""

    cancelled: bool = False

    @property
    def attempted(self) -> int:
        return self.indexed + self.reused + len(self.errors)

    def report(self) -> Indexed:
        """What the command line prints of it (and a running instance sends): its counts, with
        lists of their own."""
        return Indexed(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(Indexed)})

    def add_scan(self, found: scan.Reconciled) -> None:
        """Count in what a reconcile scan found."""
        self.unchanged += found.unchanged
        self.moved += found.moved
        self.removed += found.removed
        self.walk_errors += found.walk_errors
        self.offline += found.offline


class _Stopped(Exception):
    """Raised inside the pipeline when a stop was requested; never escapes the indexer."""


@dataclass
class _Prepared:
    """One pending file, read and decoded in the pool, waiting for the encoder."""

    row: FileRow
    size: int = 0
    mtime_ns: int = 0
    digest: str = ""
    picture: media.Picture | None = None
    spans: list[Span] = field(default_factory=list)
    captions: list[Span] = field(default_factory=list)
    reuse_from: int | None = None  # a file whose vectors for this content are kept
    error: str | None = None
    note: str | None = None  # indexed, but the user should know (e.g. only part of it)
    vanished: bool = False
    # The signature of the sidecars whose captions were read (not the scan's, which may be
    # older): a sidecar that changes later is then seen as a change.
    caption_sig: str | None = None
    # Text in pictures: the reader that reads this photo's (None: not read here), the lines it
    # read now (None: read before, kept in the library, or failed), and the text chunks made
    # of them with their boxes. A note's spans read in scanned pages have their boxes here.
    read_by: str | None = None
    lines: list[TextLine] | None = None
    read_spans: list[tuple[Span, str | None]] = field(default_factory=list)
    span_boxes: dict[int, str | None] = field(default_factory=dict)  # index in spans -> boxes
    facts: Facts | None = None  # a photo's people, tags and place, as its metadata says
    # A new picture's perceptual hashes (dupes_hash), taken from the picture decoded for the
    # model, for finding its near-copies.
    hashes: tuple[int, int] | None = None


class _Pictures:
    """The reader as the decode pool shares it: one picture read at a time (the engine uses
    every core for one; the cheap pass, one each), with the contents it has read already (not
    to be read again)."""

    def __init__(self, reader: TextReader, reading: Reading, done: set[str]) -> None:
        self.identity = reader.identity
        self.reading = reading
        self.done = done
        self._reader = reader
        self._lock = threading.Lock()

    def cheap_side(self, picture: Image.Image) -> int:
        return self._reader.cheap_side(picture)

    def has_text(self, picture: Image.Image) -> bool:
        # Not under the lock: the cheap pass takes one thread a call, and the decode threads
        # may run it side by side.
        return self._reader.has_text(picture)

    def read(self, picture: Image.Image) -> list[TextLine]:
        with self._lock:
            return self._reader.read(picture)


ProgressCallback = Callable[[Progress], None]
EncoderFactory = Callable[[], Encoder]


class Indexer:
    """Embeds a library's pending files with its model, writing each batch in one transaction."""

    def __init__(
        self,
        store: Store,
        encoder_factory: EncoderFactory,
        model_identity: str,
        *,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        reading: Reading | None = None,
    ) -> None:
        """reading: where and with what the text in pictures is read (None: nowhere)."""
        self.store = store
        self._reading = reading
        self._reader: TextReader | None = None
        self._reader_tried = False
        self._factory = encoder_factory
        self._identity = model_identity
        self._encoder: Encoder | None = None
        self._on_progress = on_progress
        self._cancel = cancel or threading.Event()
        self._should_stop: Callable[[], bool] | None = None

    def needs_model(self) -> bool:
        """Whether files wait to be embedded, or the library's vectors are another model's."""
        current = self.store.model()
        changed = current is not None and current.identity != self._identity
        return changed or self.store.has_pending()

    @property
    def encoder_loaded(self) -> bool:
        return self._encoder is not None

    def release_encoder(self) -> None:
        """Let go of the model (it is loaded again when next needed)."""
        self._encoder = None

    def _load_encoder(self) -> Encoder:
        """The model, loaded now if it is not yet (raises ModelUnavailable)."""
        if self._encoder is None:
            self._encoder = self._factory()
        return self._encoder

    def _text_reader(self) -> TextReader | None:
        """The reader of text in pictures, made on first need; None when reading is off or no
        reader can be had (said once in the log; pictures are then indexed without it)."""
        if self._reading is not None and not self._reader_tried:
            self._reader_tried = True
            try:
                reader = self._reading.reader()
                # Asked now: a reader that cannot say what it is (its identity keys what it
                # reads) fails here, in the one place that copes, not in the middle of a run.
                if reader is not None and reader.identity:
                    self._reader = reader
            except Exception:
                log.warning("the text in pictures cannot be read here", exc_info=True)
            if self._reader is None:
                log.info("no reader of text in pictures: pictures are indexed without their text")
        return self._reader

    def queue_text_reading(self) -> int:
        """Make pending the files whose text in pictures the setting now reads or no longer
        reads (photos indexed before it was turned on, scanned PDFs); how many. Nothing when
        reading is on but no reader can be had: what was read stays."""
        if self._reading is not None and self._text_reader() is None:
            return 0
        folders = None if self._reading is None else self._reading.folders
        return text_rows.queue_text_reading(self.store, folders)

    def _stopping(self) -> bool:
        return self._cancel.is_set() or (self._should_stop is not None and self._should_stop())

    def embed_pending(
        self, outcome: Outcome, should_stop: Callable[[], bool] | None = None
    ) -> None:
        """Embed pending files, the ones the user may be waiting for first, a transaction per
        batch. should_stop is asked between batches and between encoder calls: when it says
        yes, the batch in hand is dropped (its files stay pending) and this returns. A disk
        too full to save a batch is said first (DiskFull), before the model loads."""
        self.store.check_room()
        if self._on_progress is not None and (waiting := self.store.pending_count()):
            # Say how much there is before the model loads (seconds, on a laptop): a face shows
            # "0 of 1,204" at once, not a count that appears only after the first batch.
            self._on_progress(Progress(0, waiting, None, 0, 0.0, None))
        encoder = self._load_encoder()
        outcome.model_reset |= self.store.set_model(
            ModelInfo(encoder.spec, encoder.identity, encoder.dimension)
        )
        pending = self.store.pending()
        total = len(pending)
        if not total:
            return
        self._should_stop = should_stop
        known = self.store.indexed_hashes()
        reader = self._text_reader()
        pictures = None
        if reader is not None and self._reading is not None:
            pictures = _Pictures(
                reader, self._reading, text_rows.contents_read(self.store, reader.identity)
            )
        started = time.monotonic()
        done = 0
        queue: deque[tuple[FileRow, Future[_Prepared]]] = deque()
        rows = iter(pending)
        batch: list[_Prepared] = []
        workers = decode_workers()
        pool = ThreadPoolExecutor(workers, thread_name_prefix="mediafind-decode")
        finished = False
        try:

            def top_up() -> None:
                while len(queue) < LOOKAHEAD:
                    row = next(rows, None)
                    if row is None:
                        return
                    queue.append((row, pool.submit(_prepare, row, encoder, known, pictures)))

            top_up()
            try:
                while queue:
                    if self._stopping():
                        raise _Stopped
                    row, future = queue.popleft()
                    top_up()
                    while not future.done():  # a large file decodes for seconds: stop anyway
                        wait([future], timeout=STOP_POLL)
                        if self._stopping():
                            raise _Stopped
                    batch.append(future.result())
                    images = sum(1 for p in batch if p.picture is not None)
                    texts = sum(len(p.spans) + len(p.captions) + len(p.lines or ()) for p in batch)
                    if images >= PHOTO_BATCH or texts >= TEXT_BATCH or not queue:
                        self._flush(batch, encoder, outcome, known)
                        done += len(batch)
                        self._report(done, total, row.path, outcome, started)
                        batch = []
                finished = True
            except _Stopped:
                outcome.cancelled = True
            finally:
                self._should_stop = None
        finally:
            # Stopped (or interrupted): what is queued is dropped, and a file still being
            # decoded is not waited for (a large one can take seconds); its thread ends alone.
            pool.shutdown(wait=finished, cancel_futures=True)

    def save_words(self, outcome: Outcome, should_stop: Callable[[], bool] | None = None) -> None:
        """While the model is missing: make pending files searchable by their words (notes'
        text, photos' captions), without vectors, so that word searches find them at once;
        embedding comes when the model does. A note that cannot be read is recorded as such."""
        rows = self.store.waiting_for_words()
        started = time.monotonic()
        for done, row in enumerate(rows, start=1):
            if self._cancel.is_set() or (should_stop is not None and should_stop()):
                outcome.cancelled = True
                return
            words, error = _read_words(row)
            if error is not None:
                self.store.save_error(row.id, error, row.size, row.mtime_ns)
                outcome.errors.append((row.path, error))
            elif words:
                self.store.save_words(row.id, words)
                outcome.words_only += 1
            self._report(done, len(rows), row.path, outcome, started)
        # Their people and places are words too (indexing reads them again: it may be later).
        self.read_people(should_stop, pending=True)

    def read_people(
        self, should_stop: Callable[[], bool] | None = None, pending: bool = False
    ) -> int:
        """Read the people, tags and place of indexed photos whose metadata the library has not
        read as they are now (those indexed before it read them, or whose read failed); how
        many. Photos being indexed have theirs read with them; pending: theirs too, now (the
        model is missing, and words are all that can be searched)."""
        done = 0
        waiting = self.store.people.waiting(pending)
        for start in range(0, len(waiting), PEOPLE_BATCH):
            if self._cancel.is_set() or (should_stop is not None and should_stop()):
                break
            batch = waiting[start : start + PEOPLE_BATCH]
            read = [(w, _read_facts(Path(w.path))) for w in batch]
            with self.store.atomic():
                for w, facts in read:
                    self.store.people.save(w.file_id, w.key, facts, people.folded(facts))
            done += len(batch)
        return done

    def _report(
        self, done: int, total: int, current: Path, outcome: Outcome, started: float
    ) -> None:
        if self._on_progress is None:
            return
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else None
        self._on_progress(Progress(done, total, current, len(outcome.errors), rate, eta))

    def _flush(
        self,
        batch: list[_Prepared],
        encoder: Encoder,
        outcome: Outcome,
        known: dict[tuple[str, str], int],
    ) -> None:
        """Embed one batch, then write it in one transaction."""
        fresh = [p for p in batch if p.error is None and not p.vanished]
        for p in fresh:
            if p.read_by is not None:
                self._read_spans(p, encoder)
        pictures = [p for p in fresh if p.picture is not None]
        texts = [
            s.text for p in fresh for s in (*p.spans, *p.captions, *(s for s, _ in p.read_spans))
        ]
        # Weights that cannot be read stop the run here (the batch stays pending), rather than
        # failing each picture; a library of notes never reads the image tower.
        encoder.load((IMAGE,) * bool(pictures) + (TEXT,) * bool(texts))
        image_vectors = _encode_each(
            pictures,
            lambda ps: encoder.encode_images([p.picture.image for p in ps]),  # type: ignore[union-attr]
        )
        text_vectors = encoder.encode_texts(texts) if texts else None
        image_by_file = dict(zip((id(p) for p in pictures), image_vectors, strict=True))
        next_text = 0
        with self.store.atomic():
            for p in batch:
                path = p.row.path
                if p.vanished:
                    self.store.delete_files([p.row.id])
                    outcome.removed += 1
                    continue
                vector = image_by_file.get(id(p))
                if p.error is None and p.picture is not None and vector is None:
                    p.error = "the model could not read this picture"
                if p.error is not None:
                    self.store.save_error(p.row.id, p.error, p.size, p.mtime_ns)
                    outcome.errors.append((path, p.error))
                    continue
                chunks: list[NewChunk] = []
                if vector is not None:
                    chunks.append(NewChunk(IMAGE_SOURCE, None, None, None, vector))
                # In the order of texts above: a note's spans (those read in its scanned pages
                # with their boxes), the captions, a photo's text read in it.
                sourced = (
                    *(
                        (s, TEXT_SOURCE, None) if i not in p.span_boxes
                        else (s, OCR_SOURCE, p.span_boxes[i])
                        for i, s in enumerate(p.spans)
                    ),
                    *((s, CAPTION_SOURCE, None) for s in p.captions),
                    *((s, OCR_SOURCE, boxes) for s, boxes in p.read_spans),
                )  # fmt: skip
                for span, source, boxes in sourced:
                    assert text_vectors is not None
                    embedding = text_vectors[next_text].tobytes()
                    next_text += 1
                    chunks.append(
                        NewChunk(
                            source,
                            span.text,
                            span.start,
                            span.end,
                            embedding,
                            span.page,
                            span.heading,
                            boxes,
                        )
                    )
                if p.lines is not None and p.read_by is not None:
                    text_rows.save_lines(self.store, p.digest, p.read_by, lines_json(p.lines))
                if p.hashes is not None:
                    dupes_rows.save_hashes(self.store, [(p.digest, p.hashes)])
                    dupes.link(self.store, p.digest, p.hashes)
                keep: tuple[str, ...] = ()
                if p.reuse_from is not None:
                    # The content is known: keep (or copy) its image or text vectors (a note's
                    # text read in its scanned pages with them), and embed only the caption,
                    # which lives in another file, and a photo's text read in it (rebuilt
                    # from what was read: reading may have been off for the other file).
                    keep = (IMAGE_SOURCE, TEXT_SOURCE)
                    if p.row.kind != "photo":
                        keep += (OCR_SOURCE,)
                    if p.reuse_from != p.row.id:
                        self.store.copy_chunks(p.reuse_from, p.row.id, keep)
                    outcome.reused += 1
                else:
                    outcome.indexed += 1
                picture = p.picture
                self.store.save_indexed(
                    p.row.id,
                    content_hash=p.digest,
                    size=p.size,
                    mtime_ns=p.mtime_ns,
                    chunks=chunks,
                    keep_sources=keep,
                    width=picture.width if picture else None,
                    height=picture.height if picture else None,
                    taken_at=picture.taken_at if picture else None,
                    note=p.note,
                    caption_sig=p.caption_sig,
                    text_read=p.read_by,
                )
                if p.facts is not None:
                    key = facts_key(p.size, p.mtime_ns, p.caption_sig)
                    self.store.people.save(p.row.id, key, p.facts, people.folded(p.facts))
                known.setdefault((p.row.kind, p.digest), p.row.id)

    def _read_spans(self, p: _Prepared, encoder: Encoder) -> None:
        """A photo's text read in it, cut into chunks like captions, each with its lines'
        boxes: from the lines read now, or those the library keeps for its content."""
        lines = p.lines
        if lines is None and p.read_by is not None:
            stored = text_rows.lines_read(self.store, p.digest, p.read_by)
            lines = lines_from_json(stored) if stored is not None else None
        if not lines:
            return
        text = joined(lines)
        spans = _chunks(text, encoder)[:MAX_READ_CHUNKS]
        p.read_spans = [(s, boxes_json(boxes_between(lines, s.start, s.end))) for s in spans]


def _read_facts(path: Path) -> Facts:
    """The people, tags and place of the photo at path; none when it cannot be read (read
    again when it changes)."""
    try:
        media.check_picture_size(path.stat().st_size)
        return people.of_photo(path, path.read_bytes())
    except (OSError, UnreadableFile) as e:
        log.info("cannot read the people and place of %s: %s", path, e)
    except Exception:  # a metadata reader's bug must not stop the others
        log.warning("unexpected error reading the metadata of %s", path, exc_info=True)
    return Facts()


def _encode_each(
    items: list[_Prepared], encode: Callable[[list[_Prepared]], object]
) -> list[bytes | None]:
    """Vectors for items, one encoder call for all; if that call fails, item by item so that
    one bad picture costs only itself."""
    if not items:
        return []
    try:
        vectors = encode(items)
        return [v.tobytes() for v in vectors]  # type: ignore[attr-defined]
    except Exception:
        log.warning("a batch failed to encode; retrying its pictures one by one", exc_info=True)
    out: list[bytes | None] = []
    for item in items:
        try:
            out.append(encode([item])[0].tobytes())  # type: ignore[index]
        except Exception:
            log.warning("cannot encode %s", item.row.path, exc_info=True)
            out.append(None)
    return out


def _prepare(
    row: FileRow,
    encoder: Encoder,
    known: dict[tuple[str, str], int],
    pictures: _Pictures | None = None,
) -> _Prepared:
    """Read, hash and decode one file, and read the text in its pictures where that is on
    (runs in the decode pool)."""
    path = row.path
    prepared = _Prepared(row)
    try:
        st = path.stat()
        prepared.size, prepared.mtime_ns = st.st_size, st.st_mtime_ns
        data, prepared.size, prepared.digest = media.read_head(path, _bytes_needed(row, st.st_size))
    except FileNotFoundError:
        prepared.vanished = True
        return prepared
    except OSError as e:
        prepared.error = describe(e, with_file=False)
        return prepared
    except UnreadableFile as e:
        prepared.error = str(e)
        return prepared
    if not data:
        prepared.error = EMPTY_FILE
        return prepared
    try:
        if row.kind == "photo":
            read = captions.of_photo(path, data)
            prepared.caption_sig = read.signature
            for caption in read.texts:
                prepared.captions += _chunks(caption, encoder)
            del prepared.captions[MAX_CAPTION_CHUNKS:]
            prepared.facts = people.of_photo(path, data)
        if row.hash == prepared.digest:
            prepared.reuse_from = row.id
        else:
            prepared.reuse_from = known.get((row.kind, prepared.digest))
        reads = pictures is not None and pictures.reading.covers(path)
        raw = media.is_raw(path)
        if reads and row.kind == "photo":
            assert pictures is not None
            prepared.read_by = pictures.identity
            if prepared.digest not in pictures.done:
                picture = media.open_image(data, encoder.image_size, raw=raw)
                _read_text(prepared, data, picture, pictures)
                if prepared.reuse_from is None:
                    prepared.picture = picture
        if prepared.reuse_from is not None:
            return prepared
        if row.kind == "photo":
            if prepared.picture is None:
                prepared.picture = media.open_image(data, encoder.image_size, raw=raw)
            prepared.hashes = hashes(prepared.picture.image)
        else:
            document = extract.extract(path, data, pictures if reads else None)
            prepared.note = document.note
            prepared.spans = extract.chunk_document(
                document, encoder.count_tokens, encoder.max_text_tokens, CHUNK_OVERLAP_TOKENS
            )
            prepared.span_boxes = _span_boxes(document, prepared.spans)
    except UnreadableFile as e:
        prepared.error = str(e)
    except Exception as e:  # a decoder bug must not stop the run
        log.warning("unexpected error reading %s", path, exc_info=True)
        prepared.error = f"cannot read: {describe(e)}"
    return prepared


def _read_text(
    prepared: _Prepared, data: bytes, picture: media.Picture, pictures: _Pictures
) -> None:
    """Read the text in a photo: the cheap pass first, which most photos stop at, on the copy
    decoded for the model when it is large enough (a photo: no second decode); a screen or a
    scan, or a photo where the pass found text, is decoded again larger. A reader that fails
    costs the photo its text, said in its note, never the photo itself."""
    raw = media.is_raw(prepared.row.path)
    try:
        cheap = pictures.cheap_side(picture.image)
        looked_at = _at_least(data, picture, cheap, long_side=True, raw=raw)
        if not pictures.has_text(looked_at.image):
            prepared.lines = []
            return
        read = _at_least(data, looked_at, READ_SIDE, long_side=False, raw=raw)
        prepared.lines = kept_lines(pictures.read(read.image))
    except Exception as e:
        log.warning("cannot read the text in %s", prepared.row.path, exc_info=True)
        prepared.note = f"the text in this picture could not be read ({describe(e)})"


def _at_least(
    data: bytes, picture: media.Picture, side: int, long_side: bool, raw: bool
) -> media.Picture:
    """The picture at least `side` pixels on its long (or short) side, or whole: the one given
    when it is that large already, else decoded again from data."""
    width, height = picture.image.size
    whole = max(width, height) >= max(picture.width, picture.height)
    if whole or (max(width, height) if long_side else min(width, height)) >= side:
        return picture
    own_long, own_short = max(picture.width, picture.height), min(picture.width, picture.height)
    # open_image sizes by the short side: the short side that gives this long side.
    short = -(-side * own_short // own_long) if long_side else side
    return media.open_image(data, short, raw=raw)


def _span_boxes(document: extract.Document, spans: list[Span]) -> dict[int, str | None]:
    """For a document's spans read in its scanned pages: their lines' boxes, by span index."""
    read = {s.page: s for s in document.sections if s.lines}
    out: dict[int, str | None] = {}
    for i, span in enumerate(spans):
        section = read.get(span.page)
        if section is not None:
            start, end = span.start - section.start, span.end - section.start
            out[i] = boxes_json(boxes_between(section.lines, start, end)) or "[]"
    return out


def _read_words(row: FileRow) -> tuple[list[NewChunk], str | None]:
    """A pending file's words, cut without the model's tokenizer: a note's text, a photo's
    captions (the picture waits for the model). Returns the chunks, or why it cannot be read."""
    path = row.path
    try:
        data = media.read_head(path, _bytes_needed(row, path.stat().st_size))[0]
    except OSError as e:
        return [], describe(e, with_file=False)
    except UnreadableFile as e:
        return [], str(e)
    if not data:
        return [], EMPTY_FILE

    def count(text: str) -> int:
        return len(text.split())

    try:
        if row.kind == "photo":
            texts = captions.of_photo(path, data).texts
            spans = [s for t in texts for s in chunk_text(t, count, WORDS_PER_CHUNK, WORDS_OVERLAP)]
            del spans[MAX_CAPTION_CHUNKS:]
            return [_words_chunk(CAPTION_SOURCE, s) for s in spans], None
        document = extract.extract(path, data)
        spans = extract.chunk_document(document, count, WORDS_PER_CHUNK, WORDS_OVERLAP)
        return [_words_chunk(TEXT_SOURCE, s) for s in spans], None
    except UnreadableFile as e:
        return [], str(e)
    except Exception as e:  # a decoder bug must not stop the run
        log.warning("unexpected error reading %s", path, exc_info=True)
        return [], f"cannot read: {describe(e)}"


def _bytes_needed(row: FileRow, size: int) -> int:
    """How much of a file of size bytes its reader needs (hashing reads the rest in blocks);
    raises UnreadableFile for a file too large to read."""
    if row.kind == "photo":
        media.check_picture_size(size)
        return size
    return extract.bytes_needed(row.path, size)


def _words_chunk(source: str, span: Span) -> NewChunk:
    return NewChunk(source, span.text, span.start, span.end, b"", span.page, span.heading)


def _chunks(text: str, encoder: Encoder) -> list[Span]:
    return chunk_text(text, encoder.count_tokens, encoder.max_text_tokens, CHUNK_OVERLAP_TOKENS)
