"""Photos with dates, as cameras and file managers leave them: an EXIF DateTimeOriginal written
by Pillow, or none (the file's modification time, set with os.utime, stands in)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from PIL import Image

from mediafind import roots_rows
from mediafind.embed import Encoder
from mediafind.indexer import Indexer
from mediafind.keeper import sync
from mediafind.store import Store

DATE_TIME_ORIGINAL = 0x9003
EXIF_IFD = 0x8769


def save_dated_photo(
    path: Path, taken: datetime | None, modified: datetime, colour: tuple[int, int, int]
) -> Path:
    """A small JPEG; taken: its EXIF DateTimeOriginal (None: no EXIF date)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (48, 32), colour)
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = taken.strftime("%Y:%m:%d %H:%M:%S")
    image.save(path, "JPEG", exif=exif.tobytes())
    stamp = modified.timestamp()
    os.utime(path, (stamp, stamp))
    return path


def index(root: Path, library: Path, encoder: Encoder) -> Path:
    """Index root into the library file, as `mediafind index` would."""
    with Store.open(library, writer=True) as store:
        roots_rows.add_root(store, root)
        sync(Indexer(store, lambda: encoder, encoder.identity))
    return library
