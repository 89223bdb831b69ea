"""The results pane: photos and notes under their headings, the preview beside them, and what can
be done with the chosen results (view full size, open, open with, show in folder, copy, move to
the trash, find similar, properties), from their menu or by their shortcuts."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QKeySequence, QPalette
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox, QSplitter, QVBoxLayout, QWidget

from mediafind.gui import desktop
from mediafind.gui.actions import (
    TRASH,
    PropertiesDialog,
    confirm_trash,
    open_with,
    result_action,
    trash_failure,
)
from mediafind.gui.grid import THUMB, PhotoGrid
from mediafind.gui.jobs import in_background
from mediafind.gui.noteslist import NotesList, page_of
from mediafind.gui.preview import PreviewPane, Reader
from mediafind.gui.results import HitsModel, ResultsView
from mediafind.gui.statusbar import count
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.kinds import PHOTO
from mediafind.search import Hit
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
    view_wanted = Signal(int)  # a row of photos_model to show full size
    selection_changed = Signal(int)  # how many results the list whose selection changed holds
    trashed = Signal(object)  # list[Path] moved to the trash: the library should forget them

    def __init__(
        self,
        thumbnails: ThumbnailCache,
        pictures: ThumbnailCache,
        reader: Reader | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.thumbnails = thumbnails
        self.reader = reader
        self._beyond: dict[str, int] = {}  # per kind: files the query found past the page
        self._menu_view: ResultsView | None = None  # the list whose menu is open
        self._gone: set[Path] = set()  # moved to the trash: not shown, even if the library lags
        self.properties: PropertiesDialog | None = None
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

        self.preview.open_requested.connect(self.open_hit)
        self.preview.reveal_requested.connect(self.reveal)
        thumbnails.ready.connect(self._thumbnails_arrived)
        for view in (self.photos, self.notes):
            view.activated.connect(self._activated)
            view.customContextMenuRequested.connect(self._context_menu)
            view.leave_top.connect(self.leave_top)
            view.selectionModel().currentChanged.connect(self._current_changed)
            view.selectionModel().selectionChanged.connect(self._selection_changed)
            view.verticalScrollBar().valueChanged.connect(self._scrolled)
        self._build_actions(results)

    def _build_actions(self, results: QWidget) -> None:
        """The actions on the chosen results. Their shortcuts work while the photos or the
        notes have the focus; the results' menu shows them beside each action."""
        trash_keys = ["Del", "Ctrl+Backspace"] if sys.platform == "darwin" else ["Del"]
        self.view_action = result_action(self, "View Full Size", ["Space"], self.view_current)
        self.open_action = result_action(self, "Open", ["Enter", "Return"], self.open_chosen)
        self.open_with_action = result_action(self, "Open With…", [], self.open_with_current)
        self.reveal_action = result_action(self, "Show in Folder", [], self.reveal_current)
        copy_keys = [QKeySequence.StandardKey.Copy]
        self.copy_action = result_action(self, "Copy", copy_keys, self.copy_current)
        self.copy_path_action = result_action(self, "Copy Path", ["Ctrl+Shift+C"], self.copy_paths)
        self.similar_action = result_action(self, "Find Similar", [], self.find_similar)
        self.trash_action = result_action(self, f"Move to {TRASH}", trash_keys, self.trash_chosen)
        self.properties_action = result_action(
            self, "Properties", ["Alt+Return", "Ctrl+I"], self.show_properties
        )
        results.addActions(
            [
                self.view_action,
                self.open_action,
                self.open_with_action,
                self.reveal_action,
                self.copy_action,
                self.copy_path_action,
                self.similar_action,
                self.trash_action,
                self.properties_action,
            ]
        )

    # -- showing results ------------------------------------------------------------------

    def show_results(
        self, results: Results, same_question: bool, kind: str, steady: bool = False
    ) -> None:
        """Show results; for the same question asked again (indexing found more, or the next
        page), keep the chosen result and the scroll position. steady: the model's answer
        replaces word matches shown while it loaded; the results down to the chosen one stay
        where they are (they do not move under the cursor), the new order goes on below."""
        if not same_question:
            self.thumbnails.forget_queue()
        results = self._without_gone(results)
        for view, model, hits in (
            (self.photos, self.photos_model, results.photos),
            (self.notes, self.notes_model, results.notes),
        ):
            current = view.currentIndex()
            kept = model.hit(current.row()).path if same_question and current.isValid() else None
            scroll = view.verticalScrollBar().value()
            if steady and kept is not None:
                shown = [model.hit(row) for row in range(current.row() + 1)]
                hits = steady_order(shown, hits)
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
        self.notes.show_passages(any(h.snippet for h in results.notes))
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
        results = self._without_gone(results) if results is not None else None
        photos = len(results.photos) if results else 0
        notes = len(results.notes) if results else 0
        # All the query found, not just the page shown (see Results.total).
        self._beyond = {"photo": results.total("photo") - photos,
                        "note": results.total("note") - notes} if results else {}  # fmt: skip
        self._update_titles()
        want_photos, want_notes = kind in ("all", "photo"), kind in ("all", "note")
        if kind == "all" and results is not None and results.final:
            want_photos, want_notes = photos > 0 or notes == 0, notes > 0
        self.photos_section.setVisible(want_photos)
        self.notes_section.setVisible(want_notes)

    def _update_titles(self) -> None:
        """Headings: "Photos · 12,408 · 9 selected" (all the query found; the count of those
        selected when more than one is)."""
        for title, name, kind, view in (
            (self.photos_title, "Photos", "photo", self.photos),
            (self.notes_title, "Notes", "note", self.notes),
        ):
            total = view.model().rowCount() + self._beyond.get(kind, 0)
            selected = len(view.selectionModel().selectedIndexes())
            chosen = f" · {selected:,} selected" if selected > 1 else ""
            title.setText(f"{name} · {total:,}{chosen}")

    def _selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self._update_titles()
        model = self.sender()
        view = self.photos if model is self.photos.selectionModel() else self.notes
        self.selection_changed.emit(len(view.selectionModel().selectedIndexes()))

    def _without_gone(self, results: Results) -> Results:
        """The results without the files moved to the trash from here (until they are back)."""
        gone = self._gone
        if not gone or not any(h.path in gone for h in results.hits):
            return results
        self._gone = {p for p in gone if not p.exists()}
        return replace(results, hits=tuple(h for h in results.hits if h.path not in self._gone))

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

    def open_hit(self, hit: Hit) -> None:
        """A result in its app; a document at the passage's page where its viewer takes one."""
        page = page_of(hit) if hit.kind == "note" else None
        if not desktop.open_document(hit.path, page):
            self.message.emit(f"No app on this computer opens {hit.path.name}.")

    def reveal(self, path: Path) -> None:
        if not desktop.show_in_folder(path):
            self.message.emit(f"Cannot show {path.name} in its folder.")

    def target_view(self) -> ResultsView | None:
        """The list the actions act on: the one whose menu is open, or the one with the focus."""
        return self._menu_view or self.focused_view()

    def chosen_hits(self) -> list[Hit]:
        """The results selected in the target list (the current one when none is)."""
        view = self.target_view()
        if view is None:
            return []
        hits = view.selected_hits()
        current = self.current_hit()
        return hits or ([current] if current is not None else [])

    def current_hit(self) -> Hit | None:
        """The target list's current result (for the actions on one result)."""
        view = self.target_view()
        if view is None:
            return None
        index = view.currentIndex()
        if not index.isValid():
            selected = view.selected_hits()
            return selected[0] if selected else None
        model = view.model()
        assert isinstance(model, HitsModel)
        return model.hit(index.row())

    def view_current(self) -> None:
        """Show the current photo full size."""
        if self.target_view() is self.photos and self.photos.currentIndex().isValid():
            self.view_wanted.emit(self.photos.currentIndex().row())

    def open_chosen(self) -> None:
        for hit in self.chosen_hits()[:OPEN_AT_ONCE]:
            self.open_hit(hit)

    def open_with_current(self) -> None:
        hit = self.current_hit()
        if hit is not None:
            problem = open_with(hit.path, self)
            if problem:
                self.message.emit(problem)

    def reveal_current(self) -> None:
        hit = self.current_hit()
        if hit is not None:
            self.reveal(hit.path)

    def copy_current(self) -> None:
        """The current photo's picture (with its file) or the current note's file; with no
        result list in focus, what the focused widget copies."""
        if self.target_view() is None:
            focus = QGuiApplication.focusObject()
            if hasattr(focus, "copy"):
                focus.copy()
            return
        hit = self.current_hit()
        if hit is None:
            return
        if hit.kind == PHOTO:
            self._copy_image(hit.path)
        else:
            desktop.copy_paths([hit.path])
            self.message.emit(f"Copied the file {hit.path.name}.")

    def copy_paths(self) -> None:
        """The chosen results' paths, one per line (and as files, for file managers)."""
        hits = self.chosen_hits()
        if hits:
            desktop.copy_paths([h.path for h in hits])
            self.message.emit(f"Copied {count(len(hits), 'path')}.")

    def find_similar(self) -> None:
        hit = self.current_hit()
        if hit is not None and hit.kind == PHOTO:
            self.similar_wanted.emit(hit.path)

    def show_properties(self) -> None:
        hit = self.current_hit()
        if hit is None:
            return
        if self.properties is not None:
            self.properties.close()
            self.properties.deleteLater()
        self.properties = PropertiesDialog(hit, self.reader, self)
        self.properties.show()

    def trash_chosen(self) -> None:
        """Ask, then move the chosen results to the trash."""
        view, hits = self.target_view(), self.chosen_hits()
        if view is None or not hits:
            return
        question = confirm_trash(self, hits)
        answer = question.exec()
        question.deleteLater()
        view.setFocus(Qt.FocusReason.OtherFocusReason)  # where the question came from
        if answer != QMessageBox.StandardButton.Yes:
            return
        paths = [h.path for h in hits]
        in_background(
            lambda: desktop.move_to_trash(paths),
            lambda done: self._trashed(paths, *done),
            self.message.emit,
        )

    def _trashed(self, paths: list[Path], moved: list[Path], problem: str) -> None:
        if moved:
            self.forget(moved)
            self.trashed.emit(moved)
            self.message.emit(f"Moved {count(len(moved), 'file')} to the {TRASH}.")
        if problem:
            name = paths[len(moved)].name
            text = trash_failure(name, problem, len(moved), len(paths) - len(moved))
            QMessageBox.warning(self, f"Cannot Move to the {TRASH}", text)

    def forget(self, paths: list[Path]) -> None:
        """Take these files out of the results at once; the one after them becomes current."""
        self._gone.update(paths)
        gone = set(paths)
        for view, model in ((self.photos, self.photos_model), (self.notes, self.notes_model)):
            hits = [model.hit(row) for row in range(model.rowCount())]
            rows = [row for row, hit in enumerate(hits) if hit.path in gone]
            if not rows:
                continue
            kept = [hit for hit in hits if hit.path not in gone]
            scroll = view.verticalScrollBar().value()
            model.set_hits(kept)
            view.verticalScrollBar().setValue(scroll)
            if kept:
                view.setCurrentIndex(model.index(min(rows[0], len(kept) - 1)))
        if self.preview.hit is not None and self.preview.hit.path in gone:
            self.preview.show_hit(None)
        self._update_titles()

    def return_to(self, path: Path) -> None:
        """Back from the full-size viewer: the photo last viewed chosen and in view."""
        row = self.photos_model.row_of(path)
        if row is not None:
            index = self.photos_model.index(row)
            self.photos.setCurrentIndex(index)
            self.photos.scrollTo(index)
        self.photos.setFocus(Qt.FocusReason.OtherFocusReason)

    def result_menu(self, view: ResultsView, index: QModelIndex) -> QMenu:
        """What can be done with a result (and the others selected with it), each action with
        its shortcut."""
        model = view.model()
        assert isinstance(model, HitsModel)
        selection = view.selectionModel()
        if not selection.isSelected(index):
            view.setCurrentIndex(index)
        elif view.currentIndex() != index:
            selection.setCurrentIndex(index, selection.SelectionFlag.NoUpdate)
        self._menu_view = view
        hit = model.hit(index.row())
        several = len(view.selected_hits()) > 1
        self.copy_path_action.setText("Copy Paths" if several else "Copy Path")
        menu = QMenu(self)
        # The actions keep acting on this list until the chosen one has run.
        menu.aboutToHide.connect(lambda: QTimer.singleShot(0, self._menu_closed))
        if hit.kind == PHOTO:
            menu.addAction(self.view_action)
        menu.addActions([self.open_action, self.open_with_action, self.reveal_action])
        menu.addSeparator()
        menu.addActions([self.copy_action, self.copy_path_action])
        menu.addSeparator()
        if hit.kind == PHOTO:
            menu.addAction(self.similar_action)
        elif hit.snippet:
            passage = " ".join(hit.snippet.split())[:200]
            menu.addAction("Find Photos of This Passage", lambda: self.passage_wanted.emit(passage))
        menu.addSeparator()
        menu.addActions([self.trash_action, self.properties_action])
        return menu

    def _menu_closed(self) -> None:
        self._menu_view = None

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
        menu = self.result_menu(view, index)
        menu.exec(view.viewport().mapToGlobal(position))
        menu.deleteLater()

    def _activated(self, index: QModelIndex) -> None:
        """A double-click (a click where the system opens with one): a photo full size, a note
        in its app. The keyboard opens with the Open action's shortcut instead."""
        model = index.model()
        if not isinstance(model, HitsModel):
            return
        if model is self.photos_model:
            self.view_wanted.emit(index.row())
        else:
            self.open_hit(model.hit(index.row()))

    def _copy_image(self, path: Path) -> None:
        def copied(image: QImage) -> None:
            desktop.copy_image(path, image)
            self.message.emit(f"Copied the picture {path.name}.")

        in_background(lambda: desktop.read_image(path), copied, self.message.emit)


def steady_order(shown: Sequence[Hit], found: Sequence[Hit]) -> tuple[Hit, ...]:
    """found, with the results shown above the cursor (shown) first, in their places, as far
    as found still holds them (their fresh hits: the model's evidence), then the rest of found
    in its order."""
    fresh = {h.path: h for h in found}
    kept = [fresh[h.path] for h in shown if h.path in fresh]
    placed = {h.path for h in kept}
    return (*kept, *(h for h in found if h.path not in placed))


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
