"""Browsing the library without words: newest first by when a photo was taken (else when the
file last changed), by name on request, narrowed by filters, and counted in full."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from conftest import FakeEncoder
from dated import index, save_dated_photo

from mediafind.query import parse
from mediafind.search import Searcher
from mediafind.store import Store

LONG_AGO = datetime(2001, 1, 1)


@pytest.fixture
def library(tmp_path: Path, fake: FakeEncoder) -> Path:
    """Four photos: two with EXIF dates, two dated by their files, and a note."""
    root = tmp_path / "Pictures"
    # Modified long after it was taken (copied from the camera): the EXIF date counts.
    save_dated_photo(
        root / "b-beach.jpg", datetime(2024, 8, 3, 10), datetime(2026, 1, 5), (200, 180, 90)
    )
    save_dated_photo(
        root / "2023" / "A-snow.jpg", datetime(2023, 1, 20, 9), LONG_AGO, (240, 240, 250)
    )
    save_dated_photo(root / "c-garden.jpg", None, datetime(2024, 5, 12, 18), (40, 160, 40))
    save_dated_photo(root / "2023" / "d-party.jpg", None, datetime(2025, 11, 30, 22), (160, 40, 40))
    note = root / "notes" / "trip.md"
    note.parent.mkdir()
    note.write_text("# Trip\n\nWe went to the beach.\n")
    stamp = datetime(2024, 6, 1).timestamp()
    os.utime(note, (stamp, stamp))
    return index(root, tmp_path / "library.sqlite3", fake)


def names(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.path.name for h in hits]


def test_browsing_lists_photos_newest_first_by_when_they_were_taken_else_modified(
    library: Path,
) -> None:
    with Store.open(library) as store:
        answer = Searcher(store, None).answer(parse("kind:photo"), 10)
    assert names(answer.hits) == ["d-party.jpg", "b-beach.jpg", "c-garden.jpg", "A-snow.jpg"]
    months = [datetime.fromtimestamp(h.date or 0).strftime("%Y-%m") for h in answer.hits]
    assert months == ["2025-11", "2024-08", "2024-05", "2023-01"]
    assert answer.totals == {"photo": 4}


def test_filters_alone_narrow_the_browse_and_its_count(library: Path, tmp_path: Path) -> None:
    with Store.open(library) as store:
        searcher = Searcher(store, None)
        after = searcher.answer(parse("after:2024 before:2025"), 10)
        inside = searcher.answer(parse(f"kind:photo in:{tmp_path / 'Pictures' / '2023'}"), 10)
    assert names(after.hits) == ["b-beach.jpg", "trip.md", "c-garden.jpg"]
    assert after.totals == {"photo": 2, "note": 1}
    assert names(inside.hits) == ["d-party.jpg", "A-snow.jpg"]


def test_the_count_is_of_all_files_not_the_page(library: Path) -> None:
    with Store.open(library) as store:
        answer = Searcher(store, None).answer(parse(""), 2)
    assert len(answer.hits) == 2
    assert answer.totals == {"photo": 4, "note": 1}


def test_sort_name_lists_by_file_name_whatever_the_case_and_folder(library: Path) -> None:
    with Store.open(library) as store:
        searcher = Searcher(store, None)
        hits = searcher.search(parse("kind:photo sort:name"), 10)
        first = searcher.search(parse("kind:photo").narrowed(sort="name"), 2)
    assert names(hits) == ["A-snow.jpg", "b-beach.jpg", "c-garden.jpg", "d-party.jpg"]
    assert all(h.date is None for h in hits)  # no months in name order
    assert names(first) == ["A-snow.jpg", "b-beach.jpg"]


def test_a_search_counts_what_cleared_the_floor_and_sorts_its_page(
    library: Path, fake: FakeEncoder
) -> None:
    with Store.open(library) as store:
        searcher = Searcher(store, fake)
        by_relevance = searcher.answer(parse("beach"), 1)
        by_date = searcher.answer(parse("beach sort:date"), 10)
        by_name = searcher.answer(parse("beach").narrowed(sort="name"), 10)
    assert by_relevance.totals["note"] >= 1 and by_relevance.totals["photo"] >= 1
    assert len(by_relevance.hits) == 1  # the page is cut; the totals are not
    assert sum(by_relevance.totals.values()) > 1
    assert all(h.date is None for h in by_relevance.hits)
    dates = [h.date for h in by_date.hits]
    assert None not in dates and dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert names(by_name.hits) == sorted(names(by_name.hits), key=str.casefold)
    assert by_date.totals == by_name.totals
