"""Retrieval quality of the whole engine with a model (default: the tiny test model) on a
generated folder of shapes and notes: precision@5 of "a {colour} {shape}" per pair, and where a
dropped picture's own note ranks.

    .venv/bin/python bench/quality.py [--model local-dir:mediafind/assets/tiny-clip] [--per-pair 6]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from mediafind import shapes
from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.query import Part, Query, parse
from mediafind.search import Searcher
from mediafind.store import Store

TINY = Path(__file__).resolve().parent.parent / "mediafind" / "assets" / "tiny-clip"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=f"local-dir:{TINY}")
    parser.add_argument("--per-pair", type=int, default=6)
    args = parser.parse_args()
    pairs = [(c, s) for c in shapes.COLOURS for s in shapes.SHAPES]
    rng = random.Random(2026)
    encoder = OpenClipEncoder(parse_spec(args.model), device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "library folder"
        for colour, shape in pairs:
            for k in range(args.per_pair):
                path = root / colour / f"{colour} {shape} {k}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                shapes.render(colour, shape, rng).save(path)
            (root / "notes").mkdir(exist_ok=True)
            (root / "notes" / f"{colour} {shape}.md").write_text(shapes.note(colour, shape, rng))
        with Store.open(Path(tmp) / "lib.sqlite3", writer=True) as store:
            store.add_root(root)
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
                picture = Path(tmp) / "query.png"
                shapes.render(colour, shape, rng).save(picture)
                by_picture = Query(parts=(Part(image=picture),), kind="note")
                notes = [h.path.name for h in searcher.search(by_picture, 12)]
                note_ranks.append(notes.index(f"{colour} {shape}.md") + 1)
                rank = note_ranks[-1]
                print(f"  {colour:>6} {shape:<8} p@5 {right / 5:.2f}  own note at rank {rank}")
    print(f"precision@5: min {min(precisions):.2f}, mean {statistics.mean(precisions):.3f}")
    print(f"dropped picture -> its note first: {note_ranks.count(1)}/{len(pairs)}")


if __name__ == "__main__":
    main()
