#!/bin/sh
# Installs mediafind from this unpacked archive for the current user (no root needed):
#
#   ./install.sh                     into ~/.local (the default)
#   ./install.sh --prefix /usr/local  anywhere else (with sudo for a system folder)
#
# The app goes to PREFIX/lib/mediafind, `mediafind` to PREFIX/bin, the menu entry, icons and
# AppStream metadata to PREFIX/share. Running it again upgrades in place. PREFIX/lib/mediafind/
# uninstall.sh removes it all again.
set -eu

ID=io.github.mediafind.Mediafind
PREFIX=${PREFIX:-$HOME/.local}
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#--prefix=}; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
APP="$PREFIX/lib/mediafind"
BIN="$PREFIX/bin"
SHARE="$PREFIX/share"

if [ ! -x "$HERE/mediafind/mediafind" ]; then
    echo "install.sh: run it from the unpacked archive (mediafind/mediafind is missing)" >&2
    exit 1
fi

# Copy beside the old version first and swap, so that a failed copy leaves the old one working.
mkdir -p "$PREFIX/lib" "$BIN" "$SHARE/applications" "$SHARE/metainfo"
rm -rf "$APP.new"
cp -R "$HERE/mediafind" "$APP.new"
cp "$HERE/uninstall.sh" "$APP.new/uninstall.sh"
rm -rf "$APP.old"
if [ -e "$APP" ]; then mv "$APP" "$APP.old"; fi
mv "$APP.new" "$APP"
rm -rf "$APP.old"
ln -sfn "$APP/mediafind" "$BIN/mediafind"

# The menu entry runs the app by its full path: ~/.local/bin is not on every desktop's PATH.
# A path with spaces is quoted, as the desktop entry format wants.
case "$BIN" in
    *" "*) exec_path="\"$BIN/mediafind\"" ;;
    *) exec_path="$BIN/mediafind" ;;
esac
sed -e "s|^Exec=mediafind |Exec=$exec_path |" -e "s|^TryExec=mediafind\$|TryExec=$BIN/mediafind|" \
    "$HERE/share/applications/$ID.desktop" > "$SHARE/applications/$ID.desktop"
cp "$HERE/share/metainfo/$ID.metainfo.xml" "$SHARE/metainfo/"
(cd "$HERE/share" && find icons -type f) | while read -r icon; do
    mkdir -p "$SHARE/$(dirname "$icon")"
    cp "$HERE/share/$icon" "$SHARE/$icon"
done

# Menus and icon themes pick the new files up sooner with fresh caches; where the tools are
# missing, desktops notice new files on their own.
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$SHARE/applications" || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$SHARE/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t -f "$SHARE/icons/hicolor" || true
fi

echo "mediafind $("$APP/mediafind" --version | cut -d' ' -f2) installed in $APP"
case ":$PATH:" in
    *":$BIN:"*) echo "start it from the menu, or run: mediafind" ;;
    *) echo "start it from the menu, or run: $BIN/mediafind ($BIN is not on your PATH)" ;;
esac
echo "to remove it: $APP/uninstall.sh"
