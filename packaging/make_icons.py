"""Makes the Windows and macOS app icons from the committed PNGs in resources/icons/:

    build/icons/mediafind.ico    16-256 px, for the .exe and the installer (Inno Setup)
    build/icons/mediafind.icns   16-1024 px, for the .app (Info.plist CFBundleIconFile)

    python packaging/make_icons.py [--out build/icons]

Pillow writes both formats on any system, so the release workflow needs no iconutil. The PNGs
come from resources/mediafind.svg (packaging/render_icons.py); this only repackages them, taking
each size from its own PNG (hinted for that size) rather than scaling one picture.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
# Windows shows 16-48 px in lists and the taskbar, 256 px in large icon views.
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# An .icns holds 16-512 px and their @2x twins (up to 1024 px, made from the 512 px PNG).
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def load(size: int) -> Image.Image:
    """The PNG of that size, or the next larger one scaled down (1024: the 512 one up)."""
    available = sorted(int(p.stem.rsplit("-", 1)[1]) for p in ICONS.glob("mediafind-*.png"))
    source = next((s for s in available if s >= size), available[-1])
    image = Image.open(ICONS / f"mediafind-{source}.png").convert("RGBA")
    if source != size:
        image = image.resize((size, size), Image.Resampling.LANCZOS)
    return image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "icons")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    ico = args.out / "mediafind.ico"
    images = [load(s) for s in ICO_SIZES]
    # Pillow writes one entry per size from the largest image, or takes the given ones as they
    # are through append_images: the latter keeps the small sizes' own pixels.
    images[-1].save(ico, sizes=[(s, s) for s in ICO_SIZES], append_images=images[:-1])
    icns = args.out / "mediafind.icns"
    images = [load(s) for s in ICNS_SIZES]
    images[-1].save(icns, append_images=images[:-1])
    for path in (ico, icns):
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
