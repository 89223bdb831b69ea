"""People, tags and places from photos' metadata, written by the tests with real libraries
(exiv2 through pyexiv2 for XMP and IPTC, Pillow for EXIF GPS), read back, indexed with the tiny
model and searched."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import pyexiv2
import pytest
from conftest import TINY_SPEC, fake_model_cli, run_cli
from PIL import Image

from mediafind import people, places, roots_rows, shapes
from mediafind.embed import OpenClipEncoder, parse_spec
from mediafind.errors import ModelUnavailable
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.people_rows import Facts, facts_key
from mediafind.query import parse
from mediafind.search import Searcher, keyword_search
from mediafind.store import Store

GPS_IFD = 0x8825

# Known cities, with the hemispheres' signs: south and west negative.
LISBON = (38.7223, -9.1393)
ZURICH = (47.3769, 8.5417)
NEW_YORK = (40.7128, -74.0060)
SYDNEY = (-33.8688, 151.2093)
MALMO = (55.6050, 13.0038)


def shape_photo(path: Path, colour: str, shape: str, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shapes.render(colour, shape, random.Random(seed)).save(path, quality=92)
    return path


def with_gps(path: Path, lat: float, lon: float, refs: tuple[str, str] | None = None) -> Path:
    """Write GPS EXIF into the JPEG at path, as cameras do: unsigned degrees, minutes and
    seconds as rationals, the hemisphere in its own tag."""
    with Image.open(path) as img:
        img.load()
        exif = img.getexif()
        gps = exif.get_ifd(GPS_IFD)
        lat_ref, lon_ref = refs or ("N" if lat >= 0 else "S", "E" if lon >= 0 else "W")
        gps.update({1: lat_ref, 2: _dms(abs(lat)), 3: lon_ref, 4: _dms(abs(lon))})
        img.save(path, exif=exif, quality=92)
    return path


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60 * 1000)
    return Fraction(degrees), Fraction(minutes), Fraction(seconds, 1000)


def face_regions(path: Path, *names: str, kind: str = "Face") -> None:
    """MWG face regions, as digiKam, Lightroom and darktable write them."""
    with pyexiv2.Image(str(path)) as img:
        img.modify_xmp({"Xmp.mwg-rs.Regions/mwg-rs:RegionList": 'type="Bag"'})
        for i, name in enumerate(names, start=1):
            item = f"Xmp.mwg-rs.Regions/mwg-rs:RegionList[{i}]"
            img.modify_xmp({f"{item}/mwg-rs:Name": name, f"{item}/mwg-rs:Type": kind})


def ms_regions(path: Path, *names: str) -> None:
    """Microsoft Photo regions, as Windows Photo Gallery writes them."""
    with pyexiv2.Image(str(path)) as img:
        img.modify_xmp({"Xmp.MP.RegionInfo/MPRI:Regions": 'type="Bag"'})
        for i, name in enumerate(names, start=1):
            key = f"Xmp.MP.RegionInfo/MPRI:Regions[{i}]/MPReg:PersonDisplayName"
            img.modify_xmp({key: name})


def keywords(path: Path, xmp: dict[str, list[str]] | None = None, iptc: Sequence[str] = ()) -> None:
    with pyexiv2.Image(str(path)) as img:
        if xmp:
            img.modify_xmp(xmp)
        if iptc:
            img.modify_iptc({"Iptc.Application2.Keywords": list(iptc)})


def read(path: Path) -> Facts:
    return people.of_photo(path, path.read_bytes())


# -- reading -----------------------------------------------------------------------------------


def test_face_regions_name_people_and_a_pet_is_a_tag(tmp_path: Path) -> None:
    photo = shape_photo(tmp_path / "p.jpg", "red", "circle", 1)
    with pyexiv2.Image(str(photo)) as img:
        img.modify_xmp({"Xmp.mwg-rs.Regions/mwg-rs:RegionList": 'type="Bag"'})
        img.modify_xmp({
            "Xmp.mwg-rs.Regions/mwg-rs:RegionList[1]/mwg-rs:Name": "Anna",
            "Xmp.mwg-rs.Regions/mwg-rs:RegionList[1]/mwg-rs:Type": "Face",
            "Xmp.mwg-rs.Regions/mwg-rs:RegionList[2]/mwg-rs:Name": "Rex",
            "Xmp.mwg-rs.Regions/mwg-rs:RegionList[2]/mwg-rs:Type": "Pet",
        })  # fmt: skip
    facts = read(photo)
    assert facts.people == ("Anna",)
    assert facts.tags == ("Rex",)
    assert facts.place is None


def test_microsoft_photo_regions_name_people(tmp_path: Path) -> None:
    photo = shape_photo(tmp_path / "p.jpg", "red", "circle", 1)
    ms_regions(photo, "Zoë Müller", "Jonas")
    assert read(photo).people == ("Zoë Müller", "Jonas")


def test_keywords_are_people_only_under_a_people_hierarchy(tmp_path: Path) -> None:
    photo = shape_photo(tmp_path / "p.jpg", "red", "circle", 1)
    keywords(
        photo,
        xmp={
            # Lightroom writes the leaf and its parents as flat keywords too.
            "Xmp.dc.subject": ["beach", "Anna", "People", "Rose"],
            "Xmp.lr.hierarchicalSubject": ["People|Anna", "Places|Coast|beach"],
            "Xmp.digiKam.TagsList": ["People/Family/Lena", "People/Unknown", "Flowers/Rose"],
        },
        iptc=["sunset", "Anna"],
    )
    facts = read(photo)
    assert set(facts.people) == {"Anna", "Lena"}
    assert set(facts.tags) == {"beach", "Rose", "sunset"}


def test_iptc_keywords_alone_are_tags(tmp_path: Path) -> None:
    photo = shape_photo(tmp_path / "p.jpg", "red", "circle", 1)
    keywords(photo, iptc=["Malmö", "harbour"])
    facts = read(photo)
    assert facts.people == ()
    assert facts.tags == ("Malmö", "harbour")


def test_an_xmp_sidecar_names_people_too(tmp_path: Path) -> None:
    photo = shape_photo(tmp_path / "p.jpg", "red", "circle", 1)
    # The sidecar is written by exiv2 into a copy, then its packet kept beside the photo.
    carrier = shape_photo(tmp_path / "carrier.jpg", "blue", "square", 2)
    face_regions(carrier, "Anna-Lena")
    with pyexiv2.Image(str(carrier)) as img:
        packet = img.read_raw_xmp()
    carrier.unlink()
    (tmp_path / "p.jpg.xmp").write_text(packet, encoding="utf-8")
    assert read(photo).people == ("Anna-Lena",)


@pytest.mark.parametrize(
    ("where", "city", "country"),
    [
        (LISBON, "Lisbon", "Portugal"),
        (ZURICH, "Zürich", "Switzerland"),
        (NEW_YORK, "New York City", "United States"),
        (SYDNEY, "Sydney", "Australia"),
    ],
)
def test_gps_names_the_city_in_every_hemisphere(
    tmp_path: Path, where: tuple[float, float], city: str, country: str
) -> None:
    photo = with_gps(shape_photo(tmp_path / "p.jpg", "red", "circle", 1), *where)
    place = read(photo).place
    assert place is not None
    assert (place.city, place.country) == (city, country)
    assert place.lat == pytest.approx(where[0], abs=1e-4)
    assert place.lon == pytest.approx(where[1], abs=1e-4)


def test_a_photo_without_gps_has_no_place(tmp_path: Path) -> None:
    assert read(shape_photo(tmp_path / "p.jpg", "red", "circle", 1)).place is None


def test_gps_at_zero_zero_is_no_place(tmp_path: Path) -> None:
    photo = with_gps(shape_photo(tmp_path / "p.jpg", "red", "circle", 1), 0.0, 0.0)
    assert read(photo).place is None


def test_gps_out_of_range_or_with_a_wrong_hemisphere_is_no_place(tmp_path: Path) -> None:
    far = with_gps(shape_photo(tmp_path / "far.jpg", "red", "circle", 1), 95.0, 10.0)
    assert read(far).place is None
    odd = with_gps(shape_photo(tmp_path / "odd.jpg", "red", "circle", 1), *LISBON, ("X", "W"))
    assert read(odd).place is None


def test_a_place_far_from_any_town_keeps_its_coordinates_without_a_name() -> None:
    place = places.place_at(-45.0, -130.0)  # the South Pacific
    assert (place.city, place.region, place.country) == (None, None, None)
    assert place.coordinates() == "45.0000° S, 130.0000° W"


# -- indexing and searching ------------------------------------------------------------------


@pytest.fixture(scope="module")
def encoder() -> OpenClipEncoder:
    return OpenClipEncoder(parse_spec(TINY_SPEC), device="cpu")


@pytest.fixture(scope="module")
def album(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_album(tmp_path_factory.mktemp("album"))


def make_album(root: Path) -> Path:
    """Photos of people in places: Anna in Lisbon (a red circle, a blue square), Lena in
    Zürich (a red circle), Anna-Lena in New York, Zoë in Sydney, an untagged photo with no
    GPS, and one at 0, 0."""
    anna_circle = with_gps(shape_photo(root / "a1.jpg", "red", "circle", 1), *LISBON)
    face_regions(anna_circle, "Anna")
    anna_square = with_gps(shape_photo(root / "a2.jpg", "blue", "square", 2), *LISBON)
    keywords(anna_square, xmp={"Xmp.lr.hierarchicalSubject": ["People|Anna"]})
    lena = with_gps(shape_photo(root / "l1.jpg", "red", "circle", 3), *ZURICH)
    keywords(lena, xmp={"Xmp.digiKam.TagsList": ["People/Lena"], "Xmp.dc.subject": ["beach"]})
    anna_lena = with_gps(shape_photo(root / "al.jpg", "green", "triangle", 4), *NEW_YORK)
    ms_regions(anna_lena, "Anna-Lena")
    zoe = with_gps(shape_photo(root / "z1.jpg", "yellow", "square", 5), *SYDNEY)
    keywords(zoe, iptc=["beach"])
    ms_regions(zoe, "Zoë")
    shape_photo(root / "plain.jpg", "red", "circle", 6)
    with_gps(shape_photo(root / "nowhere.jpg", "blue", "circle", 7), 0.0, 0.0)
    return root


@pytest.fixture(scope="module")
def searcher(
    tmp_path_factory: pytest.TempPathFactory, album: Path, encoder: OpenClipEncoder
) -> Iterator[Searcher]:
    library = tmp_path_factory.mktemp("lib") / "library.sqlite3"
    store = Store.open(library, writer=True)
    roots_rows.add_root(store, album)
    sync(Indexer(store, lambda: encoder, encoder.identity))
    yield Searcher(store, encoder)
    store.close()


def found(searcher: Searcher, text: str) -> list[str]:
    return [h.path.name for h in searcher.search(parse(text, images_allowed=False), limit=20)]


def test_person_filter_finds_the_photos_of_that_person(searcher: Searcher) -> None:
    assert sorted(found(searcher, "person:Anna")) == ["a1.jpg", "a2.jpg"]
    assert found(searcher, "person:anna-lena") == ["al.jpg"]
    assert found(searcher, "person:zoe") == ["z1.jpg"]
    assert found(searcher, "person:Nobody") == []


def test_place_filter_finds_the_photos_taken_there(searcher: Searcher) -> None:
    assert sorted(found(searcher, "place:Lisbon")) == ["a1.jpg", "a2.jpg"]
    assert found(searcher, "place:zurich") == ["l1.jpg"]
    assert found(searcher, 'place:"New York"') == ["al.jpg"]
    assert found(searcher, "place:Australia") == ["z1.jpg"]
    assert found(searcher, "place:York") == ["al.jpg"]  # a whole word of the name


def test_a_name_no_photo_has_is_said_so_with_where_names_come_from(searcher: Searcher) -> None:
    def unknown(text: str) -> tuple[str, ...]:
        answer = searcher.answer(parse(text, images_allowed=False), limit=20)
        assert answer.hits == []
        return answer.unknown

    (said,) = unknown("person:Nobody")
    assert said.startswith("No photo names a person “Nobody”: people are read from the face tags")
    (said,) = unknown('place:"Buenos Aires" red circle')
    assert said.startswith("No photo was taken in a place named “Buenos Aires”: places come")
    assert len(unknown("person:Nobody place:Nowhere")) == 2
    # Both known, only never together: nothing is said of them.
    assert unknown("person:Zoe place:Lisbon") == ()
    assert searcher.answer(parse("person:Anna", images_allowed=False), limit=20).unknown == ()


def test_a_name_narrows_and_the_picture_ranks(searcher: Searcher) -> None:
    # Lena's red circle and the untagged red circle look the same: the name leaves them out.
    assert {"a1.jpg", "l1.jpg", "plain.jpg"} <= set(found(searcher, "red circle"))
    anna = found(searcher, "Anna red circle")
    assert anna[0] == "a1.jpg"
    assert set(anna) <= {"a1.jpg", "a2.jpg"}
    assert found(searcher, "Anna blue square")[0] == "a2.jpg"
    assert found(searcher, "Lisbon blue square")[0] == "a2.jpg"


def test_names_places_and_tags_are_words(searcher: Searcher) -> None:
    assert found(searcher, "Zürich") == ["l1.jpg"]
    assert found(searcher, "Anna-Lena") == ["al.jpg"]
    assert sorted(found(searcher, "beach kind:photo")[:2]) == ["l1.jpg", "z1.jpg"]


def test_why_it_matched_names_the_person_and_the_place(searcher: Searcher) -> None:
    hits = searcher.search(parse("person:Anna place:Lisbon red circle"), limit=5)
    assert hits[0].path.name == "a1.jpg"
    assert "Anna" in hits[0].why and "Lisbon" in hits[0].why
    [tagged] = searcher.search(parse("Zoë"), limit=5)
    assert "Zoë" in tagged.why


def test_results_carry_people_and_place(searcher: Searcher) -> None:
    [hit] = searcher.search(parse("person:Zoë"), limit=5)
    data = hit.to_json()
    assert data["people"] == ["Zoë"]
    place = data["place"]
    assert isinstance(place, dict)
    assert (place["city"], place["country"]) == ("Sydney", "Australia")
    assert place["lat"] < 0 < place["lon"]
    [plain] = [
        h for h in searcher.search(parse("red circle"), limit=20) if h.path.name == "plain.jpg"
    ]
    assert plain.to_json()["people"] == [] and plain.to_json()["place"] is None


def test_no_gps_and_zero_gps_photos_have_no_place(searcher: Searcher) -> None:
    rows = searcher.store.people
    by_name = {h.path.name: h for h in searcher.search(parse("kind:photo"), limit=20)}
    assert by_name["plain.jpg"].place is None
    assert by_name["nowhere.jpg"].place is None
    assert rows.counts() == {"with_people": 5, "with_place": 5}


def test_an_unchanged_photo_is_not_read_again_and_a_changed_one_is(
    tmp_path: Path, encoder: OpenClipEncoder
) -> None:
    root = tmp_path / "photos"
    photo = shape_photo(root / "p.jpg", "red", "circle", 1)
    face_regions(photo, "Anna")
    with Store.open(tmp_path / "library.sqlite3", writer=True) as store:
        roots_rows.add_root(store, root)
        indexer = Indexer(store, lambda: encoder, encoder.identity)
        sync(indexer)
        assert store.people.waiting() == []
        assert indexer.read_people() == 0
        # Forget what was read (as for a library made before people were read): caught up.
        store.conn.execute("DELETE FROM photo_facts")
        assert [w.path for w in store.people.waiting()] == [str(photo)]
        assert indexer.read_people() == 1
        assert store.people.of([1]) == {1: Facts(("Anna",), (), None)}
        # A face added in the photo's sidecar: a scan sees the sidecar, the photo is read again.
        carrier = shape_photo(tmp_path / "carrier.jpg", "blue", "square", 2)
        face_regions(carrier, "Lena")
        with pyexiv2.Image(str(carrier)) as img:
            (root / "p.xmp").write_text(img.read_raw_xmp(), encoding="utf-8")
        sync(indexer)
        assert set(store.people.of([1])[1].people) == {"Anna", "Lena"}
        row = store.file(1)
        assert row is not None
        key = facts_key(row.size, row.mtime_ns, row.caption_sig)
        assert store.conn.execute("SELECT key FROM photo_facts").fetchall() == [(key,)]


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with fake_model_cli(monkeypatch):
        yield


@pytest.mark.usefixtures("cli")
def test_json_results_and_status_count_people_and_places(
    album: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "index", str(album))
    assert code == 0, err
    code, out, err = run_cli(capsys, "search", "--json", "person:Anna", "place:Lisbon")
    assert code == 0, err
    results = json.loads(out)
    hits = results["results"] if isinstance(results, dict) else results
    assert sorted(Path(h["path"]).name for h in hits) == ["a1.jpg", "a2.jpg"]
    assert all(h["people"] == ["Anna"] and h["place"]["city"] == "Lisbon" for h in hits)
    assert all("Anna" in h["why"] and "Lisbon" in h["why"] for h in hits)
    code, out, err = run_cli(capsys, "status", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert (status["photos_with_people"], status["photos_with_place"]) == (5, 5)
    code, out, err = run_cli(capsys, "status")
    assert "5 photos name people, 5 have a place" in out


@pytest.mark.usefixtures("cli")
def test_the_command_line_says_which_names_no_photo_has(
    album: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, "index", str(album))[0] == 0
    code, out, err = run_cli(capsys, "search", "person:Nobody", "place:Lisbon")
    assert code == 0, err
    assert out.splitlines() == [
        "no good match for 'person:Nobody place:Lisbon'",
        "  No photo names a person “Nobody”: people are read from the face tags and People "
        "keywords that photo apps (digiKam, Lightroom, darktable, Picasa) write into photos and "
        "their .xmp sidecars.",
    ]
    code, out, err = run_cli(capsys, "search", "--json", "place:Atlantis")
    assert (code, json.loads(out)) == (0, [])
    assert err.startswith("mediafind: No photo was taken in a place named “Atlantis”")


# -- the query language ----------------------------------------------------------------------


def test_person_and_place_filters_are_read_from_the_query() -> None:
    query = parse('person:Anna place:"New York" sunset person:Lena')
    assert query.people == ("Anna", "Lena")
    assert query.places == ("New York",)
    assert query.words == ("sunset",)
    assert type(query).from_dict(query.to_dict()) == query
    # Half typed, person: is a filter on its way, not a word to look for.
    assert parse("beach person:", lenient=True).words == ("beach",)


def test_people_and_places_are_searchable_while_the_model_is_missing(
    tmp_path: Path, album: Path
) -> None:
    def missing() -> OpenClipEncoder:
        raise ModelUnavailable("no model here")

    with Store.open(tmp_path / "library.sqlite3", writer=True) as store:
        roots_rows.add_root(store, album)
        outcome = sync(Indexer(store, missing, "absent"))
        assert outcome.waiting_for_model
        assert sorted(h.path.name for h in keyword_search(store, parse("person:Anna"))) == [
            "a1.jpg", "a2.jpg"
        ]  # fmt: skip
        assert [h.path.name for h in keyword_search(store, parse("Sydney"))] == ["z1.jpg"]


def test_a_deleted_photo_takes_its_people_and_place_with_it(
    tmp_path: Path, encoder: OpenClipEncoder
) -> None:
    root = tmp_path / "photos"
    photo = with_gps(shape_photo(root / "p.jpg", "red", "circle", 1), *MALMO)
    keywords(photo, xmp={"Xmp.digiKam.TagsList": ["People/Anna"]})
    with Store.open(tmp_path / "library.sqlite3", writer=True) as store:
        roots_rows.add_root(store, root)
        indexer = Indexer(store, lambda: encoder, encoder.identity)
        sync(indexer)
        searcher = Searcher(store, encoder)
        assert found(searcher, "Malmo") == ["p.jpg"]  # the accent folded
        assert found(searcher, "place:Skåne") == ["p.jpg"]  # the region
        photo.unlink()
        sync(indexer)
        assert found(searcher, "Malmö") == [] and found(searcher, "Anna") == []
        assert store.conn.execute("SELECT count(*) FROM photo_names").fetchall() == [(0,)]
