"""Retrieval quality of the whole engine with a model (default: the tiny test model).

First a clean folder of shapes and notes: precision@5 of "a {colour} {shape}" per pair, and
where a dropped picture's own note ranks. Then a real person's library (tests/library.py:
IMG_#### photos in dated folders, misleading captions, a long PDF catalogue, French notes in two
encodings, a reference number, broken files), indexed through the command line, with the figures
of issue 10's acceptance criteria (tests/test_ranking.py asserts them) per query family.

    .venv/bin/python bench/quality.py [--model local-dir:mediafind/assets/tiny-clip] [--per-pair 6]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mediafind import roots_rows, shapes
from mediafind.cli import main as cli_main
from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.errors import MediafindError
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.query import Part, Query, parse
from mediafind.search import Searcher
from mediafind.session import Options, Session
from mediafind.store import Store

if TYPE_CHECKING:
    from library import Pair, Truth

TINY = Path(__file__).resolve().parent.parent / "mediafind" / "assets" / "tiny-clip"
TESTS = Path(__file__).resolve().parent.parent / "tests"
MISSING_MODEL = "local-dir:/nonexistent"
# More than the real library holds: a browse lists everything.
ALL_OF_IT = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=f"local-dir:{TINY}")
    parser.add_argument("--per-pair", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # Settings, caches and the default library of this run stay in the temporary folder.
        for name in ("CONFIG", "DATA", "CACHE"):
            os.environ[f"MEDIAFIND_{name}_DIR"] = str(Path(tmp) / name.lower())
        clean_folder(args.model, args.per_pair, Path(tmp).resolve())
        real_library(args.model, Path(tmp).resolve())


def clean_folder(model: str, per_pair: int, tmp: Path) -> None:
    """The demo folder: every photo named after what it shows, a note per pair."""
    pairs = [(c, s) for c in shapes.COLOURS for s in shapes.SHAPES]
    rng = random.Random(2026)
    encoder = OpenClipEncoder(parse_spec(model), device="cpu")
    root = tmp / "library folder"
    for colour, shape in pairs:
        for k in range(per_pair):
            path = root / colour / f"{colour} {shape} {k}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            shapes.render(colour, shape, rng).save(path)
        (root / "notes").mkdir(exist_ok=True)
        (root / "notes" / f"{colour} {shape}.md").write_text(shapes.note(colour, shape, rng))
    with Store.open(tmp / "lib.sqlite3", writer=True) as store:
        roots_rows.add_root(store, root)
        started = time.perf_counter()
        outcome = sync(Indexer(store, lambda: encoder, encoder.identity))
        took = time.perf_counter() - started
        print(f"indexed {outcome.indexed} files in {took:.1f} s")
        searcher = Searcher(store, encoder)
        precisions, note_ranks = [], []
        for colour, shape in pairs:
            words = parse(f"a {colour} {shape}").narrowed(kind="photo")
            hits = searcher.search(words, 5)
            right = sum(h.path.name.startswith(f"{colour} {shape} ") for h in hits)
            precisions.append(right / 5)
            picture = tmp / "query.png"
            shapes.render(colour, shape, rng).save(picture)
            by_picture = Query(parts=(Part(image=picture),), kind="note")
            notes = [h.path.name for h in searcher.search(by_picture, 12)]
            note_ranks.append(notes.index(f"{colour} {shape}.md") + 1)
            rank = note_ranks[-1]
            print(f"  {colour:>6} {shape:<8} p@5 {right / 5:.2f}  own note at rank {rank}")
    print(f"precision@5: min {min(precisions):.2f}, mean {statistics.mean(precisions):.3f}")
    print(f"dropped picture -> its note first: {note_ranks.count(1)}/{len(pairs)}")


def real_library(model: str, tmp: Path) -> None:
    """A real person's library, and the figures of each query family on it."""
    sys.path.insert(0, str(TESTS))
    import library

    print("\na real person's library (tests/library.py)")
    truth = library.build(tmp / "home")
    lib = tmp / "real library"
    started = time.perf_counter()
    code, _, _ = cli("--library", str(lib), "--model", model, "index", str(truth.root))
    print(
        f"indexed {len(truth.shows)} photos, {len(truth.notes)} notes and "
        f"{len(truth.broken)} broken files in {time.perf_counter() - started:.1f} s (exit {code})"
    )
    rng = random.Random(99)
    pictures: dict[Pair, Path] = {}
    for pair in truth.pairs:
        pictures[pair] = tmp / "queries" / f"{' '.join(pair)}.png"
        pictures[pair].parent.mkdir(parents=True, exist_ok=True)
        shapes.render(pair[0], pair[1], rng).save(pictures[pair])

    def by_words(pair: Pair) -> Query:
        return parse(f"a {pair[0]} {pair[1]}")

    def by_picture(pair: Pair) -> Query:
        return Query(parts=(Part(image=pictures[pair]),))

    with opened(Session(Options(library=str(lib), model=model))) as session:

        def found(query: Query, limit: int = 5) -> list[Path]:
            try:
                results = session.search(query, limit)
            except MediafindError as e:
                print(f"  ({query.text or 'picture'}: {e})")
                return []
            return [Path(h.path).resolve() for h in results.hits] if results else []

        for family, make in (("text -> photo", by_words), ("picture -> photo", by_picture)):
            precision, intruders = [], 0
            for pair in truth.pairs:
                top = found(make(pair).narrowed(kind="photo"))
                precision.append(sum(truth.shows.get(p) == pair for p in top) / 5)
                intruders += sum(p in truth.distractors_for(pair) for p in top)
            print(
                f"{family:<17} P@5 mean {statistics.mean(precision):.3f}, "
                f"min {min(precision):.2f}; misleading captions in the top 5: {intruders}"
            )

        firsts = []
        catalogue = 0
        for family, make in (("words", by_words), ("picture", by_picture)):
            first = 0
            for pair in truth.pairs:
                top = found(make(pair).narrowed(kind="note"), 3)
                first += top[:1] == [truth.stating_notes[pair]]
                catalogue += top[:1] == [truth.catalogue]
            firsts.append(f"by {family} {first}/{len(truth.pairs)}")
        print(f"stating note first: {', '.join(firsts)}; the PDF catalogue first: {catalogue}")

        queries = [by_words(pair) for pair in truth.pairs[::3]]
        queries += [parse(t) for t in ("paint", "crème", "circle", "yellow", truth.code_word)]
        queries += [by_picture(pair) for pair in truth.pairs[1::4]]
        stable = repeated = 0
        for query in queries:
            for kind in ("note", "all"):
                few, many = (
                    found(query.narrowed(kind=kind), 3),
                    found(query.narrowed(kind=kind), 200),
                )
                stable += few == many[:3]
                repeated += (len(set(few)) != len(few)) + (len(set(many)) != len(many))
        print(
            f"top 3 the same at n=3 and n=200: {stable}/{2 * len(queries)}; "
            f"lists with a file twice: {repeated}"
        )

        expected = truth.word_queries()
        answers = []
        for text, files in expected.items():
            top = found(parse(text), 20)
            answers.append(f"{text} {yes(set(top[: len(files)]) == files)}")
        print(f"words first, with the model: {', '.join(answers)}")

    hits = search_json(lib, model, "a purple elephant")
    by_text = [h for h in hits or [] if h["kind"] == "note" or "snippet" in h]
    print(f'"a purple elephant": {len(hits or [])} hits, {len(by_text)} of them notes or captions')
    print(f"why it matched: {yes(hits is not None and all('why' in h for h in hits))}")

    browse_ok = browse(lib, model, truth, "--kind", "photo")
    filters_ok = browse(lib, model, truth, "kind:photo", "after:2024-01-01")
    print(f"browse: no words {yes(browse_ok)}, filters only {yes(filters_ok)}")

    missing = words_found(lib, truth)
    fresh = tmp / "fresh library"
    cli("--library", str(fresh), "--model", MISSING_MODEL, "folders", "add", str(truth.root))
    cli("--library", str(fresh), "--model", MISSING_MODEL, "index")
    print(
        f"without the model: words found {yes(missing)} in the indexed library, "
        f"{yes(words_found(fresh, truth))} in a folder indexed without it"
    )


