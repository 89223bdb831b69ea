"""Screenshots of the window on a generated sample folder, with the project's tiny model:

    01-first-run      the welcome page of an empty library
    02-indexing       a folder being indexed, results arriving while it runs
    03-text-query     results for "a red circle"
    04-dropped-image  results for a dropped picture of a green square, a note previewed
    05-model-missing  the banner when the model cannot be loaded; word search still works
    06-folders        the folders dialog, with a file that could not be read
    07-settings       the settings dialog

    make screenshot                       # under Xvfb, light and dark themes
    .venv/bin/python packaging/screenshots.py --out build/screenshots [--theme dark]

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
from pathlib import Path

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
    for k in range(20):
        for colour, shape in pairs:
            album = pictures / albums[(k + number) % len(albums)]
            album.mkdir(parents=True, exist_ok=True)
            number += rng.randint(1, 4)
            shapes.render(colour, shape, rng).save(album / f"IMG_{number:04}.jpg", quality=88)
    (pictures / "Phone" / "IMG_9999.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    notes = home / "Documents" / "Notes"
    notes.mkdir(parents=True)
    for day, (colour, shape) in enumerate(pairs, start=1):
        title = f"2024-10-{day:02} diary"
        body = shapes.note(colour, shape, rng)
        (notes / f"{title}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    return home


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.theme == "light" else "-dark"
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
        return Session(home, args.out, suffix).run()


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

        dialog = window.open_folders()
        self.wait(lambda: dialog.errors.topLevelItemCount() > 0)
        dialog.resize(760, 480)
        self.shoot(dialog, "06-folders")
        dialog.close()

        from mediafind.gui.settings_dialog import SettingsDialog

        settings = SettingsDialog(window.session, 300, window)
        settings.show()
        self.shoot(settings, "07-settings")
        settings.close()
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
