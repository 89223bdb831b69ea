"""People and places in search: a query's words that name a known person or place narrow it
(`Anna beach`: photos of Anna, the picture of a beach ranks them), and the names that brought
a file are why it matched."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from mediafind import words
from mediafind.people import key
from mediafind.people_rows import Facts, PeopleRows
from mediafind.query import Part, Query

# Why a photo matched by its metadata: a person in it, the place it was taken, a tag.
PERSON = "person"
PLACE = "place"
TAG = "tag"

# A place name of at most this many words is recognised in a query ("rio de janeiro").
PLACE_WORDS = 3


def narrowed(query: Query, rows: PeopleRows) -> Query:
    """The query with its words that name a known person or place made filters, as if
    person: or place: had been written, and left out of the words to look for: the name
    narrows, the other words rank. Words that say nothing alone (stopwords) never name
    anyone. A query of names alone keeps them as words too, to rank by."""
    if not query.words:
        return query
    person_words = rows.person_words()
    place_keys = rows.place_keys()
    if not person_words and not place_keys:
        return query
    folded = [key(w) for w in query.words]
    people: list[str] = []
    places: list[str] = []
    used: list[str] = []
    at = 0
    while at < len(folded):
        taken = 0
        for n in range(min(PLACE_WORDS, len(folded) - at), 0, -1):
            gram = " ".join(folded[at : at + n])
            if gram in words.STOPWORDS:
                continue
            if n == 1 and gram in person_words:
                people.append(query.words[at])
            elif gram in place_keys:
                places.append(" ".join(query.words[at : at + n]))
            else:
                continue
            taken = n
            break
        used += query.words[at : at + taken]
        at += max(taken, 1)
    if not used:
        return query
    parts = tuple(_without(p, used) for p in query.parts)
    left = [w for w in query.words if w not in used]
    if not any(p.text or p.image for p in parts):
        parts, left = query.parts, list(query.words)  # names alone: they still rank
    return replace(
        query,
        parts=tuple(p for p in parts if p.text or p.image),
        words=tuple(left),
        people=(*query.people, *people),
        places=(*query.places, *places),
    )


def _without(part: Part, used: Sequence[str]) -> Part:
    if part.text is None:
        return part
    text = part.text
    for word in used:
        text = re.sub(rf"(?<!\S){re.escape(word)}(?!\S)", "", text, count=1)
    return replace(part, text=" ".join(text.split()) or None)


def matched_names(facts: Facts, content: Sequence[str], query: Query) -> tuple[str, ...]:
    """The names of facts that hold one of the query's meaningful words (content, folded) or
    that its person: and place: filters ask for: people first, then places, then tags."""
    wanted_people = [key(p) for p in query.people]
    wanted_places = [key(p) for p in query.places]
    place_names = facts.place.names if facts.place is not None else ()
    out: list[str] = []
    for names, filters in ((facts.people, wanted_people), (place_names, wanted_places),
                           (facts.tags, [])):  # fmt: skip
        for name in names:
            folded = key(name)
            said = set(words.tokens(name))
            if any(w in said for w in content) or any(f" {f} " in f" {folded} " for f in filters):
                out.append(name)
    return tuple(dict.fromkeys(out))


def kind_of(facts: Facts, content: Sequence[str]) -> str:
    """What a file's metadata matched as: a person, a place, else a tag."""
    for kind, names in ((PERSON, facts.people),
                        (PLACE, facts.place.names if facts.place is not None else ())):  # fmt: skip
        if any(set(words.tokens(n)) & set(content) for n in names):
            return kind
    return TAG


def unknown_names(query: Query, rows: PeopleRows) -> tuple[str, ...]:
    """The query's person: and place: names that no photo of the library has, each as a
    sentence saying where such names come from: why a search for them found nothing."""
    said: list[str] = []
    for name in query.people:
        if not rows.has(person=key(name)):
            said.append(
                f"No photo names a person “{name}”: people are read from the face tags and "
                "People keywords that photo apps (digiKam, Lightroom, darktable, Picasa) write "
                "into photos and their .xmp sidecars"
            )
    for name in query.places:
        if not rows.has(place=key(name)):
            said.append(
                f"No photo was taken in a place named “{name}”: places come from the GPS "
                "position a camera or phone saves in a photo"
            )
    return tuple(said)
