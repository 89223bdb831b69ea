"""What the packages are made of, checked without building them (`make package-check` runs the
built ones): the files the PyInstaller spec bundles exist, the desktop entry and the metainfo
validate and agree with each other and with the app, every version comes from the package, and
the installers' scripts parse. Plus what the desktop entry's "Open With" relies on."""

from __future__ import annotations

import ast
import importlib.util
import os
import plistlib
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from configparser import ConfigParser
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mediafind import __version__, media, selftest
from mediafind.cli import build_parser, main
from mediafind.gui.app import DESKTOP_ID, SingleInstance, instance_name
from mediafind.raw import RAW_EXTENSIONS

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "mediafind.spec"
DESKTOP = PACKAGING / "linux" / f"{DESKTOP_ID}.desktop"
METAINFO = PACKAGING / "linux" / f"{DESKTOP_ID}.metainfo.xml"
INFO_PLIST = PACKAGING / "macos" / "Info.plist"
ISS = PACKAGING / "windows" / "mediafind.iss"
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
# The file name extensions the app indexes as photos, as MIME types.
PHOTO_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
    ".gif": "image/gif", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
    ".heic": "image/heic", ".heif": "image/heif",
    # Camera RAW, as shared-mime-info names them.
    ".dng": "image/x-adobe-dng", ".cr2": "image/x-canon-cr2", ".cr3": "image/x-canon-cr3",
    ".crw": "image/x-canon-crw", ".nef": "image/x-nikon-nef", ".nrw": "image/x-nikon-nrw",
    ".arw": "image/x-sony-arw", ".sr2": "image/x-sony-sr2", ".srf": "image/x-sony-srf",
    ".orf": "image/x-olympus-orf", ".rw2": "image/x-panasonic-rw2", ".raf": "image/x-fuji-raf",
    ".pef": "image/x-pentax-pef", ".mrw": "image/x-minolta-mrw",
}  # fmt: skip
# RAW kinds that shared-mime-info has no type for (Leica RWL, Samsung SRW, Hasselblad 3FR,
# Phase One IIQ, Epson ERF): indexed, but no file manager can offer them to the app by type.
UNTYPED = {".rwl", ".srw", ".3fr", ".iiq", ".erf"}


def _spec_literal(name: str) -> object:
    """The value of a top-level `name = <literal>` in the spec (which only PyInstaller runs)."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"no {name} = ... in {SPEC}")


def _desktop_entry() -> dict[str, str]:
    parser = ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return dict(parser["Desktop Entry"])


# -- the spec -----------------------------------------------------------------------------------


def test_the_spec_takes_its_version_from_the_package() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert "from mediafind import __version__" in text
    assert not re.search(r"version\s*=\s*['\"]\d", text)


def test_the_data_files_the_spec_bundles_exist() -> None:
    for size in (16, 22, 24, 32, 48, 64, 128, 256, 512):
        assert (ROOT / "resources" / "icons" / f"mediafind-{size}.png").is_file()
    assert (ROOT / "resources" / "mediafind.svg").is_file()
    tiny = ROOT / "mediafind" / "assets" / "tiny-clip"
    assert (tiny / "open_clip_config.json").is_file()
    assert (tiny / "open_clip_model.safetensors").is_file()
    assert (PACKAGING / "rthooks" / "torchvision_without_ops.py").is_file()
    assert INFO_PLIST.is_file()


def test_the_spec_bundles_the_tiny_model_where_the_self_test_looks() -> None:
    # In the bundle, the package's modules have their __file__ in sys._MEIPASS/mediafind.
    where = selftest.MODEL_DIR.relative_to(ROOT).as_posix()
    source = " / ".join(["ROOT", *(f'"{part}"' for part in where.split("/"))])
    assert f'(str({source}), "{where}")' in SPEC.read_text(encoding="utf-8")


def test_the_native_files_the_spec_collects_by_hand_exist() -> None:
    """The ones PyInstaller's analysis cannot see: sqlite-vec's loadable extension, open_clip's
    model configs and vocabulary, torchvision's ops library."""
    import sqlite_vec

    vec0 = Path(sqlite_vec.loadable_path())
    assert list(vec0.parent.glob(vec0.name + ".*"))
    spec = importlib.util.find_spec("open_clip")
    assert spec is not None and spec.origin is not None
    open_clip_dir = Path(spec.origin).parent
    assert (open_clip_dir / "model_configs" / "ViT-B-32.json").is_file()
    assert (open_clip_dir / "bpe_simple_vocab_16e6.txt.gz").is_file()
    vision = importlib.util.find_spec("torchvision")
    assert vision is not None and vision.origin is not None
    ops = [p for p in Path(vision.origin).parent.iterdir() if p.name.startswith("_C")]
    assert ops and all(p.suffix in (".so", ".pyd", ".dylib") for p in ops), ops


def test_every_hidden_import_of_the_spec_is_importable() -> None:
    names = _spec_literal("hiddenimports")
    assert isinstance(names, list)
    for name in names:
        assert importlib.util.find_spec(name) is not None, name


