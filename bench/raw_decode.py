"""What a camera RAW photo costs to decode for the model, against the same picture as a JPEG, in
the same run (A B C, A B C …, medians): a DNG with the full-size JPEG preview cameras embed
(mediafind.raw uses it), and one without (the sensor data is developed at half size).

    .venv/bin/python bench/raw_decode.py [--side 4000] [--rounds 5]

The pictures: a camera-like photo (bench/ocr_cost.py's, with grain) at --side × 3/4 --side,
written as a JPEG (quality 90) and as 12-bit Bayer DNGs by the tests' writer
(tests/rawfiles.py); each decoded by media.open_image at ViT-B-32's 224 pixels, as the indexer
does.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

from _table import figure
from ocr_cost import camera_photo

from mediafind import media

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from rawfiles import dng  # the tests' DNG writer

SIDE = 224


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=4000, help="the photo's long side (4000)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    width = args.side - args.side % 2
    height = (args.side * 3 // 4) - (args.side * 3 // 4) % 2
    picture = camera_photo(random.Random(3)).resize((width, height))
    with tempfile.TemporaryDirectory(prefix="mediafind-bench-raw-") as tmp:
        folder = Path(tmp)
        jpeg = BytesIO()
        picture.save(jpeg, "JPEG", quality=90)
        files = {
            "JPEG": jpeg.getvalue(),
            "DNG, JPEG preview": dng(folder / "preview.dng", picture, preview="jpeg").read_bytes(),
            "DNG, developed": dng(folder / "bare.dng", picture).read_bytes(),
        }
    times: dict[str, list[float]] = {name: [] for name in files}
    for name, data in files.items():  # warm: LibRaw loaded, caches filled
        media.open_image(data, SIDE, raw=name != "JPEG")
    for _ in range(args.rounds):
        for name, data in files.items():
            started = time.perf_counter()
            media.open_image(data, SIDE, raw=name != "JPEG")
            times[name].append(time.perf_counter() - started)
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"{width}×{height}, decoded for a {SIDE}-pixel model, medians of {args.rounds} rounds:")
    for name, ms in median.items():
        print(f"  {name:20} {ms:7.1f} ms  ({ms / median['JPEG']:.1f}× the JPEG)")
    for name in ("DNG, JPEG preview", "DNG, developed"):
        figure(
            f"decoding a {width}×{height} {name} for the model",
            f"{median[name]:.0f} ms, {median[name] / median['JPEG']:.1f}× the JPEG",
        )


if __name__ == "__main__":
    main()
