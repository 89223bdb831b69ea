"""Edit → Find Duplicates: the groups of duplicate photos (mediafind.dupes) side by side, each
photo with its thumbnail, size, resolution and date and a choice to keep it or move it to the
Trash (the suggested keeper kept, the others not), and one button that moves all but the
keepers of the chosen groups to the Trash at once, then says what it moved and freed and that
the Trash gives it back. Finding the groups and moving the files run in the background; the
platform's trash takes the files (gui/desktop.move_to_trash): nothing is deleted outright."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QImage, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mediafind import dupes, media, units
from mediafind.dupes import Group
from mediafind.dupes_rows import PhotoRow
from mediafind.errors import UnreadableFile
from mediafind.gui import desktop
from mediafind.gui.actions import TRASH, trash_failure
from mediafind.gui.jobs import Job, in_background
from mediafind.gui.statusbar import count
from mediafind.session import Session

# Thumbnails' longest side, in pixels: large enough to tell two near-copies apart by eye.
THUMB = 160


@dataclass(frozen=True)
class Found:
    """What the background search brings back: the groups and a thumbnail of each photo
    (RGB bytes, width, height; absent where the file could not be read)."""

    groups: list[Group]
    thumbnails: dict[Path, tuple[bytes, int, int]]


def _find(session: Session, should_stop: Callable[[], bool]) -> Found:
    """The groups and their thumbnails (runs off the GUI thread, until should_stop)."""
    store = session.open_reader()
    if store is None:
        return Found([], {})
    with store:
        groups = dupes.find(store, should_stop=should_stop)
    thumbnails = {}
    for group in groups:
        for photo in group.photos:
            if should_stop():
                break
            try:
                small = _thumbnail(photo.path)
            except (OSError, ValueError, Image.DecompressionBombError, UnreadableFile):
                continue
            thumbnails[photo.path] = (small.tobytes(), small.width, small.height)
    return Found(groups, thumbnails)


def _thumbnail(path: Path) -> Image.Image:
    """The photo at path, upright, THUMB pixels on its long side at most."""
    if media.is_raw(path):  # Pillow opens a DNG, NEF or CR2 as its tiny first thumbnail
        media.check_picture_size(path.stat().st_size)
        small = media.open_image(path.read_bytes(), THUMB, raw=True).image
    else:
        with Image.open(path) as img:
            img.draft("RGB", (THUMB, THUMB))
            small = ImageOps.exif_transpose(img).convert("RGB")
    small.thumbnail((THUMB, THUMB))
    return small


def summary(moved: int, freed: int) -> str:
    """Moved 14 photos to the Trash · 9.3 MB freed; restore them from the Trash."""
    them = "it" if moved == 1 else "them"
    return (
        f"Moved {count(moved, 'photo')} to the {TRASH} · {units.size(freed)} freed; "
        f"restore {them} from the {TRASH}."
    )


class PhotoCard(QWidget):
    """One photo of a group: its thumbnail, name, facts, and whether to keep it."""

    def __init__(self, photo: PhotoRow, keeper: bool, picture: QPixmap | None) -> None:
        super().__init__()
        self.photo = photo
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.thumbnail = QLabel(self)
        self.thumbnail.setFixedSize(THUMB, THUMB)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if picture is not None:
            self.thumbnail.setPixmap(picture)
        else:
            self.thumbnail.setText("(cannot be shown)")
        layout.addWidget(self.thumbnail)
        name = QLabel(photo.path.name, self)
        name.setToolTip(str(photo.path))
        name.setMaximumWidth(THUMB + 40)
        layout.addWidget(name)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(dupes.date_of(photo)))
        size = f"{photo.width}×{photo.height}" if photo.width and photo.height else "size unknown"
        folder = photo.path.parent.name or str(photo.path.parent)
        self.facts = QLabel(f"{size} · {units.size(photo.size)}\n{when}\nin {folder}", self)
        self.facts.setToolTip(str(photo.path))
        layout.addWidget(self.facts)
        self.keep = QCheckBox("Keep", self)
        self.keep.setChecked(keeper)
        self.keep.setToolTip(f"Unchecked: moved to the {TRASH}")
        layout.addWidget(self.keep)


class GroupBox(QGroupBox):
    """A group: checked, it is one of those the button acts on."""

    def __init__(self, group: Group, pictures: dict[Path, QPixmap]) -> None:
        super().__init__(
            f"{group.kind.capitalize()} · keep “{group.keeper.path.name}”: {group.why}"
        )
        self.group = group
        self.setCheckable(True)
        self.setChecked(True)
        row = QHBoxLayout(self)
        self.cards = [PhotoCard(p, p is group.keeper, pictures.get(p.path)) for p in group.photos]
        for card in self.cards:
            row.addWidget(card)
        row.addStretch(1)

    def to_trash(self) -> list[PhotoRow]:
        """The photos chosen for the trash; none when every one is (one must stay)."""
        chosen = [c.photo for c in self.cards if not c.keep.isChecked()]
        return [] if len(chosen) == len(self.cards) else chosen


class DuplicatesDialog(QDialog):
    """Find the library's duplicate photos, choose, move the extra copies to the trash."""

    trashed = Signal(object)  # list[Path] moved to the trash: the library should forget them
    TIP = f"Find copies of the same photo, and move the extra ones to the {TRASH}"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Find Duplicates")
        self.resize(900, 620)
        self.boxes: list[GroupBox] = []
        self._job: Job | None = None
        self._busy = False
        self._looked = False
        self._pictures: dict[Path, QPixmap] = {}
        layout = QVBoxLayout(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.area = QScrollArea(self)
        self.area.setWidgetResizable(True)
        layout.addWidget(self.area, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.trash_button = QPushButton("Trash All but the Keeper", self)
        self.trash_button.setToolTip(
            f"In each checked group, move every photo not marked Keep to the {TRASH}"
        )
        self.trash_button.setEnabled(False)
        buttons.addButton(self.trash_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.trash_button.clicked.connect(self.trash_chosen)
        layout.addWidget(buttons)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._job is None and not self._looked:
            self.look()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._job is not None:
            self._job.quit()
        super().closeEvent(event)

    def look(self) -> None:
        """Find the groups in the background, then show them."""
        self.status.setText("Looking for duplicate photos…")
        self.trash_button.setEnabled(False)
        session = self.session
        self._job = Job.reporting(lambda _, stop: _find(session, stop.is_set))
        self._job.returned.connect(self._show)
        self._job.failed.connect(self._failed)
        self._job.start()

    @property
    def loaded(self) -> bool:
        """Whether the groups have been looked for and shown, and nothing is being moved."""
        return self._looked and self._job is None and not self._busy

    def _failed(self, message: str) -> None:
        self._job = None
        self._looked = True
        self._busy = False
        self.status.setText(f"Duplicates could not be looked for: {message}")

    def _show(self, found: Found) -> None:
        self._job = None
        self._looked = True
        pictures = {  # copied: a QImage over bytes does not own them
            path: QPixmap.fromImage(QImage(data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())
            for path, (data, w, h) in found.thumbnails.items()
        }
        self._lay_out(found.groups, pictures)

    def _lay_out(self, groups: list[Group], pictures: dict[Path, QPixmap]) -> None:
        self._pictures = pictures
        page = QWidget()
        column = QVBoxLayout(page)
        self.boxes = [GroupBox(g, pictures) for g in groups]
        for box in self.boxes:
            column.addWidget(box)
            for card in box.cards:
                card.keep.toggled.connect(self._count)
            box.toggled.connect(self._count)
        column.addStretch(1)
        self.area.setWidget(page)
        self._count()

    def _count(self) -> None:
        """Say what is found, and what the button would move."""
        if not self.boxes:
            self.status.setText("No duplicate photos found.")
            self.trash_button.setEnabled(False)
            return
        extra = sum(len(b.group.others) for b in self.boxes)
        spare = units.size(sum(b.group.spare_bytes for b in self.boxes))
        chosen = self.chosen()
        self.status.setText(
            f"{count(len(self.boxes), 'group')} of duplicates: {count(extra, 'photo')} besides "
            f"the ones to keep, {spare} to free. Check the groups to act on and mark the "
            "photos to keep."
        )
        freed = units.size(sum(p.size for p in chosen))
        self.trash_button.setText(
            f"Trash All but the Keeper ({count(len(chosen), 'photo')}, {freed})"
        )
        self.trash_button.setEnabled(bool(chosen) and not self._busy)

    def chosen(self) -> list[PhotoRow]:
        """The photos the button would move to the trash."""
        return [p for box in self.boxes if box.isChecked() for p in box.to_trash()]

    def trash_chosen(self) -> None:
        """Move the chosen photos to the trash in the background, then say what moved."""
        chosen = self.chosen()
        if not chosen or self._busy:
            return
        self._busy = True
        self.trash_button.setEnabled(False)
        self.status.setText(f"Moving {count(len(chosen), 'photo')} to the {TRASH}…")
        paths = [p.path for p in chosen]
        in_background(
            lambda: desktop.move_to_trash(paths),
            lambda done: self._trashed(chosen, *done),
            self._failed,
        )

    def _trashed(self, chosen: list[PhotoRow], moved: list[Path], problem: str) -> None:
        self._busy = False
        gone = set(moved)
        freed = sum(p.size for p in chosen if p.path in gone)
        if moved:
            self.trashed.emit(moved)
        left = []
        for box in self.boxes:
            photos = [p for p in box.group.photos if p.path not in gone]
            if len(photos) > 1:
                left.append(dupes.group_of(photos))
        self._lay_out(left, self._pictures)
        said = summary(len(moved), freed) if moved else ""
        if problem:
            name = chosen[len(moved)].path.name
            said += " " + trash_failure(name, problem, len(moved), len(chosen) - len(moved))
        self.status.setText(said.strip())
