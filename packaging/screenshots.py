"""Screenshots of the window on a generated sample folder, with the project's tiny model:

    01-first-run      the welcome page of an empty library
    02-indexing       a folder being indexed, results arriving while it runs
    03-text-query     results for "a red circle"
    04-dropped-image  results for a dropped picture of a green square, a note previewed
    05-model-missing  the banner when the model cannot be loaded; word search still works
    06-folders        the folders dialog: a file that could not be read (chosen, with its
                      actions) and empty files listed as information
    07-settings       the settings dialog
    08-browse         the library with no query: newest first, by month, the month pinned
    09-viewer         a photo full size in the window
    10-search-tips    the search tips popover under the field
    11-notes-pages    notes with their type, page and heading; a Markdown note rendered
    12-menu           a photo's menu with the keys of its actions
    13-scale-2        the window at 200 % (run with --scale 2)
    14-check-library  Help → Check Library on a library whose keyword index was damaged
    15-text-in-picture  a word read in a screenshot found, its line marked in the preview
    16-people-places  person:Anna: the photo's people, place and coordinates in the preview
    17-search-report  Help → How Well Does Search Work on My Photos? on the captioned photos
    18-duplicates     Edit → Find Duplicates…: copies of holiday photos, the keepers ticked

    make screenshot                       # under Xvfb, light and dark themes, and at 200 %
    .venv/bin/python packaging/screenshots.py --out build/screenshots [--theme dark] [--scale 2]

Nothing here touches the user's own settings, library or caches: everything lives in a
temporary folder (HOME included, so that the suggested Pictures and Documents folders are the
sample's own).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediafind.gui.window import MainWindow

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "mediafind" / "assets" / "tiny-clip"
SIZE = (1200, 760)
# The tiny model reads a picture in a millisecond; slowed to this, indexing the sample takes
# long enough to be photographed halfway, as a real model on a laptop would look.
INDEXING_DELAY_S = 0.03


def make_sample(home: Path, seed: int = 2024) -> Path:
    """A home folder with Pictures (photos of coloured shapes in a few albums, named as
    cameras name them, one damaged) and Documents (notes that mention the shapes)."""
    from mediafind import shapes

    rng = random.Random(seed)
    pictures = home / "Pictures"
    albums = ["Camera/2024-06 Holiday", "Camera/2024-09 School", "Drawings", "Phone"]
    pairs = [(c, s) for c in shapes.COLOURS for s in shapes.SHAPES]
    number = 1000
    captioned = 0
    for k in range(20):
        for colour, shape in pairs:
            album = pictures / albums[(k + number) % len(albums)]
            album.mkdir(parents=True, exist_ok=True)
            number += rng.randint(1, 4)
            shapes.render(colour, shape, rng).save(album / f"IMG_{number:04}.jpg", quality=88)
            if album.name == "Drawings" and captioned < CAPTIONED:
                # Captions, as a photo app writes them beside the photos: what the search
                # report measures.
                caption = album / f"IMG_{number:04}.jpg.txt"
                caption.write_text(shapes.caption(colour, shape, rng), encoding="utf-8")
                captioned += 1
            # When each album was shot (the photos carry no camera date: the file's time is it).
            month = ALBUM_MONTHS[album.name]
            taken = datetime(*month, 1 + (number % 27), 9 + number % 10, tzinfo=UTC).timestamp()
            os.utime(album / f"IMG_{number:04}.jpg", (taken, taken))
    write_trip(pictures / "Camera" / "2025-05 Lisbon", rng)
    write_copies(pictures, rng)
    write_screenshot(pictures / "Screenshots" / "Screenshot 2026-11-20 at 09.14.png")
    (pictures / "Phone" / "IMG_9999.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    (pictures / "Phone" / "IMG_9998.jpg").write_bytes(b"")  # a copy that failed
    notes = home / "Documents" / "Notes"
    notes.mkdir(parents=True)
    for day, (colour, shape) in enumerate(pairs, start=1):
        title = f"2024-10-{day:02} diary"
        body = shapes.note(colour, shape, rng)
        (notes / f"{title}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    (notes / "Art club plan.md").write_text(ART_CLUB, encoding="utf-8")

    write_pdf(home / "Documents" / "Reports" / "Playground survey.pdf", SURVEY_PAGES)
    return home


CAPTIONED = 30  # photos in Drawings with a caption beside them
ALBUM_MONTHS = {"2024-06 Holiday": (2024, 6), "2024-09 School": (2024, 9),
                "Drawings": (2025, 3), "Phone": (2025, 11)}  # fmt: skip
# A trip: where each photo was taken (degrees, south and west negative) and who is in it, as
# digiKam writes faces into an XMP sidecar.
TRIP = [
    ("IMG_5001.jpg", (38.7139, -9.1394), ("Anna",), ("red", "circle")),
    ("IMG_5002.jpg", (38.7139, -9.1394), ("Anna", "Tomás"), ("blue", "square")),
    ("IMG_5003.jpg", (38.6916, -9.2160), ("Tomás",), ("yellow", "triangle")),
    ("IMG_5004.jpg", (41.1496, -8.6110), ("Anna",), ("green", "circle")),
    ("IMG_5005.jpg", (41.1496, -8.6110), (), ("blue", "triangle")),
]
SIDECAR = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
    xmlns:digiKam="http://www.digikam.org/ns/1.0/">
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:RegionList>
     <rdf:Bag>{regions}
     </rdf:Bag>
    </mwg-rs:RegionList>
   </mwg-rs:Regions>
   <digiKam:TagsList>
    <rdf:Seq>{tags}
    </rdf:Seq>
   </digiKam:TagsList>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""
REGION = """
      <rdf:li rdf:parseType="Resource">
       <mwg-rs:Name>{name}</mwg-rs:Name>
       <mwg-rs:Type>Face</mwg-rs:Type>
       <mwg-rs:Area stArea:x="{x:.3f}" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"
        stArea:unit="normalized"/>
      </rdf:li>"""


def write_trip(album: Path, rng: random.Random) -> None:
    """Photos with GPS positions in Lisbon and Porto, faces named in digiKam's sidecars."""
    from PIL import Image

    from mediafind import shapes

    album.mkdir(parents=True, exist_ok=True)
    taken = datetime(2025, 5, 17, 11, tzinfo=UTC).timestamp()
    for name, (lat, lon), people, (colour, shape) in TRIP:
        exif = Image.Exif()
        exif.get_ifd(0x8825).update(
            {1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)}
        )
        shapes.render(colour, shape, rng).save(album / name, quality=88, exif=exif)
        os.utime(album / name, (taken, taken))
        if people:
            regions = "".join(REGION.format(name=p, x=0.2 + 0.4 * i) for i, p in enumerate(people))
            tags = "".join(f"\n     <rdf:li>People/{p}</rdf:li>" for p in people)
            sidecar = SIDECAR.format(regions=regions, tags=tags)
            (album / f"{name}.xmp").write_text(sidecar, encoding="utf-8")


