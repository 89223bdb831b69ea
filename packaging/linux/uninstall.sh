#!/bin/sh
# Removes mediafind as install.sh installed it, then asks whether to keep your library (the
# index of your photos and notes, with the settings). Your photos and notes are never touched.
#
#   uninstall.sh [--prefix DIR] [--keep-library | --remove-library]
#
# Without a terminal to ask on and without either option, the library is kept.
set -eu

ID=io.github.mediafind.Mediafind
HERE=$(cd "$(dirname "$0")" && pwd)
# Installed as PREFIX/lib/mediafind/uninstall.sh: PREFIX is two folders up. From the unpacked
# archive, the default is ~/.local, like install.sh's.
if [ "$(basename "$HERE")" = mediafind ] && [ -x "$HERE/mediafind" ]; then
    PREFIX=${PREFIX:-$(cd "$HERE/../.." && pwd)}
else
    PREFIX=${PREFIX:-$HOME/.local}
fi
choice=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#--prefix=}; shift ;;
        --keep-library) choice=keep; shift ;;
        --remove-library) choice=remove; shift ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "uninstall.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
APP="$PREFIX/lib/mediafind"
SHARE="$PREFIX/share"

# Where the app keeps its things: the same rules as mediafind/config.py (environment, then the
# settings file's `library`, then the XDG folders platformdirs uses).
config_dir=${MEDIAFIND_CONFIG_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/mediafind}
data_dir=${MEDIAFIND_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/mediafind}
cache_dir=${MEDIAFIND_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mediafind}
log_dir=${XDG_STATE_HOME:-$HOME/.local/state}/mediafind
library=${MEDIAFIND_LIBRARY:-}
if [ -z "$library" ] && [ -f "$config_dir/settings.toml" ]; then
    library=$(sed -n 's/^library *= *"\(.*\)" *$/\1/p' "$config_dir/settings.toml" | head -n 1)
fi
library=${library:-$data_dir/library}
case "$library" in "~"/*) library="$HOME/${library#"~/"}" ;; esac

# The program, its command, menu entry, metadata and icons.
if [ -L "$PREFIX/bin/mediafind" ]; then
    case "$(readlink "$PREFIX/bin/mediafind")" in
        "$APP"/*) rm -f "$PREFIX/bin/mediafind" ;;
    esac
fi
rm -f "$SHARE/applications/$ID.desktop" "$SHARE/metainfo/$ID.metainfo.xml"
find "$SHARE/icons/hicolor" -path '*/apps/mediafind.*' \( -name mediafind.png -o \
    -name mediafind.svg \) -exec rm -f {} + 2>/dev/null || true
if command -v update-desktop-database >/dev/null 2>&1 && [ -d "$SHARE/applications" ]; then
    update-desktop-database -q "$SHARE/applications" || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$SHARE/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t -f "$SHARE/icons/hicolor" || true
fi
rm -rf "$APP"
echo "mediafind removed from $PREFIX"

# The library: kept unless the user says otherwise.
if [ -z "$choice" ] && [ -e "$library" ] && [ -t 0 ]; then
    size=$(du -sh "$library" 2>/dev/null | cut -f1)
    printf 'Keep your library (%s in %s) and settings, for a later install? [Y/n] ' \
        "${size:-?}" "$library"
    read -r answer || answer=""
    case "$answer" in [nN]*) choice=remove ;; *) choice=keep ;; esac
fi
if [ "$choice" = remove ]; then
    # Only the library's own files (the database, its journal, lock and migration backups): the
    # library setting may name a folder that holds other things too.
    rm -f "$library"/library.sqlite3*
    rmdir "$library" "$data_dir" 2>/dev/null || true
    rm -rf "$config_dir" "$cache_dir" "$log_dir"
    echo "library, settings, cache and logs removed"
elif [ -e "$library" ]; then
    echo "kept your library in $library and settings in $config_dir"
fi
echo "downloaded models stay in the Hugging Face cache (${HF_HOME:-$HOME/.cache/huggingface})," \
    "which other programs may share"
