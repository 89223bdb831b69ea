#!/bin/sh
# Turns the PyInstaller bundle (dist/mediafind/) into what users download:
#   dist/mediafind-VERSION-linux-x86_64.tar.gz  unpack, run ./install.sh (into ~/.local)
#   dist/mediafind_VERSION_amd64.deb            sudo apt install ./mediafind_VERSION_amd64.deb
# Both carry the desktop entry, the AppStream metainfo and the icons in the hicolor sizes.
#
#   packaging/linux/make-dist.sh [DIST]   (default DIST: dist)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIST=${1:-$ROOT/dist}
ID=io.github.mediafind.Mediafind
LINUX="$ROOT/packaging/linux"
BUNDLE="$DIST/mediafind"
# The version the bundle itself reports: the package's, and proof that the bundle starts.
VERSION=$("$BUNDLE/mediafind" --version | cut -d' ' -f2)
ARCH=$(uname -m)
DEB_ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)

# share/: the same tree for the archive (copied to ~/.local/share) and the .deb (/usr/share).
stage_share() {
    share=$1
    mkdir -p "$share/applications" "$share/metainfo" "$share/icons/hicolor/scalable/apps"
    cp "$LINUX/$ID.desktop" "$share/applications/"
    cp "$LINUX/$ID.metainfo.xml" "$share/metainfo/"
    for png in "$ROOT"/resources/icons/mediafind-*.png; do
        size=$(basename "$png" .png | sed 's/^mediafind-//')
        mkdir -p "$share/icons/hicolor/${size}x${size}/apps"
        cp "$png" "$share/icons/hicolor/${size}x${size}/apps/mediafind.png"
    done
    cp "$ROOT/resources/mediafind.svg" "$share/icons/hicolor/scalable/apps/mediafind.svg"
}

work="$ROOT/build/linux-dist"
rm -rf "$work"
mkdir -p "$work"

# -- the archive ----------------------------------------------------------------------------------
name="mediafind-$VERSION"
tree="$work/$name"
mkdir -p "$tree"
cp -R "$BUNDLE" "$tree/mediafind"
stage_share "$tree/share"
cp "$LINUX/install.sh" "$LINUX/uninstall.sh" "$tree/"
cat > "$tree/README.txt" <<TXT
mediafind $VERSION for Linux ($ARCH)

  ./install.sh                 installs it for you (into ~/.local): menu entry and \`mediafind\`
  ~/.local/lib/mediafind/uninstall.sh   removes it again, asking whether to keep your library

Or run it from here without installing: ./mediafind/mediafind
Check the installation: mediafind --self-test
TXT
tarball="$DIST/mediafind-$VERSION-linux-$ARCH.tar.gz"
tar -C "$work" -czf "$tarball" "$name"
echo "wrote $tarball"

# -- the .deb -------------------------------------------------------------------------------------
if command -v dpkg-deb >/dev/null 2>&1; then
    root="$work/deb"
    mkdir -p "$root/opt" "$root/usr/bin" "$root/DEBIAN"
    cp -R "$BUNDLE" "$root/opt/mediafind"
    ln -s /opt/mediafind/mediafind "$root/usr/bin/mediafind"
    stage_share "$root/usr/share"
    size=$(du -sk "$root" | cut -f1)
    # The newest C library the bundle's binaries ask for: its Python, libstdc++ and Qt come from
    # the build machine and its wheels, so this follows the machine it was built on.
    glibc=$(find "$BUNDLE" -type f \( -name '*.so*' -o -name mediafind \) -exec objdump -T {} + \
        2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
    # Depends: what the bundle takes from the system rather than carrying it (the C library,
    # OpenGL/EGL, fontconfig and the X11 libraries Qt's xcb plugin needs since Qt 6.5).
    cat > "$root/DEBIAN/control" <<CONTROL
Package: mediafind
Version: $VERSION
Architecture: $DEB_ARCH
Maintainer: The mediafind developers <mediafind@users.noreply.github.com>
Installed-Size: $size
Depends: libc6 (>= ${glibc:-2.28}), libegl1, libgl1, libfontconfig1, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-image0, libxcb-render-util0, libxcb-shape0
Section: graphics
Priority: optional
Homepage: https://github.com/mediafind/mediafind
Description: search your own photos and notes by what they show and say
 Type words and get the photos that show them; give it a picture and get the
 notes, documents and captions that talk about it, and the photos that look
 like it. Everything runs on this computer (OpenCLIP models, one SQLite file).
CONTROL
    # Menus and icon caches are refreshed by dpkg triggers (desktop-file-utils, hicolor); the
    # library lives in each user's home and is left alone on removal.
    deb="$DIST/mediafind_${VERSION}_${DEB_ARCH}.deb"
    # gzip: several times faster to build than xz for ~850 MB, and read by every dpkg.
    dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
    echo "wrote $deb"
fi
rm -rf "$work"
