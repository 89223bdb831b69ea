#!/bin/sh
# The packaging check (`make package-check`): runs what `make package` built the way a user
# would, and validates what desktops read. Needs dist/ from `make package`.
#
#   1. the desktop entry and the AppStream metainfo validate
#   2. `mediafind --version` of the bundle is the package's version
#   3. `mediafind --self-test` passes, with the bundled model and with --model
#   4. the window starts offscreen and closes by itself
#   5. the archive installs into a scratch prefix, runs from there, and uninstalls cleanly
#   6. the .deb holds the app, the command, the menu entry, the metainfo and the icons
#
# Nothing touches the user's own settings, library or caches: everything points into a
# temporary folder, and model downloads are switched off.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIST=${1:-$ROOT/dist}
ID=io.github.mediafind.Mediafind
APP="$DIST/mediafind/mediafind"
TINY="$ROOT/mediafind/assets/tiny-clip"
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/mediafind/__init__.py")

if [ ! -x "$APP" ]; then
    echo "package-check: $APP is missing: run make package first" >&2
    exit 1
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mediafind-package-check.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export MEDIAFIND_CONFIG_DIR="$scratch/config" MEDIAFIND_DATA_DIR="$scratch/data"
export MEDIAFIND_CACHE_DIR="$scratch/cache" XDG_STATE_HOME="$scratch/state"
export HF_HOME="$scratch/hf" HF_HUB_OFFLINE=1
unset MEDIAFIND_LIBRARY MEDIAFIND_MODEL

now() { date +%s.%N; }
since() { echo "$1 $(now)" | awk '{printf "%.1f", $2 - $1}'; }
step() { printf '\n== %s\n' "$*"; }

step "validators"
desktop-file-validate "$ROOT/packaging/linux/$ID.desktop"
appstreamcli validate --no-net "$ROOT/packaging/linux/$ID.metainfo.xml"

step "version"
reported=$("$APP" --version)
echo "$reported"
test "$reported" = "mediafind $VERSION"

step "self-test with the bundled model"
t=$(now)
"$APP" --self-test
echo "self-test from the bundle: $(since "$t") s (wall, process start included)"

step "self-test with --model local-dir:$TINY"
"$APP" --self-test --model "local-dir:$TINY"

step "window, offscreen"
# -v logs "started" right after the window is shown; MEDIAFIND_QUIT_AFTER closes it.
t=$(now)
QT_QPA_PLATFORM=offscreen MEDIAFIND_QUIT_AFTER=3 timeout 60 "$APP" -v 2>"$scratch/window.log"
total=$(since "$t")
cat "$scratch/window.log"
grep -q "mediafind $VERSION started" "$scratch/window.log"
grep -q "mediafind closed" "$scratch/window.log"
if grep -q -E "Traceback|CRITICAL|Could not load the Qt platform plugin" "$scratch/window.log"; then
    echo "package-check: the window reported an error" >&2
    exit 1
fi
shown=$(QT_QPA_PLATFORM=offscreen MEDIAFIND_QUIT_AFTER=0 timeout 60 sh -c \
    "s=\$(date +%s.%N); '$APP' >/dev/null 2>&1; e=\$(date +%s.%N); echo \"\$s \$e\"" |
    awk '{printf "%.1f", $2 - $1}')
echo "window: opened and closed after 3 s in $total s; start to closed with no wait: $shown s"

step "a word in a picture, read offline"
# A screenshot drawn by the project's own venv; the bundle reads it (its OCR models are inside
# it) with the network cut where a namespace can be made, and finds it by a word printed in it.
mkdir -p "$scratch/pictures"
"$ROOT/.venv/bin/python" -c '
import sys
from PIL import Image, ImageDraw, ImageFont
picture = Image.new("RGB", (1280, 800), (246, 246, 248))
draw = ImageDraw.Draw(picture)
draw.text((64, 160), "Wifi password: seashell42", fill=(30, 30, 30), font=ImageFont.load_default(size=28))
picture.save(sys.argv[1])
' "$scratch/pictures/Screenshot.png"
offline=""
if unshare -n true 2>/dev/null; then offline="unshare -n"; fi
$offline "$APP" --model "local-dir:$TINY" index "$scratch/pictures" >/dev/null
found=$($offline "$APP" --model "local-dir:$TINY" search seashell42 --json)
echo "$found" | grep -q '"path": ".*Screenshot.png"' || {
    echo "package-check: the word in the picture was not found: $found" >&2; exit 1; }
echo "$found" | grep -q '"text in picture"'
echo "a word in a picture: found${offline:+ (network cut)}"