def write_copies(pictures: Path, rng: random.Random) -> None:
    """Copies as they pile up: a holiday photo sent back by a messenger (smaller, recompressed),
    one saved twice, one edited a little brighter."""
    from PIL import Image, ImageEnhance

    holiday = sorted((pictures / "Camera" / "2024-06 Holiday").glob("IMG_*.jpg"))
    phone = pictures / "Phone"
    with Image.open(holiday[3]) as photo:
        photo.reduce(2).save(phone / "IMG-20240614-WA0007.jpg", quality=70)
    (phone / f"{holiday[7].stem} (1).jpg").write_bytes(holiday[7].read_bytes())
    with Image.open(holiday[11]) as photo:
        brighter = ImageEnhance.Brightness(photo.convert("RGB")).enhance(1.15)
        brighter.save(phone / f"{holiday[11].stem}-edited.jpg", quality=90)
    for copy in phone.glob("IMG*-*.jpg"):
        taken = holiday[0].stat().st_mtime + rng.randint(86_400, 5 * 86_400)
        os.utime(copy, (taken, taken))


def _dms(degrees: float) -> tuple[float, float, float]:
    """EXIF's degrees, minutes and seconds of an angle (its sign goes in the reference)."""
    degrees = abs(degrees)
    minutes = (degrees % 1) * 60
    return float(int(degrees)), float(int(minutes)), round((minutes % 1) * 60, 2)


ART_CLUB = """# Art club plan

What the children make this term, and what it costs.

## Materials

- card in **red**, blue and yellow
- scissors, glue, a *big* roll of paper

## Budget

Thirty euros for the term: the red circle posters first, then the yellow triangle kites.
"""
SURVEY_PAGES = [
    ["Playground survey", "Prepared for the parents' meeting."],
    ["Page two: the climbing frame.", "Its paint is peeling; the blue square panels need work."],
    ["Page three: the mural.", "The children want a yellow triangle and a red circle on it."],
]


