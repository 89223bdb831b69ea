"""The results pane: photos and notes under their headings, the preview beside them, and what can
be done with a result (open, show in folder, copy, find similar)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import QLabel, QMenu, QSplitter, QVBoxLayout, QWidget

from mediafind.gui import desktop
from mediafind.gui.jobs import in_background
from mediafind.gui.preview import PreviewPane, Reader
from mediafind.gui.results import THUMB, HitsModel, NotesList, PhotoGrid, ResultsView
from mediafind.gui.statusbar import count
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.session import Results

# Opening a selection opens at most this many files: a slip of Ctrl+A must not start 500 viewers.
OPEN_AT_ONCE = 20


class ResultsPane(QSplitter):
    """Shows a search's results and acts on them; says what happened through message."""

    message = Signal(str)  # a passing message for the status bar
    similar_wanted = Signal(object)  # Path: search by this picture
    passage_wanted = Signal(str)  # search by these words
    leave_top = Signal()  # Up from the first row: back to the search field
    more_wanted = Signal()  # scrolled near the end of a list that may hold more

    def __init__(
        self,
        thumbnails: ThumbnailCache,
        pictures: ThumbnailCache,
        reader: Reader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.thumbnails = thumbnails
        self.setChildrenCollapsible(False)
        results = QWidget(self)
        column = QVBoxLayout(results)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        self.results_note = QLabel(results)
        self.results_note.setWordWrap(True)
        self.results_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        note_font = self.results_note.font()
        note_font.setItalic(True)
        self.results_note.setFont(note_font)
        self.results_note.hide()
        column.addWidget(self.results_note)
        self.sections = QSplitter(Qt.Orientation.Vertical, results)
        self.sections.setChildrenCollapsible(False)
        column.addWidget(self.sections, 1)

        self.photos_model = HitsModel(self)
        self.photos = PhotoGrid(thumbnails)
        self.photos.setModel(self.photos_model)
        self.photos_title = QLabel()
        self.photos_section = _section(self.photos_title, self.photos, self.sections)
        self.notes_model = HitsModel(self)
        self.notes = NotesList()
        self.notes.setModel(self.notes_model)
        self.notes_title = QLabel()
        self.notes_section = _section(self.notes_title, self.notes, self.sections)
        self.sections.addWidget(self.photos_section)
        self.sections.addWidget(self.notes_section)
        self.sections.setStretchFactor(0, 3)
        self.sections.setStretchFactor(1, 2)

        self.preview = PreviewPane(pictures, reader, self)
        self.addWidget(results)
        self.addWidget(self.preview)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 1)
        self.setSizes([760, 300])

        self.preview.open_requested.connect(self.open)
        self.preview.reveal_requested.connect(self.reveal)
        thumbnails.ready.connect(self._thumbnails_arrived)
        for view in (self.photos, self.notes):
            view.activated.connect(self._activated)
            view.customContextMenuRequested.connect(self._context_menu)
            view.leave_top.connect(self.leave_top)
            view.selectionModel().currentChanged.connect(self._current_changed)
            view.verticalScrollBar().valueChanged.connect(self._scrolled)

    # -- showing results ------------------------------------------------------------------

    def show_results(self, results: Results, same_question: bool, kind: str) -> None:
        """Show results; for the same question asked again (indexing found more, or the next
        page), keep the chosen result and the scroll position."""
        if not same_question:
            self.thumbnails.forget_queue()
        for view, model, hits in (
            (self.photos, self.photos_model, results.photos),
            (self.notes, self.notes_model, results.notes),
        ):
            current = view.currentIndex()
            kept = model.hit(current.row()).path if same_question and current.isValid() else None
            scroll = view.verticalScrollBar().value()
            model.set_hits(hits)
            if kept is not None:
                row = model.row_of(kept)
                if row is not None and view.currentIndex().row() != row:
                    view.selectionModel().setCurrentIndex(
                        model.index(row), view.selectionModel().SelectionFlag.ClearAndSelect
                    )
                view.verticalScrollBar().setValue(scroll)
            elif not same_question:
                view.scrollToTop()
        if not self.photos.currentIndex().isValid() and not self.notes.currentIndex().isValid():
            # Nothing chosen yet: the preview shows the best match, as a launcher would.
            top = results.photos[0] if results.photos else (results.notes or (None,))[0]
            self.preview.show_hit(top)
        self.show_sections(results, kind)

    def clear(self) -> None:
        self.photos_model.set_hits([])
        self.notes_model.set_hits([])
        self.preview.show_hit(None)

    def show_note(self, text: str) -> None:
        """A line above the results saying how they were found (empty: none)."""
        self.results_note.setText(text)
        self.results_note.setVisible(bool(text))

    def show_sections(self, results: Results | None, kind: str) -> None:
        """Headings with counts; the sections the kind filter asks for (with "all", those that
        have something to show)."""
        # All the query found, not just the page shown (see Results.total).
        photos = results.total("photo") if results else 0
        notes = results.total("note") if results else 0
        self.photos_title.setText(f"Photos · {photos:,}")
        self.notes_title.setText(f"Notes · {notes:,}")
        want_photos, want_notes = kind in ("all", "photo"), kind in ("all", "note")
        if kind == "all" and results is not None and results.final:
            want_photos, want_notes = photos > 0 or notes == 0, notes > 0
        self.photos_section.setVisible(want_photos)
        self.notes_section.setVisible(want_notes)

    def enter_from_above(self) -> None:
        """The focus comes from the search field: into the photos, or the notes if none."""
        view: ResultsView = self.photos
        if not self.photos_section.isVisible() or self.photos_model.rowCount() == 0:
            view = self.notes
        view.enter_from_above()

    def focused_view(self) -> ResultsView | None:
        return next((v for v in (self.photos, self.notes) if v.hasFocus()), None)

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        model = current.model()
        if isinstance(model, HitsModel) and current.isValid():
            self.preview.show_hit(model.hit(current.row()))

    def _thumbnails_arrived(self, paths: frozenset[Path]) -> None:
        # Repaint just the cells whose pictures came, where they are in view.
        viewport = self.photos.viewport()
        shown = viewport.rect()
        for path in paths:
            row = self.photos_model.row_of(path)
            if row is not None:
                cell = self.photos.visualRect(self.photos_model.index(row))
                if cell.intersects(shown):
                    viewport.update(cell)

    def _scrolled(self, value: int) -> None:
        bar = self.sender()
        if hasattr(bar, "maximum") and value >= bar.maximum() - 2 * THUMB:
            self.more_wanted.emit()

    # -- acting on results ----------------------------------------------------------------

    def open(self, path: Path) -> None:
        """In the app the system uses for it."""
        if not desktop.open_file(path):
            self.message.emit(f"No app on this computer opens {path.name}.")

    def reveal(self, path: Path) -> None:
        if not desktop.show_in_folder(path):
            self.message.emit(f"Cannot show {path.name} in its folder.")

    def copy_selected(self) -> bool:
        """Copy the paths of the results selected in the focused list (False: none has focus)."""
        view = self.focused_view()
        if view is None:
            return False
        hits = view.selected_hits()
        if hits:
            desktop.copy_paths([h.path for h in hits])
            self.message.emit(f"Copied {count(len(hits), 'path')}.")
        return True

    def result_menu(self, view: ResultsView, index: QModelIndex) -> QMenu:
        """What can be done with a result (and the others selected with it)."""
        model = view.model()
        assert isinstance(model, HitsModel)
        hit = model.hit(index.row())
        selected = view.selected_hits()
        hits = selected if hit in selected else [hit]
        paths = [h.path for h in hits]
        menu = QMenu(self)
        menu.addAction("Open", lambda: self._open_all(paths))
        menu.addAction("Show in Folder", lambda: self.reveal(hit.path))
        menu.addSeparator()
        copy = "Copy Path" if len(paths) == 1 else "Copy Paths"
        menu.addAction(copy, lambda: desktop.copy_paths(paths))
        if hit.kind == "photo":
            menu.addAction("Copy Image", lambda: self._copy_image(hit.path))
            menu.addSeparator()
            menu.addAction("Find Similar", lambda: self.similar_wanted.emit(hit.path))
        elif hit.snippet:
            menu.addSeparator()
            passage = " ".join(hit.snippet.split())[:200]
            menu.addAction("Find Photos of This Passage", lambda: self.passage_wanted.emit(passage))
        return menu

    def _context_menu(self, position: QPoint) -> None:
        view = self.sender()
        if not isinstance(view, ResultsView):
            return
        index = view.indexAt(position)
        if not index.isValid():  # the menu key: at the current result
            index = view.currentIndex()
            position = view.visualRect(index).center()
        if not index.isValid():
            return
        if not view.selectionModel().isSelected(index):
            view.setCurrentIndex(index)
        menu = self.result_menu(view, index)
        menu.exec(view.viewport().mapToGlobal(position))
        menu.deleteLater()

    def _activated(self, index: QModelIndex) -> None:
        model = index.model()
        if isinstance(model, HitsModel):
            self.open(model.hit(index.row()).path)

    def _open_all(self, paths: list[Path]) -> None:
        for path in paths[:OPEN_AT_ONCE]:
            self.open(path)

    def _copy_image(self, path: Path) -> None:
        def copied(image: QImage) -> None:
            desktop.copy_image(path, image)
            self.message.emit(f"Copied the picture {path.name}.")

        in_background(lambda: desktop.read_image(path), copied, self.message.emit)


def _section(title: QLabel, view: QWidget, parent: QWidget) -> QWidget:
    """A results list under its heading."""
    section = QWidget(parent)
    column = QVBoxLayout(section)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    font = title.font()
    font.setBold(True)
    title.setFont(font)
    column.addWidget(title)
    column.addWidget(view, 1)
    return section
