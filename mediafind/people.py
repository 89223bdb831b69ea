"""Who is in a photo, and what it is tagged with, as other apps wrote it; and where it was taken.

People come from face regions (XMP MWG regions, as digiKam, Lightroom, darktable and Picasa
write them; Microsoft Photo regions) and from keywords filed under a People hierarchy
("People/Anna" in digiKam's tags, "People|Anna" in Lightroom's). Every other keyword (XMP
dc:subject, IPTC Keywords, the other hierarchies' leaves) is a tag: a searchable word, never a
person. A keyword is a person only where a hierarchy says so: "Rose" alone may be a flower.
Names are read from the photo and from its XMP sidecars (mediafind.captions finds them).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

from PIL import Image

from mediafind import captions, media, places, words
from mediafind.people_rows import Facts

log = logging.getLogger(__name__)

_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_MWG_RS = "{http://www.metadataworkinggroup.com/schemas/regions/}"
_MP_REGION = "{http://ns.microsoft.com/photo/1.2/t/Region#}"
_DIGIKAM = "{http://www.digikam.org/ns/1.0/}"
_LIGHTROOM = "{http://ns.adobe.com/lightroom/1.0/}"
_MICROSOFT = "{http://ns.microsoft.com/photo/1.0/}"
_IPTC_KEYWORDS = (2, 25)

# Hierarchy roots under which a keyword's last part is a person, compared folded: the apps'
# defaults ("People" in digiKam and Lightroom) and their translations.
PEOPLE_ROOTS = frozenset(
    {"people", "persons", "person", "personen", "personnes", "personas", "pessoas", "persone",
     "mensen", "personer", "faces"}
)  # fmt: skip
# What face taggers file under People for faces not yet named: not a person's name.
NOT_NAMES = frozenset({"unknown", "unconfirmed", "ignored", "unknown person", "unnamed"})
# A region type that holds a person (MWG); a region without a type is taken as a face, as
# Picasa writes them.
FACE = "face"
# A name or tag longer than this is not one (a pasted paragraph).
MAX_NAME_CHARS = 100
# Hierarchical keywords: digiKam and Microsoft separate levels with "/", Lightroom with "|".
_LEVELS = re.compile(r"\s*[|/]\s*")


@dataclass
class _Found:
    people: list[str]
    tags: list[str]
    hierarchies: list[str]


def of_photo(photo: Path, data: bytes) -> Facts:
    """The people, tags and place of the photo at photo (data: its bytes), from its metadata
    and its XMP sidecars."""
    found = _Found([], [], [])
    position: tuple[float, float] | None = None
    for packet in captions.xmp_sidecar_packets(photo):
        _from_xmp(captions.parse_xmp(packet), found)
    media.register_heif()  # so that HEIC photos' metadata can be read too
    try:
        with Image.open(BytesIO(data)) as img:
            _from_xmp(captions.parse_xmp(captions.photo_xmp(img)), found)
            found.tags += captions.iptc_texts(img, _IPTC_KEYWORDS)
            position = places.coordinates(img)
    except (OSError, SyntaxError, ValueError, KeyError, IndexError, TypeError,
            Image.DecompressionBombError) as e:  # fmt: skip
        log.debug("cannot read a photo's metadata: %s", e)
    people, tags = sort_out(found.people, found.tags, found.hierarchies)
    place = places.place_at(*position) if position is not None else None
    return Facts(people, tags, place)


def folded(facts: Facts) -> dict[str, str]:
    """Each name of facts (people, tags, place names) -> its key(), as the library keeps it."""
    place_names = facts.place.names if facts.place is not None else ()
    return {name: key(name) for name in (*facts.people, *facts.tags, *place_names)}


def sort_out(
    regions: Iterable[str], keywords: Iterable[str], hierarchies: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """People and tags, each once (case and accents aside): the names of face regions and the
    last part of keywords under a People root are people; flat keywords and the last part of
    other hierarchical keywords are tags, unless they name one of the people."""
    people = list(regions)
    tags = list(keywords)
    for keyword in hierarchies:
        levels = [level for level in _LEVELS.split(keyword.strip()) if level]
        if not levels:
            continue
        if len(levels) > 1 and key(levels[0]) in PEOPLE_ROOTS:
            people.append(levels[-1])
        else:
            tags.append(levels[-1])
    kept_people = _unique(people)
    known = {key(p) for p in kept_people}
    kept_tags = [t for t in _unique(tags) if key(t) not in known and key(t) not in PEOPLE_ROOTS]
    return tuple(kept_people), tuple(kept_tags)


def _unique(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        name = " ".join(name.replace("\x00", "").split())
        folded = key(name)
        if not folded or len(name) > MAX_NAME_CHARS or folded in NOT_NAMES or folded in seen:
            continue
        seen.add(folded)
        out.append(name)
    return out


def key(name: str) -> str:
    """A name as filters compare it: folded (case and accents), words apart by single
    spaces; a hyphen stays, so that Anna is not Anna-Lena."""
    return " ".join(words.fold(name).split())


def _from_xmp(root: ElementTree.Element | None, found: _Found) -> None:
    if root is None:
        return
    for element in root.iter():
        name = _value(element, _MWG_RS + "Name")
        if name:
            kind = (_value(element, _MWG_RS + "Type") or FACE).strip().lower()
            (found.people if kind == FACE else found.tags).append(name)
        name = _value(element, _MP_REGION + "PersonDisplayName")
        if name:
            found.people.append(name)
    found.tags += _items(root, _DC + "subject")
    for tag in (_DIGIKAM + "TagsList", _LIGHTROOM + "hierarchicalSubject",
                _MICROSOFT + "LastKeywordXMP"):  # fmt: skip
        found.hierarchies += _items(root, tag)


def _value(element: ElementTree.Element, name: str) -> str | None:
    """A property of an XMP struct, written as an attribute or as a child element."""
    value = element.get(name)
    if value is None:
        child = element.find(name)
        value = child.text if child is not None else None
    return value.strip() if value and value.strip() else None


def _items(root: ElementTree.Element, tag: str) -> list[str]:
    """The items of an XMP array property (a bag or a sequence), or its text when it is a
    plain value."""
    out: list[str] = []
    for element in root.iter(tag):
        items = [li.text for li in element.iter(_RDF + "li")]
        out += [t for t in (items or [element.text]) if t and t.strip()]
    for described in root.iter(_RDF + "Description"):
        value = described.get(tag)  # some tools write a single keyword as an attribute
        if value:
            out.append(value)
    return out
