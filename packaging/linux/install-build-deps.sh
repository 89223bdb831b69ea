#!/bin/sh
# Installs what `make package-check` needs besides the venv: the validators of the desktop
# entry and the AppStream metainfo (appstreamcli from `appstream`, desktop-file-validate from
# `desktop-file-utils`), and dpkg-deb for the .deb. Installs only what is missing, with apt-get
# (Debian, Ubuntu); elsewhere it names the tools to install.
set -eu

# command the check runs -> the Debian package that provides it
needs="appstreamcli:appstream desktop-file-validate:desktop-file-utils dpkg-deb:dpkg"

missing=""
for pair in $needs; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -z "$missing" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-build-deps: install these with your system's package manager:$missing" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "install-build-deps: needs root to install:$missing" >&2
    exit 1
fi
echo "install-build-deps: installing$missing"
$sudo apt-get update -qq
# shellcheck disable=SC2086 # the list is meant to split into words
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
