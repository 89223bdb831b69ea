"""Make a big library of photos and notes with made-up vectors shaped like CLIP's (see
bench/_library.py: ClipLike), through the store's own API, for the search benchmarks.

    .venv/bin/python bench/make_library.py 100000 [--notes 1000] [--on-disk] [--iid]
        [--dir /tmp/mediafind-bench-knn]

Writes DIR/library-N[-iid]/library.sqlite3 (kept if it exists: `mediafind --library
DIR/library-N status` reads it); --on-disk also creates each file, empty, under files/ beside it,
so that scans and `status` find the library in step with its folder. 100,000 photos took 42 s on 2
idle cores; a million with --on-disk (a million empty files) 17 minutes on 2 busy ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _library import make_library


def library_path(directory: Path, photos: int, iid: bool = False) -> Path:
    return directory / f"library-{photos}{'-iid' if iid else ''}" / "library.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", type=int)
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--on-disk", action="store_true")
    parser.add_argument("--iid", action="store_true", help="iid Gaussian vectors instead")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mediafind-bench-knn"))
    args = parser.parse_args()
    path = library_path(args.dir, args.photos, args.iid)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        print(f"{path} exists; remove it to make it again")
        return
    made = make_library(path, args.photos, args.notes, iid=args.iid, on_disk=args.on_disk)
    print(
        f"made {path}: {made.photos} photos, {made.notes} notes ({made.text_chunks} passages) "
        f"in {made.seconds:.0f} s"
    )


if __name__ == "__main__":
    main()
