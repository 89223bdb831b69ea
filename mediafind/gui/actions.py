"""What the results' menu opens: the Open With chooser, the Properties of a file, the question
before moving files to the trash, and the menu's actions with their shortcuts."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from PIL import ExifTags, Image, UnidentifiedImageError
from PySide6.QtCore import QMimeDatabase, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mediafind import status_rows, units
from mediafind.errors import MediafindError
from mediafind.gui import desktop
from mediafind.gui.jobs import in_background
from mediafind.gui.preview import Reader, ask_library, photo_facts, show_facts
from mediafind.gui.results import folder_label
from mediafind.gui.statusbar import count
from mediafind.kinds import PHOTO
from mediafind.search import Hit
from mediafind.store import ERROR, INDEXED, PENDING

# What the system calls its trash.
TRASH = "Recycle Bin" if os.name == "nt" else "Trash"
# Files named one by one in the question before trashing; more are counted.
NAMED_IN_QUESTION = 5

Shortcut = QKeySequence | QKeySequence.StandardKey | str


def result_action(
    parent: QObject, text: str, shortcuts: Sequence[Shortcut], slot: Callable[[], object]
) -> QAction:
    """An action on the chosen results; its shortcuts work where the results have the focus
    (once the action is added to their widget), and menus show the first beside its name."""
    action = QAction(text, parent)
    keys: list[QKeySequence] = []
    for shortcut in shortcuts:
        if isinstance(shortcut, QKeySequence.StandardKey):
            keys += QKeySequence.keyBindings(shortcut)
        else:
            keys.append(QKeySequence(shortcut))
    action.setShortcuts(keys)
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.setShortcutVisibleInContextMenu(True)
    action.triggered.connect(slot)
    return action


# -- trash --------------------------------------------------------------------------------


def trash_question(hits: Sequence[Hit]) -> str:
    """Move “beach.jpg” to the Trash? / Move 3 photos to the Trash?"""
    if len(hits) == 1:
        return f"Move “{hits[0].path.name}” to the {TRASH}?"
    photos = sum(h.kind == PHOTO for h in hits)
    if photos == len(hits):
        what = count(photos, "photo")
    elif photos == 0:
        what = count(len(hits), "note")
    else:
        what = count(len(hits), "file")
    return f"Move {what} to the {TRASH}?"


def confirm_trash(parent: QWidget, hits: Sequence[Hit]) -> QMessageBox:
    """The question before trashing, not yet asked (exec it: Yes moves them)."""
    box = QMessageBox(QMessageBox.Icon.Question, f"Move to {TRASH}", trash_question(hits))
    box.setParent(parent, box.windowFlags())
    names = [h.path.name for h in hits[:NAMED_IN_QUESTION]]
    if len(hits) > 1:
        more = len(hits) - len(names)
        listed = "\n".join(names) + (f"\n…and {more} more" if more else "")
        box.setInformativeText(f"{listed}\n\nThey can be put back from the {TRASH}.")
    else:
        box.setInformativeText(f"It can be put back from the {TRASH}.")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Yes).setText(f"Move to {TRASH}")
    box.setDefaultButton(QMessageBox.StandardButton.Yes)
    return box


# -- properties ---------------------------------------------------------------------------

# EXIF tags of the Exif sub-directory that say how a photo was taken.
_EXIF = ExifTags.Base


def file_properties(hit: Hit, reader: Reader | None) -> list[tuple[str, str]]:
    """What there is to know of a result: the file, the picture and the camera (photos), and
    how the library read it. Raises OSError when the file is gone. Any thread but the GUI's."""
    path = hit.path
    st = path.stat()
    kind = QMimeDatabase().mimeTypeForFile(str(path))
    rows = [("Name", path.name), ("Folder", folder_label(path.parent))]
    rows.append(("Kind", f"{'Photo' if hit.kind == PHOTO else 'Note'} — {kind.comment()}"))
    rows.append(("Type", kind.name()))
    rows.append(("Size", f"{units.size(st.st_size)} ({st.st_size:,} bytes)"))
    if hit.kind == PHOTO:
        facts = photo_facts(path, reader)
        if facts.width and facts.height:
            rows.append(("Dimensions", f"{facts.width} × {facts.height} pixels"))
        if facts.taken is not None:
            rows.append(("Taken", _date(facts.taken)))
        rows += _camera(path)
    rows.append(("Modified", _date(datetime.fromtimestamp(st.st_mtime))))
    born = getattr(st, "st_birthtime", None)
    if isinstance(born, float):
        rows.append(("Created", _date(datetime.fromtimestamp(born))))
    rows += _library(path, reader)
    return rows


def _date(when: datetime) -> str:
    return f"{when:%d %B %Y, %H:%M}"


def _camera(path: Path) -> list[tuple[str, str]]:
    """Camera, lens and exposure, as the photo's EXIF says (nothing when it says nothing)."""
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            taken = exif.get_ifd(ExifTags.IFD.Exif)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return []
    rows = []
    make, model = str(exif.get(_EXIF.Make, "")).strip(), str(exif.get(_EXIF.Model, "")).strip()
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}"
    if camera.strip():
        rows.append(("Camera", camera.strip()))
    lens = str(taken.get(_EXIF.LensModel, "")).strip()
    if lens:
        rows.append(("Lens", lens))
    exposure = []
    if (time := _number(taken.get(_EXIF.ExposureTime))) is not None and time > 0:
        exposure.append(f"1/{round(1 / time)} s" if time < 1 else f"{time:g} s")
    if (stop := _number(taken.get(_EXIF.FNumber))) is not None:
        exposure.append(f"f/{stop:.1f}")
    if (iso := taken.get(_EXIF.ISOSpeedRatings)) is not None:
        exposure.append(f"ISO {iso}")
    if (focal := _number(taken.get(_EXIF.FocalLength))) is not None:
        exposure.append(f"{focal:g} mm")
    if exposure:
        rows.append(("Exposure", ", ".join(exposure)))
    return rows


