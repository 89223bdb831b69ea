#!/bin/sh
# Signs mediafind.app for the hardened runtime, inside-out: every Mach-O file in the bundle
# (dylibs, .so extension modules, Qt frameworks' binaries, helper executables) first, deepest
# first, then the frameworks, then the main executable with the entitlements, then the .app.
# Notarisation rejects a bundle with any unsigned or ad-hoc-signed binary, and `codesign --deep`
# would give every binary the main executable's entitlements and is deprecated for signing.
#
#   packaging/macos/sign.sh dist/mediafind.app "Developer ID Application: NAME (TEAMID)"
set -eu

APP=${1:?usage: sign.sh path/to/mediafind.app "Developer ID Application: ..."}
IDENTITY=${2:?the signing identity (security find-identity -v -p codesigning)}
ENTITLEMENTS="$(cd "$(dirname "$0")" && pwd)/entitlements.plist"
# --timestamp: a secure timestamp (notarisation requires it); runtime: the hardened runtime.
SIGN="codesign --force --timestamp --options runtime --sign"

list="$(mktemp)"
trap 'rm -f "$list"' EXIT

# 1. Every Mach-O file that is not the main executable, deepest path first (by slash count), so
#    that nothing is signed before what it contains. Symlinks are skipped: their targets are
#    signed where they are.
find "$APP/Contents" -type f ! -path "$APP/Contents/MacOS/mediafind" -print0 |
    xargs -0 file --no-pad | grep -E ': +Mach-O' | sed 's/: .*//' |
    awk -F/ '{ print NF "\t" $0 }' | sort -rn | cut -f2- > "$list"
count=0
while IFS= read -r binary; do
    $SIGN "$IDENTITY" "$binary"
    count=$((count + 1))
done < "$list"
echo "sign.sh: signed $count libraries and helpers"

# 2. Framework bundles (PySide6's Qt*.framework): their Versions/A folder is a bundle of its own,
#    sealed after its binary is signed.
find "$APP/Contents" -type d -name '*.framework' | awk -F/ '{ print NF "\t" $0 }' | sort -rn |
    cut -f2- | while IFS= read -r framework; do
    if [ -d "$framework/Versions/A" ]; then
        $SIGN "$IDENTITY" "$framework/Versions/A"
    fi
done

# 3. The main executable with the hardened-runtime exceptions, then the bundle itself.
$SIGN "$IDENTITY" --entitlements "$ENTITLEMENTS" "$APP/Contents/MacOS/mediafind"
$SIGN "$IDENTITY" --entitlements "$ENTITLEMENTS" "$APP"

codesign --verify --strict --deep --verbose=2 "$APP"
# What Gatekeeper will say once notarised ("source=Notarized Developer ID"); before that it is
# expected to reject, so this only informs.
spctl --assess --type execute --verbose=2 "$APP" || true