@contextlib.contextmanager
def opened(session: Session) -> Iterator[Session]:
    try:
        yield session
    finally:
        session.stop()


def yes(ok: bool) -> str:
    return "yes" if ok else "no"


def cli(*args: str) -> tuple[int, str, str]:
    """The command line, run here: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(list(args))
    return code, out.getvalue(), err.getvalue()


def search_json(lib: Path, model: str, *args: str) -> list[dict[str, object]] | None:
    """`mediafind search ARGS --json`: its hits, or None when it fails."""
    code, out, _ = cli("--library", str(lib), "--model", model, "search", *args, "--json")
    return json.loads(out) if code == 0 else None


def browse(lib: Path, model: str, truth: Truth, *args: str) -> bool:
    """Whether a search without words (args: options and filters) lists the photos that pass
    its date filter, newest first by date taken."""
    hits = search_json(lib, model, *args, "-n", str(ALL_OF_IT))
    if hits is None:
        return False
    since = parse(" ".join(a for a in args if ":" in a)).after or float("-inf")
    passing = [p for p in truth.taken if truth.taken[p] >= since]
    newest_first = sorted(passing, key=lambda p: truth.taken[p], reverse=True)
    return [Path(str(h["path"])).resolve() for h in hits] == newest_first


def words_found(lib: Path, truth: Truth) -> bool:
    """Whether, with the model missing, `crème` finds both French notes and the code word its
    note first, from the command line."""

    def top(text: str) -> list[Path]:
        hits = search_json(lib, MISSING_MODEL, text) or []
        return [Path(str(h["path"])).resolve() for h in hits]

    french = {truth.french_utf8, truth.french_cp1252}
    return french <= set(top("crème")) and top(truth.code_word)[:1] == [truth.code_note]


if __name__ == "__main__":
    main()