def test_the_runtime_hook_lets_torchvision_import_without_its_ops_library(
    tmp_path: Path,
) -> None:
    """The crash the hook prevents, reproduced: torchvision without its native library."""
    vision = importlib.util.find_spec("torchvision")
    assert vision is not None and vision.origin is not None
    copy = tmp_path / "torchvision"
    shutil.copytree(Path(vision.origin).parent, copy, ignore=shutil.ignore_patterns("_C*"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    probe = "import torchvision, torchvision.transforms; print('imported')"
    bare = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert "operator torchvision::nms does not exist" in bare.stderr
    hook = (PACKAGING / "rthooks" / "torchvision_without_ops.py").read_text(encoding="utf-8")
    hooked = subprocess.run(
        [sys.executable, "-c", hook + "\n" + probe], env=env, capture_output=True, text=True
    )
    assert hooked.stdout.strip() == "imported", hooked.stderr


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            {"LD_LIBRARY_PATH": "/bundle", "LD_LIBRARY_PATH_ORIG": "/usr/local/lib"},
            "/usr/local/lib",
        ),
        ({"LD_LIBRARY_PATH": "/bundle"}, None),
    ],
)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux runtime hook")
def test_programs_the_frozen_app_starts_get_the_users_library_path(
    before: dict[str, str], after: str | None
) -> None:
    hook = (PACKAGING / "rthooks" / "child_environment.py").read_text(encoding="utf-8")
    probe = (
        "import os, sys; sys.frozen = True\n" + hook + "\nprint(os.environ.get('LD_LIBRARY_PATH'))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LD_LIBRARY_PATH")}
    run = subprocess.run(
        [sys.executable, "-c", probe], env={**env, **before}, capture_output=True, text=True
    )
    assert run.stdout.strip() == str(after), run.stderr


# -- Linux desktop files --------------------------------------------------------------------------


def test_the_desktop_entry_opens_pictures_through_the_window() -> None:
    entry = _desktop_entry()
    assert entry["Exec"] == "mediafind gui %f"
    assert build_parser().parse_args(["gui", "photo.jpg"]).picture == "photo.jpg"
    assert set(entry["MimeType"].strip(";").split(";")) == {
        PHOTO_TYPES[ext] for ext in media.PHOTO_EXTENSIONS - UNTYPED
    }
    assert UNTYPED < RAW_EXTENSIONS
    assert entry["Icon"] == "mediafind"  # the hicolor name the packages install, icons.py's too


def test_the_metainfo_agrees_with_the_desktop_entry_and_the_package() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == DESKTOP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == "mediafind"
    types = {e.text for e in root.findall("provides/mediatype")}
    assert types == set(_desktop_entry()["MimeType"].strip(";").split(";"))
    newest = root.find("releases/release")
    assert newest is not None and newest.get("version") == __version__
    assert root.find("content_rating") is not None
    for image in root.findall("screenshots/screenshot/image"):
        name = (image.text or "").rsplit("/", 1)[-1]
        assert re.fullmatch(r"\d\d-[a-z-]+\.png", name), name  # packaging/screenshots.py's


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils")
def test_the_desktop_entry_validates() -> None:
    run = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert run.returncode == 0 and "error" not in run.stdout, run.stdout


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream")
def test_the_metainfo_validates() -> None:
    run = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_linux_scripts_parse() -> None:
    for script in [
        *sorted((PACKAGING / "linux").glob("*.sh")),
        *sorted((PACKAGING / "macos").glob("*.sh")),
        PACKAGING / "build-venv.sh",
    ]:
        assert os.access(script, os.X_OK), script
        run = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert run.returncode == 0, f"{script}: {run.stderr}"


# -- Windows and macOS ----------------------------------------------------------------------------


def test_the_windows_installer_is_per_user_and_takes_the_version_from_outside() -> None:
    text = ISS.read_text(encoding="utf-8")
    assert "PrivilegesRequired=lowest" in text
    assert "AppVersion={#AppVersion}" in text
    assert not re.search(r"^AppVersion=\d", text, re.MULTILINE)
    assert "CurUninstallStepChanged" in text  # asks whether to keep the library
    assert "{autoprograms}\\mediafind" in text  # the Start-menu entry


def test_the_app_bundle_settings() -> None:
    with open(INFO_PLIST, "rb") as f:
        info = plistlib.load(f)
    assert info["CFBundleIdentifier"] == DESKTOP_ID
    assert info["NSHighResolutionCapable"] is True
    assert info["LSMinimumSystemVersion"]
    types = info["CFBundleDocumentTypes"][0]["LSItemContentTypes"]
    assert {"public.jpeg", "public.png", "public.heic"} <= set(types)
    with open(PACKAGING / "macos" / "entitlements.plist", "rb") as f:
        entitlements = plistlib.load(f)
    assert set(entitlements) == {
        "com.apple.security.cs.allow-unsigned-executable-memory",
        "com.apple.security.cs.disable-library-validation",
    }


def test_the_icons_for_windows_and_macos_are_made_from_the_pngs(tmp_path: Path) -> None:
    from PIL import Image

    run = subprocess.run(
        [sys.executable, str(PACKAGING / "make_icons.py"), "--out", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    with Image.open(tmp_path / "mediafind.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    with Image.open(tmp_path / "mediafind.icns") as icns:
        assert icns.size == (1024, 1024)


def test_the_release_workflow_reads_the_version_from_the_package() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "mediafind/__init__.py" in text
    assert "/DAppVersion=${{ steps.version.outputs.version }}" in text
    assert "--self-test" in text


# -- "Open With" ---------------------------------------------------------------------------------


def test_a_picture_that_is_not_there_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gui", "/nonexistent/picture.jpg"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_second_start_with_a_picture_hands_it_to_the_first(qtbot: QtBot, tmp_path: Path) -> None:
    name = instance_name(tmp_path / f"library-{os.getpid()}")
    first = SingleInstance(name)
    assert first.claim()
    picture = tmp_path / "holiday photo.jpg"
    picture.write_bytes(b"")
    try:
        with qtbot.waitSignal(first.picture_received, timeout=5000) as received:
            assert not SingleInstance(name).claim(picture)
        assert received.args == [str(picture)]
    finally:
        first.release()