def write_screenshot(path: Path) -> None:
    """A settings screen with the words a person later looks for (read by OCR)."""
    from PIL import Image, ImageDraw, ImageFont

    path.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.new("RGB", (1280, 800), (246, 246, 248))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, 1280, 56), fill=(52, 120, 246))
    draw.text((32, 14), "Network", fill="white", font=ImageFont.load_default(size=26))
    font = ImageFont.load_default(size=28)
    for k, line in enumerate(["Home network: Lighthouse-5G", "Wifi password: seashell42",
                              "Router admin page: 192.168.1.1"]):  # fmt: skip
        draw.text((64, 120 + 80 * k), line, fill=(30, 30, 30), font=font)
    picture.save(path)


def write_pdf(path: Path, pages: list[list[str]]) -> None:
    """A PDF with a text layer, a page per list of lines (reportlab, a development tool)."""
    from reportlab.pdfgen.canvas import Canvas

    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = Canvas(str(path), invariant=True)
    for lines in pages:
        for k, line in enumerate(lines):
            canvas.drawString(72, 760 - 18 * k, line)
        canvas.showPage()
    canvas.save()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="the screen's scale: 2 draws 13-scale-2 only"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.theme == "light" else "-dark"
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = f"{args.scale:g}"
    with tempfile.TemporaryDirectory(prefix="mediafind-screens-") as tmp:
        base = Path(tmp)
        home = make_sample(base / "home")
        os.environ.update(
            {
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(base / "xdg-config"),
                "XDG_STATE_HOME": str(base / "xdg-state"),
                "MEDIAFIND_CONFIG_DIR": str(base / "config"),
                "MEDIAFIND_DATA_DIR": str(base / "data"),
                "MEDIAFIND_CACHE_DIR": str(base / "cache"),
                "MEDIAFIND_THEME": args.theme,
            }
        )
        for name in ("MEDIAFIND_LIBRARY", "MEDIAFIND_MODEL", "MEDIAFIND_DEVICE"):
            os.environ.pop(name, None)
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            print("no display: drawing offscreen (run under xvfb-run for the real thing)")
        shots = Session(home, args.out, suffix)
        return shots.run_scaled() if args.scale != 1.0 else shots.run()


