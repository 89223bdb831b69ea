"""Camera RAW files: decoded through LibRaw (the camera's preview when it is large enough, else
the sensor data developed), indexed as photos by the real indexer with the tiny model, found by
words and by `type:raw`, recorded with a reason when damaged, and grouped with the JPEG the
camera saved beside them, the RAW file kept."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_SPEC
from PIL import Image, ImageDraw
from rawfiles import dng

from mediafind import dupes, media, shapes, status_rows
from mediafind.cli import main
from mediafind.dupes import keeper_first
from mediafind.dupes_rows import PhotoRow
from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.errors import UnreadableFile
from mediafind.query import parse
from mediafind.search import Searcher
from mediafind.store import Store

TAKEN = datetime(2024, 6, 1, 12, 30).timestamp()
PAIR_SIZE = (480, 320)


def corner(size: tuple[int, int] = (240, 160)) -> Image.Image:
    """White, with a red block in its top left corner: which way up it is shows."""
    picture = Image.new("RGB", size, "white")
    ImageDraw.Draw(picture).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(220, 20, 20))
    return picture


def plain(colour: tuple[int, int, int], size: tuple[int, int] = (240, 160)) -> Image.Image:
    return Image.new("RGB", size, colour)


def red_at(picture: Image.Image) -> tuple[float, float]:
    """Where the red is, as shares of the width and the height."""
    pixels = np.asarray(picture.convert("RGB"), dtype=np.int32)
    ys, xs = np.nonzero((pixels[..., 0] > 150) & (pixels[..., 1] < 100))
    return xs.mean() / picture.width, ys.mean() / picture.height


def colour_of(picture: Image.Image) -> tuple[int, ...]:
    return tuple(int(c) for c in np.asarray(picture).reshape(-1, 3).mean(axis=0))


def test_a_dng_without_a_preview_is_developed_with_its_size_and_date(tmp_path: Path) -> None:
    path = dng(tmp_path / "IMG_0001.DNG", corner())
    picture = media.open_image(path.read_bytes(), 64, raw=True)
    assert (picture.width, picture.height) == (240, 160)
    assert picture.taken_at == TAKEN
    assert picture.image.mode == "RGB" and min(picture.image.size) >= 64
    x, y = red_at(picture.image)
    assert x < 0.2 and y < 0.2  # the colours developed as shot: red stays red


def test_a_camera_turned_a_quarter_shows_upright_from_preview_and_sensor_alike(
    tmp_path: Path,
) -> None:
    for preview in (None, "jpeg", "bitmap"):
        path = dng(tmp_path / f"{preview}.dng", corner(), preview=preview, orientation=6)
        picture = media.open_image(path.read_bytes(), 64, raw=True)
        assert (picture.width, picture.height) == (160, 240), preview
        assert picture.image.width < picture.image.height, preview
        x, y = red_at(picture.image)  # turned clockwise: the top left corner is top right
        assert x > 0.8 and y < 0.2, (preview, x, y)


@pytest.mark.parametrize("preview", ["jpeg", "bitmap"])
def test_the_cameras_preview_is_shown_when_it_is_large_enough(tmp_path: Path, preview: str) -> None:
    red, blue = plain((220, 20, 20)), plain((20, 20, 220))
    path = dng(tmp_path / "IMG_0002.DNG", red, preview=preview, shown=blue)
    data = path.read_bytes()
    r, _, b = colour_of(media.open_image(data, 100, raw=True).image)
    assert b > 150 and r < 60  # the preview, 160 pixels high
    r, _, b = colour_of(media.open_image(data, 200, raw=True).image)
    assert r > 150 and b < 60  # larger than the preview: the sensor data developed


def test_a_damaged_raw_file_is_refused_with_libraws_reason(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(50_000)
    with pytest.raises(UnreadableFile) as e:
        media.open_image(data, 64, raw=True)
    assert str(e.value).startswith("not a readable camera RAW file (LibRaw: ")
    assert "b'" not in str(e.value)
    truncated = dng(tmp_path / "cut.dng", corner()).read_bytes()[:2000]
    with pytest.raises(UnreadableFile, match="not a readable camera RAW file"):
        media.open_image(truncated, 64, raw=True)


def test_every_raw_extension_is_a_photo_and_type_raw_covers_them() -> None:
    for name in ("a.dng", "b.CR2", "c.cr3", "d.NEF", "e.arw", "f.orf", "g.rw2", "h.RAF",
                 "i.pef", "j.srw"):  # fmt: skip
        assert media.kind_of_name(name) == "photo", name
        assert media.is_raw(Path(name)), name
    assert not media.is_raw(Path("k.jpg")) and not media.is_raw(Path("l.tif"))
    query = parse("a red circle type:raw")
    assert query.types == frozenset({"raw"})


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Store]]:
    """A folder with a DNG of a red circle, JPEGs of other shapes, a damaged NEF and a RAW+JPEG
    pair, indexed once by the command line with the tiny model."""
    base = tmp_path_factory.mktemp("raw")
    root, lib = base / "Photos", base / "library"
    rng = random.Random(20261129)
    red_circle = shapes.render("red", "circle", rng, (320, 240))
    dng(root / "shoot" / "DSC_0042.DNG", red_circle, preview="jpeg")
    for colour, shape in (("blue", "square"), ("green", "triangle"), ("yellow", "square")):
        shapes.render(colour, shape, rng, (320, 240)).save(root / "shoot" / f"{colour}.jpg")
    (root / "shoot" / "DSC_0043.NEF").write_bytes(random.Random(3).randbytes(60_000))
    pair = shapes.render("green", "circle", rng, PAIR_SIZE)
    dng(root / "pair" / "IMG_0001.DNG", pair, preview="jpeg")
    pair.save(root / "pair" / "IMG_0001.JPG", quality=90)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDIAFIND_CONFIG_DIR", str(base / "config"))
        assert main(["--library", str(lib), "--model", TINY_SPEC, "index", str(root)]) == 0
    with Store.open(lib / "library.sqlite3") as store:
        yield root, store


def test_a_dng_is_indexed_as_a_photo_and_found_by_words_before_other_photos(
    library: tuple[Path, Store],
) -> None:
    root, store = library
    row = store.file_by_path(root / "shoot" / "DSC_0042.DNG")
    assert row is not None and row.kind == "photo" and row.status == "indexed"
    searcher = Searcher(store, OpenClipEncoder(parse_spec(TINY_SPEC), device="cpu"))
    hits = searcher.search(parse("a red circle").narrowed(kind="photo"), 3)
    assert hits[0].path.name == "DSC_0042.DNG", [h.path.name for h in hits]
    raw_only = searcher.search(parse("a red circle type:raw"), 10)
    assert raw_only[0].path.name == "DSC_0042.DNG"
    assert {h.path.name for h in raw_only} <= {"DSC_0042.DNG", "IMG_0001.DNG"}
    # The RAW+JPEG pair shows the same green circle: the type tells them apart.
    assert searcher.search(parse("a green circle type:raw"), 10)[0].path.name == "IMG_0001.DNG"
    jpeg_only = searcher.search(parse("a green circle type:jpg"), 10)
    assert jpeg_only[0].path.name == "IMG_0001.JPG"
    assert not any(media.is_raw(h.path) for h in jpeg_only)


def test_a_damaged_raw_file_is_recorded_with_its_reason_and_the_run_goes_on(
    library: tuple[Path, Store],
) -> None:
    root, store = library
    errors = {e.path.name: e.reason for e in status_rows.errors(store)}
    assert errors.keys() == {"DSC_0043.NEF"}
    assert errors["DSC_0043.NEF"].startswith("not a readable camera RAW file (LibRaw: ")
    assert store.file_by_path(root / "shoot" / "blue.jpg") is not None


def test_the_raw_and_jpeg_pair_is_one_group_keeping_the_raw_file(
    library: tuple[Path, Store],
) -> None:
    _, store = library
    groups = dupes.find(store)
    assert [[p.path.name for p in g.photos] for g in groups] == [["IMG_0001.DNG", "IMG_0001.JPG"]]
    (group,) = groups
    assert group.why == "the camera's RAW file, the original the others were made from"
    raw, jpeg = group.photos
    assert (raw.width, raw.height) == (jpeg.width, jpeg.height) == PAIR_SIZE
    assert raw.taken_at == TAKEN


def photo(name: str, size: tuple[int, int]) -> PhotoRow:
    return PhotoRow(hash(name), Path("/p") / name, 1000, *size, None, 1e9, name, (0, 0))


def test_a_raw_file_is_kept_before_any_jpeg_however_large() -> None:
    raw, large = photo("IMG_1.NEF", (6000, 4000)), photo("IMG_1.JPG", (6048, 4024))
    assert keeper_first([large, raw]) == (
        (raw, large),
        "the camera's RAW file, the original the others were made from",
    )
    small_raw = photo("IMG_1 copy.NEF", (3000, 2000))
    ordered, why = keeper_first([large, small_raw, raw])
    assert ordered == (raw, small_raw, large)
    assert why == "a camera RAW file, the largest picture (6000×4000)"
    jpegs = keeper_first([photo("a.jpg", (800, 600)), photo("b.jpg", (4000, 3000))])[1]
    assert jpegs == "the largest picture (4000×3000)"


def test_the_windows_thumbnail_of_a_raw_file_is_its_picture_upright(tmp_path: Path) -> None:
    from mediafind.gui.thumbnails import decode

    # Qt's reader would show a DNG as its 64-pixel first thumbnail, unturned.
    path = dng(tmp_path / "IMG_0003.DNG", corner(), orientation=6)
    image = decode(path, 120)
    assert (image.width(), image.height()) == (80, 120)
    top_right = image.pixelColor(image.width() - 5, 5)
    assert top_right.red() > 150 and top_right.green() < 100


def test_the_viewer_shows_a_raw_file_whole_and_a_damaged_one_with_its_reason(
    tmp_path: Path,
) -> None:
    from mediafind.gui.desktop import read_image

    image = read_image(dng(tmp_path / "IMG_0004.DNG", corner(), orientation=6))
    assert (image.width(), image.height()) == (160, 240)
    damaged = tmp_path / "IMG_0005.CR3"
    damaged.write_bytes(random.Random(5).randbytes(20_000))
    with pytest.raises(UnreadableFile, match=r"^cannot read the picture IMG_0005.CR3: not a "):
        read_image(damaged)
