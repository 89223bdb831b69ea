"""Duplicates: copies and edited copies of made-up photos (tests/scenes.py) written to real
folders, indexed into a real library by the real indexer, and grouped by mediafind.dupes.

The fake encoder's vectors (a picture's mean colour) stand in for the model's: these copies are
all within dupes.SURE_BITS of their originals, where the hashes alone decide, so what is tested
here is the hashing, the candidate search, the grouping and the keeper; the vectors' part is
measured by bench/duplicates.py, and tested below with vectors written for the purpose."""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest
from conftest import FakeEncoder, fake_model_cli, run_cli
from PIL import Image
from scenes import VARIANTS, duplicate_photos, jpeg, scene

from mediafind import dupes, dupes_rows, nearest, roots_rows
from mediafind.dupes import EXACT, NEAR, Bands, Finder, keeper_first
from mediafind.dupes_rows import PhotoRow
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.store import Store

SIZE = (640, 480)


def index(store: Store, encoder: FakeEncoder) -> None:
    sync(Indexer(store, lambda: encoder, encoder.identity))  # type: ignore[arg-type]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def names(group: dupes.Group) -> list[str]:
    return [p.path.name for p in group.photos]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    return duplicate_photos(tmp_path / "photos", SIZE)


def test_exact_and_resized_recompressed_copies_are_grouped_and_other_photos_are_not(
    store: Store, fake: FakeEncoder, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    index(store, fake)
    groups = dupes.find(store)
    assert sorted((g.kind, names(g)) for g in groups) == [
        (EXACT, ["beach.jpg", "beach.jpg"]),
        (NEAR, ["hills.jpg", "hills small.jpg"]),
    ]
    near = next(g for g in groups if g.kind == NEAR)
    assert near.why == f"the largest picture ({SIZE[0]}×{SIZE[1]})"
    assert near.spare_bytes == (photos / "sent" / "hills small.jpg").stat().st_size


def test_every_light_edit_of_a_photo_is_grouped_with_it(
    store: Store, fake: FakeEncoder, tmp_path: Path
) -> None:
    root = tmp_path / "edits"
    picture = scene(2, 0, SIZE)
    write(root / "original.jpg", jpeg(picture))
    rng = random.Random(3)
    for n, edit in enumerate(("resized to half", "recompressed at quality 30", "brighter",
                              "more contrast", "burst shot", "saved as PNG")):  # fmt: skip
        write(root / f"copy {n}.jpg", VARIANTS[edit](picture, rng))
    write(root / "elsewhere.jpg", jpeg(scene(7, 0, SIZE)))
    hour_ago = (root / "elsewhere.jpg").stat().st_mtime - 3600
    os.utime(root / "original.jpg", (hour_ago, hour_ago))
    roots_rows.add_root(store, root)
    index(store, fake)
    [group] = dupes.find(store)
    assert names(group)[0] == "original.jpg"  # as large as the others, and the oldest
    assert sorted(names(group)[1:]) == [f"copy {n}.jpg" for n in range(6)]


def test_a_new_copy_joins_the_group_and_a_removed_one_leaves_it_without_rehashing(
    store: Store, fake: FakeEncoder, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    index(store, fake)
    hashed = fake.images_encoded
    shutil.copyfile(photos / "hills.jpg", photos / "hills copy.jpg")
    (photos / "backup" / "beach.jpg").unlink()
    index(store, fake)
    groups = dupes.find(store)
    assert [sorted(names(g)) for g in groups] == [
        ["hills copy.jpg", "hills small.jpg", "hills.jpg"]
    ]
    # The copy's content was known: neither embedded nor hashed again.
    assert fake.images_encoded == hashed
    assert len(dupes_rows.unhashed(store)) == 0

    # A content no file holds any more loses its hashes.
    def kept() -> int:
        return int(store.conn.execute("SELECT count(*) FROM picture_hashes").fetchone()[0])

    assert kept() == 4
    (photos / "hills again.jpg").unlink()
    index(store, fake)
    dupes.find(store)
    assert kept() == 3


def test_photos_indexed_before_hashes_were_kept_are_hashed_once(
    store: Store, fake: FakeEncoder, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    index(store, fake)
    with store.atomic():
        store.conn.execute("DELETE FROM picture_hashes")
    assert len(dupes_rows.unhashed(store)) == 4
    assert len(dupes.find(store)) == 2
    assert dupes_rows.unhashed(store) == []


def test_the_finder_adds_and_removes_photos_one_at_a_time(
    store: Store, fake: FakeEncoder, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    index(store, fake)
    rows = {p.path.name: p for p in dupes_rows.photos(store) if "hills" in p.path.name}
    near = dupes.around(dupes_rows.pairs(store))  # kept as they were indexed
    finder = Finder(lambda ids: dupes_rows.picture_vectors(store, ids))

    def add(name: str) -> None:
        finder.add(rows[name], near[rows[name].content])

    add("hills.jpg")
    add("hills again.jpg")
    assert finder.groups() == []
    add("hills small.jpg")
    assert [names(g) for g in finder.groups()] == [["hills.jpg", "hills small.jpg"]]
    finder.remove(rows["hills.jpg"].id)
    assert finder.groups() == []


def row(
    i: int,
    hashes: tuple[int, int],
    *,
    size: tuple[int, int] = (100, 100),
    taken_at: float | None = None,
    mtime: float = 1e9,
) -> PhotoRow:
    return PhotoRow(i, Path(f"/p/{i}.jpg"), 1000, *size, taken_at, mtime, f"c{i}", hashes)


def add_all(finder: Finder, rows: list[PhotoRow]) -> Finder:
    """Add rows one at a time, each with the contents near it among those before it, found as
    the library's band index finds them."""
    bands = Bands()
    for photo in rows:
        assert photo.hashes is not None
        finder.add(photo, bands.near(photo.hashes))
        bands.add(photo.content, photo.hashes)
    return finder


def test_hashes_in_between_are_grouped_only_when_the_vectors_agree() -> None:
    base = 0x0123_4567_89AB_CDEF
    apart = base ^ (2**11 - 1)  # 11 bits apart, in one band: neither sure nor far
    assert dupes.SURE_BITS < bin(base ^ apart).count("1") <= dupes.NEAR_BITS
    same = np.array([1.0, 0.0, 0.0], np.float32)
    vectors = {1: same, 2: same, 3: same, 4: np.array([0.0, 1.0, 0.0], np.float32)}
    finder = Finder(lambda ids: {i: vectors[i].tobytes() for i in ids})
    pairs = ((1, base), (2, apart), (3, base ^ (2**64 - 1)), (4, apart))
    add_all(finder, [row(i, (h, h)) for i, h in pairs])
    # 1 and 2: in between, vectors agree; 3: far from all; 4: 2's hashes, another picture's
    # vector (1 and 4 in between, vectors disagree; 2 and 4: the same hashes, but the vectors
    # say two pictures: a plain picture's hash says little).
    assert finder.pairs() == {frozenset((1, 2))}


def test_photos_of_other_shapes_are_never_copies_however_alike_their_hashes() -> None:
    same = np.array([1.0, 0.0, 0.0], np.float32).tobytes()
    finder = Finder(lambda ids: dict.fromkeys(ids, same))
    h = (0x0123_4567_89AB_CDEF, 0x0123_4567_89AB_CDEF)
    rows = [
        row(1, h, size=(4000, 3000)),
        row(2, h, size=(2000, 1500)),  # resized: the same shape
        row(3, h, size=(3600, 3000)),  # cropped 10 % off one side
        row(4, h, size=(3000, 4000)),  # another picture: upright
        row(5, h, size=(4000, 1800)),  # a panorama
    ]
    add_all(finder, rows)
    assert finder.pairs() == {frozenset(p) for p in ((1, 2), (1, 3), (2, 3))}


def test_the_keeper_is_the_largest_then_the_oldest_then_one_with_its_camera_date() -> None:
    h = (0, 0)
    small, large = row(1, h, size=(800, 600)), row(2, h, size=(4000, 3000))
    assert keeper_first([small, large]) == ((large, small), "the largest picture (4000×3000)")
    old, new = row(3, h, taken_at=1e9), row(4, h, taken_at=2e9)
    ordered, why = keeper_first([new, old])
    assert ordered[0] is old and why.startswith("as large as any, and the oldest (")
    camera, file_only = row(5, h, taken_at=1e9), row(6, h, mtime=1e9)
    assert keeper_first([file_only, camera]) == (
        (camera, file_only),
        "as large and as old as any, and the only one with its camera's date",
    )
    assert (
        keeper_first([row(8, h), row(7, h)])[1] == "as large and as old as any; the first by name"
    )


@pytest.mark.parametrize(
    "copy",
    ["/p/backup/IMG_1146.jpg", "/p/IMG_1146 (1).jpg", "/p/IMG_1146 - Copy (2).jpg",
     "/p/Copy of IMG_1146.jpg", "/p/IMG_1146 copy.jpg", "/p/Copies/2024/IMG_1146.jpg"],
)  # fmt: skip
def test_among_equals_the_keeper_is_not_the_one_named_or_kept_as_a_copy(copy: str) -> None:
    h = (0, 0)
    original = replace(row(1, h), path=Path("/p/photos/IMG_1146.jpg"))
    duplicate = replace(row(2, h), path=Path(copy))  # first by name, in most of these
    ordered, why = keeper_first([duplicate, original])
    assert ordered == (original, duplicate)
    assert why == "as large and as old as any; the others are named or kept as copies"
    # A year in brackets is no copy's number: the name decides.
    party = replace(row(3, h), path=Path("/p/Party (2019).jpg"))
    assert keeper_first([original, party])[0][0] is party


def test_the_command_lists_groups_as_text_and_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, photos: Path
) -> None:
    with fake_model_cli(monkeypatch):
        assert run_cli(capsys, "index", str(photos))[0] == 0
        code, out, err = run_cli(capsys, "duplicates")
        assert (code, err) == (0, "")
        assert out.startswith("2 groups of duplicates: 2 photos besides the ones to keep, ")
        assert "keep   " + str(photos / "hills.jpg") in out
        code, out, _ = run_cli(capsys, "duplicates", "--json", str(photos / "sent"))
        assert (code, out.split()) == (0, ["{", '"groups":', "[]", "}"])
        code, out, _ = run_cli(capsys, "duplicates", "--json", str(photos))
        [exact, near] = sorted(json.loads(out)["groups"], key=lambda g: str(g["kind"]))
        assert exact["kind"] == EXACT and near["why"].startswith("the largest picture")
        assert [p["keeper"] for p in near["photos"]] == [True, False]
        assert near["photos"][0]["path"] == str(photos / "hills.jpg")
        assert near["photos"][0]["width"] == SIZE[0]
        code, _, err = run_cli(capsys, "duplicates", str(photos / "nowhere"))
        assert code == 2 and "does not exist" in err


def test_the_command_without_a_library_says_how_to_make_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_model_cli(monkeypatch):
        code, _, err = run_cli(capsys, "duplicates")
    assert code == 2 and "folders add" in err


def test_a_link_only_the_vectors_confirm_adds_a_photo_to_a_group_but_never_joins_two() -> None:
    base = 0x0123_4567_89AB_CDEF
    b = base ^ (2**10 - 1)  # 10 bits from base: in between
    hashes = {
        1: base,
        2: base ^ 1,  # 1 bit from 1: sure
        3: b,
        4: b ^ (1 << 20),  # 1 bit from 3: sure; 11 from 1
        5: base ^ (0x3FF << 32),  # 10 bits from 1 (and 11 from 2), 20 from 3
    }
    agreeing = np.ones(3, np.float32).tobytes()
    rows = [row(i, (h, h)) for i, h in hashes.items()]
    finder = add_all(Finder(lambda ids: dict.fromkeys(ids, agreeing)), rows)
    assert frozenset((1, 3)) in finder.pairs()  # judged alike, in between
    assert sorted(sorted(p.id for p in g.photos) for g in finder.groups()) == [[1, 2, 5], [3, 4]]


def test_one_shot_in_two_formats_is_grouped_by_its_name_where_the_vectors_disagree() -> None:
    base = 0x0123_4567_89AB_CDEF
    apart = base ^ (2**11 - 1)
    vectors = {1: [1.0, 0.0], 2: [0.0, 1.0], 3: [0.0, 1.0]}
    finder = Finder(lambda ids: {i: np.array(vectors[i], np.float32).tobytes() for i in ids})
    folder = Path("/photos/2024")
    rows = [
        replace(row(1, (base, base)), path=folder / "IMG_0001.HEIC"),
        replace(row(2, (apart, apart)), path=folder / "IMG_0001.JPG"),
        replace(row(3, (apart, apart)), path=folder / "IMG_0002.JPG"),
    ]
    add_all(finder, rows)
    assert finder.pairs() == {frozenset((1, 2)), frozenset((2, 3))}


def grouped(groups: list[dupes.Group]) -> list[list[str]]:
    return sorted(sorted(str(p.path) for p in g.photos) for g in groups)


def test_links_are_kept_as_photos_are_indexed_and_finding_duplicates_only_reads_them(
    store: Store, fake: FakeEncoder, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roots_rows.add_root(store, photos)
    index(store, fake)
    hills = Image.open(photos / "hills.jpg")
    write(photos / "mail" / "hills tiny.jpg", jpeg(hills.resize((320, 240)), 70))
    index(store, fake)  # a copy arriving later: linked as it is indexed
    contents = {p.path.name: p.content for p in dupes_rows.photos(store)}
    kept = {frozenset((a, b)) for a, b, _ in dupes_rows.pairs(store)}
    assert frozenset((contents["hills tiny.jpg"], contents["hills.jpg"])) in kept
    assert frozenset((contents["hills again.jpg"], contents["hills.jpg"])) not in kept
    assert dupes_rows.unlinked(store) == []

    looked_up: list[object] = []
    monkeypatch.setattr(dupes_rows, "banded", lambda *args: looked_up.append(args) or [])
    groups = dupes.find(store)
    assert looked_up == []  # no photo compared with others: the links were there
    assert sorted(sorted(names(g)) for g in groups) == [
        ["beach.jpg", "beach.jpg"],
        ["hills small.jpg", "hills tiny.jpg", "hills.jpg"],
    ]


def test_a_library_from_before_links_were_kept_is_linked_once_and_a_read_only_one_in_memory(
    store: Store, fake: FakeEncoder, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    index(store, fake)
    expected = grouped(dupes.find(store))
    assert len(expected) == 2

    def count(table: str) -> int:
        return int(store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    with store.atomic():  # as a library indexed before links were kept has them
        store.conn.execute("DELETE FROM picture_bands")
        store.conn.execute("DELETE FROM picture_pairs")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with Store._open(store.path, writer=False, read_only=True) as frozen:  # a read-only disk
        assert grouped(dupes.find(frozen)) == expected
    assert count("picture_bands") == 0  # nothing written

    assert grouped(dupes.find(store)) == expected
    assert count("picture_bands") > 0 and count("picture_pairs") >= 1
    assert dupes_rows.unlinked(store) == []


def test_a_gone_content_takes_its_links_with_it(
    store: Store, fake: FakeEncoder, photos: Path
) -> None:
    roots_rows.add_root(store, photos)
    index(store, fake)
    assert len(dupes_rows.pairs(store)) >= 1
    (photos / "sent" / "hills small.jpg").unlink()
    index(store, fake)
    dupes.find(store)  # forgets the hashes of contents no file holds
    linked = {c for a, b, _ in dupes_rows.pairs(store) for c in (a, b)}
    held = {p.content for p in dupes_rows.photos(store)}
    assert linked <= held


def test_the_vectors_read_in_blocks_are_the_photos_own(
    store: Store,
    fake: FakeEncoder,
    photos: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    roots_rows.add_root(store, photos)
    index(store, fake)
    rows = dupes_rows.photos(store)
    one_by_one = {
        p.id: bytes(
            store.conn.execute(
                "SELECT v.embedding FROM chunks c JOIN vectors v ON v.chunk_id = c.id "
                "WHERE c.file_id = ? AND c.source = 'image'",
                (p.id,),
            ).fetchone()[0]
        )
        for p in rows
    }
    assert len(one_by_one) == 5
    assert dupes_rows.picture_vectors(store, [p.id for p in rows] + [10_000]) == one_by_one
    assert dupes_rows.picture_vectors(store, []) == {}
    assert "not as expected" not in caplog.text  # read from sqlite-vec's blocks, not one by one

    def unknown_layout(*args: object) -> NoReturn:
        raise nearest._LayoutUnknown("a sqlite-vec of another layout")

    monkeypatch.setattr(nearest.Nearest, "_read_some", unknown_layout)
    assert dupes_rows.picture_vectors(store, [p.id for p in rows]) == one_by_one  # by key
    assert "not as expected" in caplog.text
