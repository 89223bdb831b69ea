"""Hybrid search and the query language on a real library made with the tiny model."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import TINY_SPEC, save_shape

from mediafind import roots_rows, shapes
from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.query import Part, Query, parse
from mediafind.search import Searcher, Terms, highlight
from mediafind.store import Store

PAIRS = [
    (c, s) for c in ("red", "green", "blue", "yellow") for s in ("circle", "square", "triangle")
]


@pytest.fixture(scope="module")
def encoder() -> OpenClipEncoder:
    return OpenClipEncoder(parse_spec(TINY_SPEC), device="cpu")


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory, encoder: OpenClipEncoder) -> Iterator[Searcher]:
    root = tmp_path_factory.mktemp("vault")
    rng = random.Random(11)
    for i, (colour, shape) in enumerate(PAIRS):
        for k in range(3):
            photo = save_shape(
                root / "photos" / f"{colour} {shape} {k}.jpg", colour, shape, 100 + i * 3 + k
            )
            when = datetime(2020 + k, 6, 1).timestamp()  # 2020, 2021, 2022
            os.utime(photo, (when, when))
        (root / "notes" / f"{colour} {shape}.md").parent.mkdir(parents=True, exist_ok=True)
        (root / "notes" / f"{colour} {shape}.md").write_text(shapes.note(colour, shape, rng))
    # A note whose meaning is like the others but holds a rare word and an exact phrase.
    (root / "notes" / "invoice.txt").write_text(
        "Paid invoice 48213 for the red circle sign. The blue door was painted last week."
    )
    (root / "notes" / "snow.txt").write_text("A red circle drawn in the snow by the kids.")
    store = Store.open(root / "lib" / "library.sqlite3", writer=True)
    roots_rows.add_root(store, root)
    sync(Indexer(store, lambda: encoder, encoder.identity))
    yield Searcher(store, encoder)
    store.close()


def names(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.path.name for h in hits]


def test_a_rare_word_brings_the_one_note_holding_it_first(vault: Searcher) -> None:
    hits = vault.search(parse("48213 kind:note"), limit=5)
    assert names(hits)[0] == "invoice.txt"


def test_a_quoted_phrase_must_be_in_the_note(vault: Searcher) -> None:
    hits = vault.search(parse('"blue door" kind:note'), limit=5)
    assert names(hits) == ["invoice.txt"]
    assert hits[0].highlights and hits[0].snippet is not None
    start, end = hits[0].highlights[0]
    assert hits[0].snippet[start:end].lower() == "blue door"


def test_a_negative_word_leaves_notes_out_and_pushes_photos_away(vault: Searcher) -> None:
    with_snow = names(vault.search(parse("a red circle kind:note"), limit=20))
    without = names(vault.search(parse("a red circle -snow kind:note"), limit=20))
    assert "snow.txt" in with_snow and "snow.txt" not in without
    plain = names(vault.search(parse("red kind:photo"), limit=3))
    pushed = names(vault.search(parse("red -circle kind:photo"), limit=3))
    circles = sum("circle" in n for n in plain)
    assert sum("circle" in n for n in pushed) < circles
    assert all(n.startswith("red") for n in pushed)


def test_filters_by_kind_folder_date_and_type(vault: Searcher) -> None:
    root = vault.store.path.parent.parent
    assert {h.kind for h in vault.search(parse("green square kind:photo"), limit=10)} == {"photo"}
    in_notes = vault.search(parse(f"green square in:{root / 'notes'}"), limit=10)
    assert in_notes and all(h.path.parent == root / "notes" for h in in_notes)
    dated = vault.search(parse("green square kind:photo after:2021-01-01 before:2022-01-01"), 10)
    assert dated and all(h.path.stem.endswith(" 1") for h in dated)  # the 2021 ones
    typed = vault.search(parse("red circle type:txt"), limit=10)
    assert typed and all(h.path.suffix == ".txt" for h in typed)


def test_sort_by_date_puts_the_newest_first(vault: Searcher) -> None:
    hits = vault.search(parse("blue triangle kind:photo sort:date"), limit=3)
    assert [h.path.stem[-1] for h in hits] == ["2", "1", "0"]


def test_words_and_a_picture_combine(vault: Searcher, tmp_path: Path) -> None:
    picture = save_shape(tmp_path / "q.jpg", "yellow", "triangle", 5)
    hits = vault.search(parse(f"yellow triangle + {picture} kind:photo"), limit=3)
    assert all(n.startswith("yellow triangle") for n in names(hits))


def test_a_query_with_no_good_match_returns_nothing_rather_than_everything(
    vault: Searcher,
) -> None:
    assert vault.search(parse("quantum chromodynamics lecture"), limit=10) == []
    assert vault.search(parse("a yellow square"), limit=3)


def test_dropped_picture_finds_its_note_and_similar_photos(vault: Searcher, tmp_path: Path) -> None:
    picture = save_shape(tmp_path / "drop.png", "green", "triangle", 9)
    notes = vault.search(Query(parts=(Part(image=picture),), kind="note"), 3)
    assert notes[0].path.name == "green triangle.md"
    photos = vault.search(Query(parts=(Part(image=picture),), kind="photo"), 3)
    assert all(n.startswith("green triangle") for n in names(photos))


def test_word_queries_leave_out_stopwords_fold_accents_and_quote_what_users_type() -> None:
    assert Terms(parse('"blue door" red AND the')).fts() == '"blue door" AND ("red")'
    assert Terms(parse("Crème brûlée", lenient=True)).fts() == '"creme" OR "brulee"*'
    assert Terms(parse("the of")).fts() == '"the" OR "of"'  # nothing but stopwords: keep them
    assert Terms(parse("-- *")).fts() == ""
    terms = Terms(parse("a red circle"))
    assert (terms.coverage("A RED circle!"), terms.coverage("the red sofa")) == (1.0, 0.5)
    assert Terms(parse('"red circle"')).coverage("a circle, red") == 0.0


def test_highlight_finds_whole_words_and_phrases_case_insensitively() -> None:
    text = "The Blue  door, a blueprint and blue."
    assert highlight(text, ["blue door", "blue"]) == ((4, 14), (32, 36))


def test_highlight_leaves_out_little_words_and_completes_the_word_being_typed() -> None:
    text = "A red circle of paper, squared off; route 66."
    assert highlight(text, ["a", "red", "of", "66"]) == ((2, 5), (42, 44))
    assert highlight(text, ["red"], partial="squ") == ((2, 5), (23, 30))
    assert highlight(text, ["red"], partial="ci") == ((2, 5), (6, 12))