step "a place named offline"
# A photo with Lisbon's GPS position; the bundle names the place from the gazetteer inside it.
mkdir -p "$scratch/trip"
"$ROOT/.venv/bin/python" -c '
import sys
from PIL import Image
exif = Image.Exif()
exif.get_ifd(0x8825).update({1: "N", 2: (38.0, 42.0, 50.0), 3: "W", 4: (9.0, 8.0, 20.0)})
Image.new("RGB", (640, 480), (90, 140, 230)).save(sys.argv[1], exif=exif)
' "$scratch/trip/IMG_0001.jpg"
$offline "$APP" --model "local-dir:$TINY" index "$scratch/trip" >/dev/null
found=$($offline "$APP" --model "local-dir:$TINY" search place:Lisbon --json)
echo "$found" | grep -q '"path": ".*IMG_0001.jpg"' || {
    echo "package-check: the photo taken in Lisbon was not found by place:Lisbon: $found" >&2
    exit 1; }
echo "a place named offline: Lisbon${offline:+ (network cut)}"

step "a camera RAW photo"
# A DNG written by the tests' own writer (tests/rawfiles.py, tifffile in the project's venv),
# developed by the LibRaw inside the bundle: indexed as a photo, found by type:raw.
mkdir -p "$scratch/raw"
"$ROOT/.venv/bin/python" -c '
import sys
sys.path.insert(0, sys.argv[2])
from PIL import Image
from rawfiles import dng
dng(__import__("pathlib").Path(sys.argv[1]), Image.new("RGB", (320, 240), (200, 40, 40)))
' "$scratch/raw/IMG_0042.DNG" "$ROOT/tests"
$offline "$APP" --model "local-dir:$TINY" index "$scratch/raw" >/dev/null
found=$($offline "$APP" --model "local-dir:$TINY" search type:raw --json)
echo "$found" | grep -q '"path": ".*IMG_0042.DNG"' || {
    echo "package-check: the RAW photo was not indexed: $found" >&2; exit 1; }
echo "a camera RAW photo: indexed"

step "archive: install, run, uninstall"
tarball="$DIST/mediafind-$VERSION-linux-$(uname -m).tar.gz"
tar -C "$scratch" -xzf "$tarball"
prefix="$scratch/prefix with space"
"$scratch/mediafind-$VERSION/install.sh" --prefix "$prefix"
"$prefix/bin/mediafind" --version
desktop-file-validate "$prefix/share/applications/$ID.desktop"
grep -q "^Exec=\"$prefix/bin/mediafind\" gui %f\$" "$prefix/share/applications/$ID.desktop"
test -f "$prefix/share/icons/hicolor/256x256/apps/mediafind.png"
test -f "$prefix/share/icons/hicolor/scalable/apps/mediafind.svg"
test -f "$prefix/share/metainfo/$ID.metainfo.xml"
mkdir -p "$MEDIAFIND_DATA_DIR/library" && : > "$MEDIAFIND_DATA_DIR/library/library.sqlite3"
"$prefix/lib/mediafind/uninstall.sh" --keep-library
test -f "$MEDIAFIND_DATA_DIR/library/library.sqlite3"
# (The desktop's caches that uninstall.sh refreshes stay: other apps' entries live there too.)
left=$(find "$prefix" \( -type f -o -type l \) ! -name mimeinfo.cache ! -name icon-theme.cache)
if [ -n "$left" ]; then
    echo "package-check: uninstall.sh left files behind: $left" >&2
    exit 1
fi
# A second round, removing the library this time.
"$scratch/mediafind-$VERSION/install.sh" --prefix "$prefix" >/dev/null
"$prefix/lib/mediafind/uninstall.sh" --remove-library >/dev/null
test ! -e "$MEDIAFIND_DATA_DIR/library"
echo "install.sh and uninstall.sh: ok"

step ".deb"
deb="$DIST/mediafind_${VERSION}_$(dpkg --print-architecture).deb"
dpkg-deb --field "$deb" Package Version Architecture Depends
test "$(dpkg-deb --field "$deb" Version)" = "$VERSION"
dpkg-deb --contents "$deb" > "$scratch/deb.txt"
for path in ./opt/mediafind/mediafind ./usr/bin/mediafind "./usr/share/applications/$ID.desktop" \
    "./usr/share/metainfo/$ID.metainfo.xml" ./usr/share/icons/hicolor/48x48/apps/mediafind.png \
    ./opt/mediafind/_internal/mediafind/assets/tiny-clip/open_clip_model.safetensors; do
    grep -q " $path\( ->.*\)\?\$" "$scratch/deb.txt" || { echo "package-check: $path not in $deb" >&2; exit 1; }
done
echo ".deb: ok"

step "sizes"
du -sh "$DIST/mediafind" "$tarball" "$deb"
echo "package-check: all passed"