class Session:
    """Drives the real window through the scenes, one after the other."""

    def __init__(self, home: Path, out: Path, suffix: str) -> None:
        from mediafind.gui.app import make_application

        self.home = home
        self.out = out
        self.suffix = suffix
        self.app = make_application([sys.argv[0]])
        self.model = f"local-dir:{TINY}"

    def open(self, model: str | None = None) -> tuple[object, object]:
        from mediafind import config
        from mediafind.gui.bridge import SessionBridge
        from mediafind.gui.window import MainWindow
        from mediafind.session import Options, Session

        # The model as a user chooses it, in the settings (not forced by --model).
        config.save_settings(config.Settings(model=model or self.model))
        session = Session(Options(), _SlowedSource() if model is None else None, tolerant=True)
        window = MainWindow(SessionBridge(session))
        window.resize(*SIZE)
        window.show()
        session.start()
        self.wait(lambda: not session.starting)
        return window, session

    def wait(self, condition: Callable[[], bool], timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit("screenshots: the window did not get there in time")
            self.app.processEvents()
            time.sleep(0.01)

    def settle(self, seconds: float = 0.6) -> None:
        """Let thumbnails arrive and paint."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.app.processEvents()
            time.sleep(0.01)

    def shoot(self, widget: object, name: str) -> None:
        from PySide6.QtWidgets import QWidget

        assert isinstance(widget, QWidget)
        self.settle(0.3)
        path = self.out / f"{name}{self.suffix}.png"
        widget.grab().save(str(path))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def run(self) -> int:
        from PySide6.QtCore import QMimeData, Qt, QUrl
        from PySide6.QtGui import QDragEnterEvent, QDropEvent

        from mediafind import shapes
        from mediafind.gui.window import MainWindow
        from mediafind.keeper import INDEXING

        window, session = self.open()
        assert isinstance(window, MainWindow)
        self.wait(lambda: window.pages.currentWidget() is window.welcome)
        self.shoot(window, "01-first-run")

        window.search_field.line.setText("a yellow triangle")
        window.search()
        window.add_folder(self.home / "Pictures")
        window.add_folder(self.home / "Documents")

        def halfway() -> bool:
            status = window.session.status()
            return (
                status.state == INDEXING
                and status.total > 0
                and 0.35 < status.done / status.total < 0.8
                and window.pane.photos_model.rowCount() >= 4
            )

        self.wait(halfway)
        self.settle(1.0)
        self.shoot(window, "02-indexing")
        self.wait(lambda: window.session.status().state == "idle", timeout=600)

        window.search_field.clear_all()
        window.search_field.line.setText("a red circle")
        window.search()
        self.wait(lambda: _final(window))
        self.settle(1.0)
        self.shoot(window, "03-text-query")

        picture = self.home / "Downloads" / "green square.png"
        picture.parent.mkdir(parents=True, exist_ok=True)
        shapes.render("green", "square", random.Random(77)).save(picture)
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(picture))])
        centre = window.rect().center()
        how = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0))
        self.app.sendEvent(window, QDragEnterEvent(centre, *how))  # as a file manager does
        self.app.sendEvent(window, QDropEvent(centre, *how))
        self.wait(lambda: _final(window) and window.pane.notes_model.rowCount() > 0)
        window.pane.notes.setCurrentIndex(window.pane.notes_model.index(0))
        self.settle(1.0)
        self.shoot(window, "04-dropped-image")

        self.browse_view_tips_notes_menu(window)

        dialog = window.open_folders()
        self.wait(lambda: dialog.errors.tree.topLevelItemCount() > 1)
        dialog.resize(760, 520)
        dialog.errors.tree.topLevelItem(0).setSelected(True)
        self.shoot(dialog, "06-folders")
        dialog.close()

        from mediafind.gui.settings_dialog import SettingsDialog

        settings = SettingsDialog(window.session, 300, window)
        settings.show()
        self.shoot(settings, "07-settings")
        settings.close()

        # Damage the keyword index behind the window's back, as a failing disk would.
        import apsw

        damage = apsw.Connection(str(window.session.library_file))
        damage.execute("DELETE FROM chunks_fts_data WHERE id > 10")
        damage.close()
        check = window.check_library()
        self.wait(lambda: check.report is not None)
        self.shoot(check, "14-check-library")
        check.repair()
        self.wait(lambda: check.repaired is not None and check.report is not None)
        check.close()
        window.close()
        session.stop()  # type: ignore[attr-defined]

        missing = f"local-dir:{self.home / 'Downloads' / 'ViT-B-32'}"
        window, session = self.open(missing)
        assert isinstance(window, MainWindow)
        window.search_field.line.setText("green square")
        window.search()
        self.wait(lambda: _final(window) and window.pane.notes_model.rowCount() > 0)
        self.settle(1.0)
        self.shoot(window, "05-model-missing")
        window.close()
        session.stop()  # type: ignore[attr-defined]
        return 0

    def browse_view_tips_notes_menu(self, window: MainWindow) -> None:
        """08 to 12: browsing, the viewer, the search tips, notes with pages, a photo's menu."""
        from PySide6.QtCore import Qt

        from mediafind.gui.noteslist import heading_of

        window.search_field.clear_all()
        window.search()
        self.wait(lambda: _final(window) and window.pane.photos_model.rowCount() > 100)
        grid = window.pane.photos
        grid.setFocus()
        grid.verticalScrollBar().setValue(grid.verticalScrollBar().maximum() // 3)
        self.settle(1.0)
        self.shoot(window, "08-browse")

        grid.setCurrentIndex(window.pane.photos_model.index(5))
        window.pane.view_wanted.emit(5)
        self.wait(lambda: window.viewer.canvas.showing)
        self.settle(0.5)
        self.shoot(window, "09-viewer")
        window.viewer.close_viewer()

        window.search_field.set_text("red ")
        window.search_field.setFocus()
        self.wait(lambda: _final(window))
        window.search_field.show_tips()
        self.settle(0.5)
        self.shoot_screen(window, "10-search-tips")
        window.search_field.tips.close()

        window.search_field.set_text("yellow triangle")
        window.set_kind("note")
        self.wait(lambda: _final(window) and window.pane.notes_model.rowCount() > 2)
        notes = window.pane.notes_model
        plan = next(r for r in range(notes.rowCount()) if heading_of(notes.hit(r)))
        window.pane.notes.setFocus()
        window.pane.notes.setCurrentIndex(notes.index(plan))
        self.settle(1.0)
        self.shoot(window, "11-notes-pages")

        window.set_kind("all")
        window.search_field.set_text("a red circle")
        self.wait(lambda: _final(window) and window.pane.photos_model.rowCount() > 4)
        grid.setFocus()
        index = window.pane.photos_model.index(1)
        grid.setCurrentIndex(index)
        menu = window.pane.result_menu(grid, index)
        menu.popup(grid.viewport().mapToGlobal(grid.visualRect(index).center()))
        self.settle(0.5)
        self.shoot_screen(window, "12-menu")
        menu.close()
        window.search_field.setFocus(Qt.FocusReason.OtherFocusReason)

        window.search_field.set_text("wifi password")
        self.wait(lambda: _final(window) and window.pane.photos_model.rowCount() > 0)
        grid.setFocus()
        grid.setCurrentIndex(window.pane.photos_model.index(0))
        self.wait(lambda: bool(window.pane.preview.image.boxes))
        self.settle(1.0)
        self.shoot(window, "15-text-in-picture")

        window.search_field.set_text("person:Anna")
        self.wait(lambda: _final(window) and window.pane.photos_model.rowCount() > 2)
        grid.setFocus()
        grid.setCurrentIndex(window.pane.photos_model.index(1))
        self.settle(1.5)
        self.shoot(window, "16-people-places")

        report = window.evaluate_search()
        report.resize(760, 640)
        self.wait(lambda: report.job is None and report.report is not None, timeout=300)
        self.shoot(report, "17-search-report")
        report.close()

        duplicates = window.find_duplicates()
        duplicates.resize(900, 620)
        self.wait(lambda: duplicates.loaded, timeout=300)
        self.settle(1.0)
        self.shoot(duplicates, "18-duplicates")
        duplicates.close()

    def shoot_screen(self, window: object, name: str) -> None:
        """The screen where the window is, popups included (a window's own picture leaves out
        its popups); offscreen, the window alone."""
        from PySide6.QtGui import QGuiApplication
        from PySide6.QtWidgets import QWidget

        assert isinstance(window, QWidget)
        if QGuiApplication.platformName() == "offscreen":
            self.shoot(window, name)
            return
        self.settle(0.3)
        frame = window.frameGeometry()
        picture = window.screen().grabWindow(0, frame.x(), frame.y(), frame.width(),
                                             frame.height())  # fmt: skip
        path = self.out / f"{name}{self.suffix}.png"
        picture.save(str(path))
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    def run_scaled(self) -> int:
        """13: the window at the scale QT_SCALE_FACTOR says, with results and a preview."""
        from mediafind.gui.window import MainWindow

        window, session = self.open()
        assert isinstance(window, MainWindow)
        window.add_folder(self.home / "Pictures")
        window.add_folder(self.home / "Documents")
        self.wait(lambda: window.session.status().state == "idle" and window.overview is not None
                  and window.overview.counts.get("photo", 0) > 200, timeout=600)  # fmt: skip
        window.search_field.set_text("a red circle")
        self.wait(lambda: _final(window) and window.pane.notes_model.rowCount() > 0)
        window.pane.notes.setCurrentIndex(window.pane.notes_model.index(0))
        self.settle(1.5)
        self.shoot(window, f"13-scale-{os.environ.get('QT_SCALE_FACTOR', '1')}")
        window.close()
        session.stop()  # type: ignore[attr-defined]
        return 0


def _final(window: object) -> bool:
    from mediafind.gui.window import MainWindow

    assert isinstance(window, MainWindow)
    results = window.results
    return results is not None and results.final and results.query == window.query()


class _SlowedSource:
    """The models as the app gets them, slowed down per picture (see INDEXING_DELAY_S)."""

    def identity(self, spec: object) -> str:
        from mediafind.session import OpenClipSource

        return OpenClipSource().identity(spec)  # type: ignore[arg-type]

    def load(self, spec: object, device: str) -> object:
        from mediafind.session import OpenClipSource

        return _SlowEncoder(OpenClipSource().load(spec, "cpu"))  # type: ignore[arg-type]

    def close(self) -> None:
        """Nothing to end: the model runs in this process."""


class _SlowEncoder:
    def __init__(self, encoder: object) -> None:
        self._encoder = encoder

    def __getattr__(self, name: str) -> object:
        return getattr(self._encoder, name)

    def encode_images(self, images: list[object]) -> object:
        time.sleep(INDEXING_DELAY_S * len(images))
        return self._encoder.encode_images(images)  # type: ignore[attr-defined]


if __name__ == "__main__":
    raise SystemExit(main())
