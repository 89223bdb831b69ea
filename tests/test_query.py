"""The query language."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from conftest import save_shape

from mediafind.query import Part, QueryError, parse


def test_plain_words_are_one_text_part() -> None:
    q = parse("dog on a beach")
    assert q.parts == (Part(text="dog on a beach"),)
    assert q.words == ("dog", "on", "a", "beach") and q.kind == "all"


def test_quoted_phrases_and_negatives_are_told_apart() -> None:
    q = parse('"blue door" house -snow -"parking lot"')
    assert q.phrases == ("blue door",)
    assert q.words == ("house",)
    assert q.negatives == ("snow", "parking lot")
    assert q.text == "blue door house"


def test_filters_are_taken_out_of_the_text() -> None:
    q = parse(
        "kind:photos in:~/Pictures after:2024-01 before:2024-03-01 type:pdf,JPG sort:date cat"
    )
    assert q.text == "cat" and q.kind == "photo"
    assert q.folder == Path("~/Pictures").expanduser().absolute()
    assert q.after == datetime(2024, 1, 1).timestamp()
    assert q.before == datetime(2024, 3, 1).timestamp()
    assert q.types == {"pdf", "jpg"} and q.sort == "date"


def test_a_quoted_folder_with_spaces() -> None:
    assert parse('in:"/home/ada/My Pictures" red').folder == Path("/home/ada/My Pictures")


def test_plus_combines_words_and_pictures_with_weights(tmp_path: Path) -> None:
    photo = save_shape(tmp_path / "holiday.jpg", "red", "circle")
    q = parse(f"2*beach + 0.5*{photo} + sunset")
    assert q.parts == (
        Part(text="beach", weight=2.0),
        Part(image=photo, weight=0.5),
        Part(text="sunset"),
    )


def test_a_plus_inside_quotes_or_words_is_text() -> None:
    assert parse('"salt + pepper"').phrases == ("salt + pepper",)
    assert parse("c++ notes").words == ("c++", "notes")


def test_apostrophes_in_words_are_not_quotes() -> None:
    assert parse("Anna's birthday").words == ("Anna's", "birthday")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind:video", "kind:photo, kind:note"),
        ("after:yesterday", "YYYY-MM-DD"),
        ("sort:size", "sort:relevance"),
        ('"unclosed', "cannot read"),
        ("0*beach", "above zero"),
    ],
)
def test_bad_queries_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(text)


def test_a_word_that_looks_like_a_filter_but_is_not_stays_a_word() -> None:
    assert parse("note: milk").words == ("note:", "milk")
    assert parse("ratio 16:9").words == ("ratio", "16:9")


@pytest.mark.parametrize(
    ("text", "words", "phrases"),
    [
        ('"unclosed', (), ("unclosed",)),
        ("red after:20", ("red",), ()),
        ("kind:pho red", ("red",), ()),
        ("sort:da red", ("red",), ()),
        ("0*beach", ("beach",), ()),
        ("it's Anna's 'cat", ("it's", "Anna's", "'cat"), ()),
    ],
)
def test_a_query_still_being_typed_is_read_without_complaint(
    text: str, words: tuple[str, ...], phrases: tuple[str, ...]
) -> None:
    query = parse(text, lenient=True)
    assert (query.words, query.phrases, query.typing) == (words, phrases, True)
    assert query.kind == "all" and query.after is None and query.sort is None
    assert query.order == ("relevance" if words or phrases else "date")


def test_options_beside_the_words_narrow_the_query_unless_the_words_said_otherwise(
    tmp_path: Path,
) -> None:
    assert parse("red").narrowed(kind="photo").kind == "photo"
    assert parse("red kind:note").narrowed(kind="photo").kind == "note"
    assert parse("red").narrowed(folder=tmp_path, sort="date").folder == tmp_path
    assert parse("red").narrowed(sort="date").order == "date"
    assert parse("red sort:name").narrowed(sort="date").order == "name"
    assert parse("kind:photo").narrowed(sort="relevance").order == "date"  # nothing to match
    photo = save_shape(tmp_path / "a.jpg", "red", "circle")
    assert parse("red").with_image(photo, first=True).parts[0] == Part(image=photo)
    assert parse("red") == parse("red") and parse("red") != parse("red", lenient=True)


def test_a_picture_named_in_a_query_that_is_not_there_is_said(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match=r"^no picture at .*nothere\.jpg$"):
        parse("red + nothere.jpg")
    with pytest.raises(QueryError, match="no picture at"):
        parse(f"{tmp_path / 'trip' / 'beach.jpg'}")
    # A lone file name is a name to look for; while typing, nothing is an error.
    assert parse("IMG_1234.jpg").words == ("IMG_1234.jpg",)
    assert parse("red + nothere.jpg", lenient=True).words == ("red", "nothere.jpg")