def _number(value: object) -> float | None:
    """An EXIF rational (or number) as a float."""
    try:
        return float(Fraction(str(value))) if value is not None else None
    except (ValueError, ZeroDivisionError):
        return None


def _library(path: Path, reader: Reader | None) -> list[tuple[str, str]]:
    """What the library knows of the file."""
    if reader is None:
        return []
    try:
        record = ask_library(reader, lambda store: status_rows.record(store, path))
    except MediafindError as e:
        return [("Library", f"The library cannot be read now: {e}")]
    if record is None:
        return [("Library", "Not in the library.")]
    rows = []
    if record.status == INDEXED and record.indexed_at is not None:
        rows.append(("Indexed", _date(datetime.fromtimestamp(record.indexed_at))))
    elif record.status == PENDING:
        rows.append(("Indexed", "Not yet: waiting to be read."))
    elif record.status == ERROR:
        rows.append(("Indexed", f"Could not be read: {record.error or 'no reason given'}"))
    for caption in record.captions:
        rows.append(("Caption", " ".join(caption.split())))
    return rows


class PropertiesDialog(QDialog):
    """The facts of one result, read in the background."""

    def __init__(self, hit: Hit, reader: Reader | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{hit.path.name} — Properties")
        self.setMinimumWidth(440)
        self.hit = hit
        column = QVBoxLayout(self)
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(14)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.addRow(QLabel("Reading…"))
        column.addLayout(self.form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.loaded = False
        in_background(lambda: file_properties(hit, reader), self._show, self._failed)

    def rows(self) -> dict[str, str]:
        """The facts shown, by name (a name shown twice keeps its first)."""
        shown: dict[str, str] = {}
        for row in range(self.form.rowCount()):
            name = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            value = self.form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if name is not None and value is not None:
                label, field = name.widget(), value.widget()
                if isinstance(label, QLabel) and isinstance(field, QLabel):
                    shown.setdefault(label.text(), field.text())
        return shown

    def _show(self, rows: list[tuple[str, str]]) -> None:
        show_facts(self.form, rows)
        self.loaded = True

    def _failed(self, message: str) -> None:
        self._show([("Cannot read", message)])


# -- open with ----------------------------------------------------------------------------


class OpenWithDialog(QDialog):
    """Choose the application to open a file with: those that say they open its kind, or any
    other program."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle(f"Open “{path.name}” With")
        self.setMinimumSize(380, 320)
        column = QVBoxLayout(self)
        kind = QMimeDatabase().mimeTypeForFile(str(path)).comment()
        self.apps = desktop.apps_for(path)
        self.intro = intro = QLabel(
            f"Choose an application for this {kind}:"
            if self.apps
            else f"No application on this computer says it opens a {kind}. "
            "Choose a program with Other…",
            self,
        )
        intro.setWordWrap(True)
        column.addWidget(intro)
        self.list = QListWidget(self)
        for app in self.apps:
            item = QListWidgetItem(app.name, self.list)
            item.setToolTip(" ".join(app.command))
        if self.apps:
            self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda item: self.accept())
        column.addWidget(self.list, 1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.other_button = QPushButton("Other…", self)
        self.buttons.addButton(self.other_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.other_button.clicked.connect(self._other)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.open_button = self.buttons.button(QDialogButtonBox.StandardButton.Open)
        self.open_button.setEnabled(bool(self.apps))
        column.addWidget(self.buttons)
        self.program: Path | None = None  # chosen with Other…

    def chosen(self) -> desktop.App | None:
        row = self.list.currentRow()
        return self.apps[row] if 0 <= row < len(self.apps) else None

    def _other(self) -> None:
        start = "/Applications" if sys.platform == "darwin" else "/usr/bin"
        name, _ = QFileDialog.getOpenFileName(self, "Choose a Program", start)
        if name:
            self.program = Path(name)
            self.accept()

    def start(self) -> bool:
        """Open the file with what was chosen (False: it did not start)."""
        if self.program is not None:
            return desktop.open_with_program(self.path, self.program)
        app = self.chosen()
        return app is not None and desktop.open_with(self.path, app)


def open_with(path: Path, parent: QWidget) -> str:
    """Let the user choose an application for path and open it there; what went wrong, if
    anything, as a sentence ("" when it opened or the user cancelled)."""
    if os.name == "nt":
        return "" if desktop.system_open_with(path) else f"Cannot offer apps for {path.name}."
    if sys.platform == "darwin":
        app, _ = QFileDialog.getOpenFileName(
            parent, f"Open “{path.name}” With", "/Applications", "Applications (*.app)"
        )
        if not app or desktop.open_with_program(path, Path(app)):
            return ""
        return f"{Path(app).stem} did not open {path.name}."
    dialog = OpenWithDialog(path, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.start():
            return ""
        chosen = dialog.program.name if dialog.program else getattr(dialog.chosen(), "name", "")
        return f"{chosen or 'The application'} did not start."
    finally:
        dialog.deleteLater()


def trash_failure(name: str, problem: str, moved: int, left: int) -> str:
    """Why a file could not go to the trash, and where the others are."""
    kept = (
        f"{name} is still where it was"
        if left == 1
        else (f"It and the {count(left - 1, 'file')} after it are still where they were")
    )
    done = f" ({count(moved, 'file')} went to the {TRASH} before it)" if moved else ""
    return f"The {TRASH} cannot take {name}: {problem}. {kept}{done}."
