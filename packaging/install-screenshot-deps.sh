#!/bin/sh
# Installs what `make screenshot` needs to show the window on a virtual screen: Xvfb with
# xvfb-run, the X client libraries Qt's xcb plugin loads, and a font. Installs only what is
# missing, with apt-get (Debian, Ubuntu); elsewhere it names the packages to install.
set -eu

# Qt 6's xcb platform plugin: libxcb-cursor0 since Qt 6.5, the others for keyboard, window
# hints and images.
packages="xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1
libfontconfig1 fonts-dejavu-core"

if ! command -v dpkg-query >/dev/null 2>&1; then
    if command -v xvfb-run >/dev/null 2>&1; then
        exit 0
    fi
    echo "install-screenshot-deps: install Xvfb (xvfb-run) and Qt's xcb libraries" \
        "(libxcb-cursor and friends) with your system's package manager" >&2
    exit 1
fi

missing=""
for package in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in
        *"ok installed"*) ;;
        *) missing="$missing $package" ;;
    esac
done
if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "install-screenshot-deps: needs root to install:$missing" >&2
    exit 1
fi
echo "install-screenshot-deps: installing$missing"
$sudo apt-get update -qq
# shellcheck disable=SC2086 (the list is meant to split into words)
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
