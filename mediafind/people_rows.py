"""The library's people, tags and places (schema: photo_facts, photo_names, facts_fts): the SQL
that keeps them, as typed rows. The store holds one PeopleRows on its connection."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import apsw

# A photo's key as the library holds it, in SQL: what it is read at, and what a photo whose file
# or sidecars changed no longer matches. facts_key() is the same in Python.
_FILE_KEY = "f.size || ':' || f.mtime_ns || ':' || coalesce(f.caption_sig, '')"


def facts_key(size: int, mtime_ns: int, caption_sig: str | None) -> str:
    """The key of a photo's facts: its size, modification time and sidecars' signature."""
    return f"{size}:{mtime_ns}:{caption_sig or ''}"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a photo was taken: its coordinates, and the names of the place when a known town
    is near (else None)."""

    lat: float
    lon: float
    city: str | None = None
    region: str | None = None
    country: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """City, region and country, those known, each once."""
        return tuple(dict.fromkeys(n for n in (self.city, self.region, self.country) if n))

    def label(self) -> str:
        """The place as people write it: "Lisbon, Portugal"; the coordinates without names."""
        return ", ".join(n for n in (self.city, self.country) if n) or self.coordinates()

    def coordinates(self) -> str:
        """The coordinates as degrees with their hemispheres: 38.7223° N, 9.1393° W."""
        return (
            f"{abs(self.lat):.4f}° {'N' if self.lat >= 0 else 'S'}, "
            f"{abs(self.lon):.4f}° {'E' if self.lon >= 0 else 'W'}"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "city": self.city,
            "region": self.region,
            "country": self.country,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
        }


@dataclass(frozen=True, slots=True)
class Facts:
    """What the library holds of one photo's metadata."""

    people: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    place: Place | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    """A photo whose facts are not read, or were read before it or its sidecars changed."""

    file_id: int
    path: str
    key: str


