#!/bin/sh
# Notarises and staples mediafind: the .app first (so that it passes Gatekeeper even offline
# once copied out of the disk image), then the disk image users download.
#
#   packaging/macos/notarize.sh dist/mediafind.app dist/mediafind-VERSION-macos-arm64.dmg "IDENTITY"
#
# Credentials for notarytool come from the environment (App Store Connect API key, as the
# release workflow stores them): NOTARY_KEY_PATH (the .p8 file), NOTARY_KEY_ID, NOTARY_ISSUER.
# Each submission takes a few minutes; --wait returns Apple's verdict, and the log of a rejected
# one says which file was at fault.
set -eu

APP=${1:?usage: notarize.sh APP DMG IDENTITY}
DMG=${2:?the disk image to write}
IDENTITY=${3:?the signing identity}
AUTH="--key ${NOTARY_KEY_PATH:?} --key-id ${NOTARY_KEY_ID:?} --issuer ${NOTARY_ISSUER:?}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

submit() {
    # shellcheck disable=SC2086 # AUTH is meant to split into options
    out=$(xcrun notarytool submit "$1" $AUTH --wait --output-format json) || true
    echo "$out"
    id=$(echo "$out" | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p')
    if ! echo "$out" | grep -q '"status" *: *"Accepted"'; then
        # shellcheck disable=SC2086
        [ -n "$id" ] && xcrun notarytool log "$id" $AUTH
        echo "notarize.sh: $1 was not accepted" >&2
        exit 1
    fi
}

# 1. The app, as a zip (notarytool takes zip, dmg or pkg); the ticket is stapled to the app.
ditto -c -k --sequesterRsrc --keepParent "$APP" "$work/mediafind.zip"
submit "$work/mediafind.zip"
xcrun stapler staple "$APP"

# 2. The disk image holding the stapled app and a link to /Applications, signed, notarised and
#    stapled in its turn (Gatekeeper checks the image when it is opened).
mkdir "$work/dmg"
ditto "$APP" "$work/dmg/$(basename "$APP")"
ln -s /Applications "$work/dmg/Applications"
rm -f "$DMG"
hdiutil create -volname mediafind -srcfolder "$work/dmg" -fs HFS+ -format UDZO -ov "$DMG"
codesign --force --timestamp --sign "$IDENTITY" "$DMG"
submit "$DMG"
xcrun stapler staple "$DMG"
xcrun stapler validate "$DMG"
spctl --assess --type open --context context:primary-signature --verbose=2 "$DMG"
echo "notarize.sh: $DMG is notarised and stapled"