def filter_sql(people: Sequence[str], places: Sequence[str]) -> tuple[list[str], list[object]]:
    """Conditions on files aliased f: each person (a folded name, matched as whole words of a
    name: `anna` is in "Anna Weber", not in "Anna-Lena") and each place (a folded name, matched
    as whole words of its city, region or country), with their arguments."""
    clauses: list[str] = []
    args: list[object] = []
    for person in people:
        clauses.append(
            "f.id IN (SELECT file_id FROM photo_names WHERE person = 1 "
            "AND ' ' || folded || ' ' LIKE ? ESCAPE '\\')"
        )
        args.append(f"% {_like(person)} %")
    for place in places:
        clauses.append(
            "f.id IN (SELECT file_id FROM photo_facts WHERE place_key LIKE ? ESCAPE '\\')"
        )
        args.append(f"% {_like(place)} %")
    return clauses, args


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PeopleRows:
    """People, tags and places on one library connection."""

    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn

    def waiting(self, pending: bool = False) -> list[Waiting]:
        """Indexed photos (pending: and those waiting to be) whose facts are not read for
        what they are now, oldest first."""
        statuses = "('indexed', 'pending')" if pending else "('indexed')"
        rows = self.conn.execute(
            f"SELECT f.id, f.path, {_FILE_KEY} FROM files f "
            "LEFT JOIN photo_facts p ON p.file_id = f.id "
            f"WHERE f.kind = 'photo' AND f.status IN {statuses} "
            f"AND (p.key IS NULL OR p.key != {_FILE_KEY}) ORDER BY f.id"
        )
        return [Waiting(i, os.fsdecode(p), k) for i, p, k in rows]

    def save(self, file_id: int, key: str, facts: Facts, folded: dict[str, str]) -> None:
        """A photo's facts as read at key, replacing what it had; folded: each name's folded
        form (mediafind.people.key)."""
        self.conn.execute("DELETE FROM photo_facts WHERE file_id = ?", (file_id,))
        place = facts.place
        place_key = None
        if place is not None and place.names:
            place_key = " " + " | ".join(folded[n] for n in place.names) + " "
        self.conn.execute(
            "INSERT INTO photo_facts(file_id, key, lat, lon, city, region, country, place_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                file_id,
                key,
                *((place.lat, place.lon, place.city, place.region, place.country)
                  if place is not None else (None,) * 5),
                place_key,
            ),
        )  # fmt: skip
        for names, person in ((facts.people, 1), (facts.tags, 0)):
            for name in names:
                self.conn.execute(
                    "INSERT OR IGNORE INTO photo_names(file_id, name, folded, person) "
                    "VALUES (?, ?, ?, ?)",
                    (file_id, name, folded[name], person),
                )
        said = [*facts.people, *facts.tags, *(place.names if place is not None else ())]
        if said:
            self.conn.execute(
                "INSERT INTO facts_fts(rowid, words) VALUES (?, ?)", (file_id, "\n".join(said))
            )

    def of(self, file_ids: Sequence[int]) -> dict[int, Facts]:
        """The facts of each of these files that has any."""
        if not file_ids:
            return {}
        ids = json.dumps(list(file_ids))
        names: dict[int, tuple[list[str], list[str]]] = {}
        for file_id, name, person in self.conn.execute(
            "SELECT file_id, name, person FROM photo_names "
            "WHERE file_id IN (SELECT value FROM json_each(?)) ORDER BY file_id, folded",
            (ids,),
        ):
            names.setdefault(file_id, ([], []))[0 if person else 1].append(name)
        out: dict[int, Facts] = {}
        for file_id, lat, lon, city, region, country in self.conn.execute(
            "SELECT file_id, lat, lon, city, region, country FROM photo_facts "
            "WHERE file_id IN (SELECT value FROM json_each(?))",
            (ids,),
        ):
            people, tags = names.get(file_id, ([], []))
            place = None if lat is None else Place(lat, lon, city, region, country)
            if people or tags or place is not None:
                out[file_id] = Facts(tuple(people), tuple(tags), place)
        return out

    def matching(
        self, match: str, limit: int, condition: str, args: Sequence[object]
    ) -> list[tuple[int, str]]:
        """Files (id, path) whose people, tags or place names match an FTS5 query and the
        condition on files aliased f, best first. A query FTS5 cannot parse matches nothing."""
        try:
            rows: list[Any] = self.conn.execute(
                "SELECT f.id, f.path FROM facts_fts JOIN files f ON f.id = facts_fts.rowid "
                f"WHERE facts_fts MATCH ? AND f.status != 'error' AND {condition} "
                "ORDER BY facts_fts.rank LIMIT ?",
                (match, *args, limit),
            ).fetchall()
        except apsw.SQLError:
            return []
        return [(int(i), os.fsdecode(bytes(p))) for i, p in rows]

    def names(self, person: bool, prefix: str = "", limit: int = 50) -> list[str]:
        """Known people (person) or tags, most photos first, whose folded name starts with
        prefix (folded)."""
        rows = self.conn.execute(
            "SELECT min(name), count(*) AS n FROM photo_names WHERE person = ? "
            "AND folded >= ? AND folded < ? GROUP BY folded ORDER BY n DESC, folded LIMIT ?",
            (int(person), prefix, prefix + "\U0010ffff", limit),
        )
        return [r[0] for r in rows]

    def place_names(self, prefix: str = "", limit: int = 50) -> list[str]:
        """Known cities, regions and countries, most photos first, whose folded name starts
        with prefix (folded)."""
        counts: dict[str, int] = {}
        for city, region, country, place_key, n in self.conn.execute(
            "SELECT city, region, country, place_key, count(*) FROM photo_facts "
            "WHERE place_key IS NOT NULL GROUP BY place_key"
        ):
            names = dict.fromkeys(x for x in (city, region, country) if x)
            folded = [p.strip() for p in place_key.split("|")]
            for name, key in zip(names, folded, strict=False):
                if key.startswith(prefix):
                    counts[name] = counts.get(name, 0) + n
        return sorted(counts, key=lambda n: (-counts[n], n.casefold()))[:limit]

    def person_words(self) -> dict[str, str]:
        """Each word of a known person's name (folded) -> a name holding it: what makes a
        query word a name."""
        out: dict[str, str] = {}
        for name, folded in self.conn.execute(
            "SELECT min(name), folded FROM photo_names WHERE person = 1 GROUP BY folded"
        ):
            for word in folded.split():
                out.setdefault(word, name)
        return out

    def has(self, person: str | None = None, place: str | None = None) -> bool:
        """Whether any photo names this person, or was taken at this place (folded names,
        matched as the person: and place: filters match them: see filter_sql)."""
        clauses, args = filter_sql([person] if person else [], [place] if place else [])
        where = " AND ".join(clauses) or "0"
        sql = f"SELECT EXISTS (SELECT 1 FROM files f WHERE {where})"
        return any(found for (found,) in self.conn.execute(sql, args))

    def place_keys(self) -> set[str]:
        """The folded names of the known places (city, region, country)."""
        out: set[str] = set()
        for (place_key,) in self.conn.execute(
            "SELECT DISTINCT place_key FROM photo_facts WHERE place_key IS NOT NULL"
        ):
            out.update(p.strip() for p in place_key.split("|") if p.strip())
        return out

    def counts(self) -> dict[str, int]:
        """Indexed photos with people, and with a place (coordinates)."""
        people = self._count(
            "SELECT count(DISTINCT n.file_id) FROM photo_names n JOIN files f ON f.id = n.file_id "
            "WHERE n.person = 1 AND f.status = 'indexed'"
        )
        placed = self._count(
            "SELECT count(*) FROM photo_facts p JOIN files f ON f.id = p.file_id "
            "WHERE p.lat IS NOT NULL AND f.status = 'indexed'"
        )
        return {"with_people": people, "with_place": placed}

    def _count(self, sql: str) -> int:
        row = self.conn.execute(sql).fetchone()
        return int(row[0]) if row is not None else 0
