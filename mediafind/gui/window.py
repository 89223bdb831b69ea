"""The main window: the search field, the results (photo grid and notes list), the preview, and
the status bar. Its collaborators come in through Services; it owns no global state."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPalette,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mediafind import __version__, config
from mediafind.errors import MediafindError
from mediafind.gui import desktop
from mediafind.gui.dropping import DropOverlay, DropReader
from mediafind.gui.folders import FoldersDialog, choose_folder
from mediafind.gui.icons import app_icon
from mediafind.gui.notices import (
    ERROR,
    INFO,
    WARNING,
    Banner,
    MessagePage,
    WelcomePage,
    for_the_window,
)
from mediafind.gui.notices import suggested_folders as find_suggested_folders
from mediafind.gui.preview import PreviewPane
from mediafind.gui.results import THUMB, HitsModel, NotesList, PhotoGrid, _ResultsView, query_words
from mediafind.gui.searchfield import SearchField
from mediafind.gui.services import MODEL_LOADING, Services
from mediafind.gui.settings import SettingsDialog
from mediafind.gui.statusbar import IndexingStatus, count
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.gui.workers import (
    FIRST_LIMIT,
    MAX_LIMIT,
    Query,
    Results,
    SearchRunner,
    in_background,
)
from mediafind.service import IDLE, INDEXING, Status

log = logging.getLogger(__name__)

# While indexing, the current query runs again at most this often, so that new matches appear
# without retyping. More often costs searches nobody reads; less often feels stale.
RERUN_MS = 1500
# Counts, errors and folders are read again at most this often while indexing.
LIBRARY_REFRESH_MS = 2000
# How long a passing message stays in the status bar.
NOTICE_MS = 8000
# Side of the big preview picture, in logical pixels.
PREVIEW_PIXELS = 720
KINDS = (("all", "All"), ("photo", "Photos"), ("note", "Notes"))
# The kind filter as one segmented control; palette() keeps it right in light and dark themes.
SEGMENTS = """
QToolButton { border: 1px solid palette(mid); border-left: none; padding: 4px 14px;
              background: palette(button); color: palette(button-text); }
QToolButton#first { border-left: 1px solid palette(mid);
                    border-top-left-radius: 6px; border-bottom-left-radius: 6px; }
QToolButton#last { border-top-right-radius: 6px; border-bottom-right-radius: 6px; }
QToolButton:hover:!checked { background: palette(midlight); }
QToolButton:checked { background: palette(highlight); color: palette(highlighted-text);
                      border-color: palette(highlight); }
"""
# Opening a selection opens at most this many files: a slip of Ctrl+A must not start 500 viewers.
OPEN_AT_ONCE = 20


@dataclass
class LibrarySummary:
    """What the library holds, read in the background."""

    folders: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def read_summary(services: Services) -> LibrarySummary:
    store = services.open_reader()
    if store is None:
        return LibrarySummary()
    with store:
        from mediafind.store import decode_path

        return LibrarySummary([decode_path(r.path) for r in store.roots()], store.counts())


class MainWindow(QMainWindow):
    """The window people use every day."""

    results_shown = Signal()  # the views show a search's results (tests wait for it)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("mediafind")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setMinimumSize(720, 480)
        self.thumbnails = ThumbnailCache(config.cache_dir() / "thumbnails", THUMB, parent=self)
        self.pictures = ThumbnailCache(None, PREVIEW_PIXELS, 48 * 1024 * 1024, parent=self)
        self.runner = SearchRunner(services, self)
        self.drops = DropReader(config.cache_dir() / "queries", self)
        self.results: Results | None = None
        self.summary: LibrarySummary | None = None
        self._kind = "all"
        self._limit = FIRST_LIMIT
        self._last_done = -1
        self._message = ""
        self._build()
        self._build_menus()
        self._connect()
        self._restore()
        self._on_model_changed()
        self._on_indexing_changed()
        self._refresh_library()
        self.search_field.setFocus()

    # -- building -------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget(self)
        self.setCentralWidget(central)
        column = QVBoxLayout(central)
        column.setContentsMargins(12, 10, 12, 4)
        column.setSpacing(8)

        top = QHBoxLayout()
        top.setSpacing(10)
        self.search_field = SearchField(central)
        top.addWidget(self.search_field, 1)
        self.kind_buttons = QButtonGroup(self)
        self.kind_buttons.setExclusive(True)
        filters = QWidget(central)
        filters.setStyleSheet(SEGMENTS)
        segment = QHBoxLayout(filters)
        segment.setContentsMargins(0, 0, 0, 0)
        segment.setSpacing(0)
        for i, (_, label) in enumerate(KINDS):
            button = QToolButton(filters)
            button.setText(label)
            button.setCheckable(True)
            button.setToolTip(f"Show {label.lower()} (Ctrl+{i + 1})")
            button.setMinimumWidth(72)
            button.setMinimumHeight(30)
            button.setObjectName("first" if i == 0 else "last" if i == len(KINDS) - 1 else "")
            self.kind_buttons.addButton(button, i)
            segment.addWidget(button)
        top.addWidget(filters)
        column.addLayout(top)

        self.model_banner = Banner(central)
        self.library_banner = Banner(central)
        column.addWidget(self.model_banner)
        column.addWidget(self.library_banner)

        self.pages = QStackedWidget(central)
        column.addWidget(self.pages, 1)
        self.welcome = WelcomePage(self.pages)
        self.hint = MessagePage(self.pages)
        self.nothing = MessagePage(self.pages)
        self.pages.addWidget(self.hint)
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.nothing)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self.pages)
        self.splitter.setChildrenCollapsible(False)
        results = QWidget(self.splitter)
        results_column = QVBoxLayout(results)
        results_column.setContentsMargins(0, 0, 0, 0)
        results_column.setSpacing(4)
        self.results_note = QLabel(results)
        self.results_note.setWordWrap(True)
        self.results_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        note_font = self.results_note.font()
        note_font.setItalic(True)
        self.results_note.setFont(note_font)
        self.results_note.hide()
        results_column.addWidget(self.results_note)
        self.sections = QSplitter(Qt.Orientation.Vertical, results)
        self.sections.setChildrenCollapsible(False)
        results_column.addWidget(self.sections, 1)

        self.photos_model = HitsModel(self)
        self.photos = PhotoGrid(self.thumbnails)
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

        self.preview = PreviewPane(self.pictures, self.splitter)
        self.splitter.addWidget(results)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([760, 300])
        self.pages.addWidget(self.splitter)

        # Everything in the status bar is permanent: QStatusBar's own messages would hide the
        # indexing progress while they show.
        self.status_widget = IndexingStatus(self)
        self.notice = QLabel(self)
        self.counts_label = QLabel(self)
        self.counts_label.setToolTip("What the library holds now")
        self.statusBar().addPermanentWidget(self.status_widget, 1)
        self.statusBar().addPermanentWidget(self.notice)
        self.statusBar().addPermanentWidget(self.counts_label)
        self._notice_timer = _single_shot(self, NOTICE_MS, self.notice.clear)
        self.overlay = DropOverlay(central)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.add_folder_action = file.addAction("&Add Folder…", QKeySequence.StandardKey.Open)
        self.add_folder_action.triggered.connect(self.ask_for_folder)
        self.folders_action = file.addAction("Watched &Folders…")
        self.folders_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.folders_action.triggered.connect(self.open_folders)
        file.addSeparator()
        settings = file.addAction("&Settings…", QKeySequence.StandardKey.Preferences)
        settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        if settings.shortcut().isEmpty():
            settings.setShortcut(QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        file.addSeparator()
        quit_action = file.addAction("&Quit", QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)

        edit = bar.addMenu("&Edit")
        find = edit.addAction("&Find", QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_search)
        QShortcut(QKeySequence("Ctrl+L"), self, self.focus_search)
        paste = edit.addAction("&Paste Picture", QKeySequence.StandardKey.Paste)
        paste.setToolTip("Search by the picture on the clipboard")
        paste.triggered.connect(self.paste)
        self.copy_action = edit.addAction("&Copy Path", QKeySequence.StandardKey.Copy)
        self.copy_action.triggered.connect(self._copy_paths)

        view = bar.addMenu("&View")
        self.kind_actions = QActionGroup(self)
        for i, (kind, label) in enumerate(KINDS):
            action = view.addAction(label)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.setData(kind)
            self.kind_actions.addAction(action)
        self.kind_actions.triggered.connect(lambda a: self.set_kind(str(a.data())))
        view.addSeparator()
        self.preview_action = view.addAction("&Preview")
        self.preview_action.setCheckable(True)
        self.preview_action.setChecked(True)
        self.preview_action.setShortcut(QKeySequence("Ctrl+P"))
        self.preview_action.toggled.connect(self.preview.setVisible)

        indexing = bar.addMenu("&Indexing")
        self.pause_action = indexing.addAction("&Pause Indexing")
        self.pause_action.triggered.connect(self._toggle_pause)
        rescan = indexing.addAction("&Look for Changes Now")
        rescan.triggered.connect(self._rescan)

        help_menu = bar.addMenu("&Help")
        about = help_menu.addAction("&About mediafind")
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self._about)

    def _connect(self) -> None:
        services = self.services
        services.status_changed.connect(self._on_status)
        services.model_changed.connect(self._on_model_changed)
        services.indexing_changed.connect(self._on_indexing_changed)
        self.runner.finished.connect(self._on_results)
        self.runner.failed.connect(self._on_search_failed)
        self.search_field.query_changed.connect(self.search)
        self.search_field.submitted.connect(self.search)
        self.search_field.move_down.connect(self._enter_results)
        self.search_field.image_pasted.connect(self.use_dropped)
        self.kind_buttons.idClicked.connect(lambda i: self.set_kind(KINDS[i][0]))
        self.thumbnails.ready.connect(self._thumbnail_ready)
        self.drops.image_ready.connect(self.search_by_image)
        self.drops.failed.connect(self.show_message)
        self.welcome.add_clicked.connect(self.ask_for_folder)
        self.welcome.suggestion_clicked.connect(self.add_folder)
        self.status_widget.pause_clicked.connect(self._pause)
        self.status_widget.resume_clicked.connect(self._resume)
        self.status_widget.errors_clicked.connect(self._show_errors)
        self.preview.open_requested.connect(self._open)
        self.preview.reveal_requested.connect(self._reveal)
        for view in (self.photos, self.notes):
            view.activated.connect(self._activated)
            view.customContextMenuRequested.connect(self._context_menu)
            view.leave_top.connect(self.focus_search)
            view.selectionModel().currentChanged.connect(self._current_changed)
        self.photos.verticalScrollBar().valueChanged.connect(self._maybe_fetch_more)
        self.notes.verticalScrollBar().valueChanged.connect(self._maybe_fetch_more)
        self._rerun = _single_shot(self, RERUN_MS, self._rerun_now)
        self._library_refresh = _single_shot(self, LIBRARY_REFRESH_MS, self._refresh_library)
        self.folders_dialog: FoldersDialog | None = None

    # -- searching ------------------------------------------------------------------------

    def query(self) -> Query:
        return Query(self.search_field.text(), self.search_field.image(), self._kind, self._limit)

    def search(self) -> None:
        """Search for what the field holds now (a new question starts at the first page)."""
        query = self.query()
        if self.results is None or not self.results.query.same_question(query):
            self._limit = FIRST_LIMIT
            query = self.query()
        if query.empty:
            self.runner.cancel()
            self.results = None
            self.photos_model.set_hits([])
            self.notes_model.set_hits([])
            self.preview.show_hit(None)
            self._update_page()
            return
        self.runner.submit(query)

    def set_kind(self, kind: str) -> None:
        self._kind = kind
        index = next(i for i, (k, _) in enumerate(KINDS) if k == kind)
        self.kind_buttons.button(index).setChecked(True)
        self.kind_actions.actions()[index].setChecked(True)
        self._show_sections()
        self.search()

    def focus_search(self) -> None:
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.line.selectAll()

    def search_by_image(self, path: Path, name: str = "") -> None:
        self.search_field.set_image(path, self.thumbnails.get(path), name or path.name)
        self.search_field.setFocus()

    def _rerun_now(self) -> None:
        """Indexing committed more files: ask again, keeping the place in the results."""
        if self.results is not None and not self.search_field.pending():
            self.runner.submit(self.query())

    def _maybe_fetch_more(self, value: int) -> None:
        bar = self.sender()
        results = self.results
        if results is None or not hasattr(bar, "maximum"):
            return
        near_end = value >= bar.maximum() - 2 * THUMB
        if near_end and len(results.hits) >= results.query.limit and self._limit < MAX_LIMIT:
            self._limit = min(MAX_LIMIT, self._limit * 2)
            self.runner.submit(self.query())

    def _on_results(self, generation: int, results: Results) -> None:
        if not self.runner.is_current(generation):
            return
        previous = self.results
        same = previous is not None and previous.query.same_question(results.query)
        if not same:
            self.thumbnails.forget_queue()
        self.results = results
        words = query_words(results.query.text)
        for view, model, hits in (
            (self.photos, self.photos_model, results.photos),
            (self.notes, self.notes_model, results.notes),
        ):
            current = view.currentIndex()
            kept = model.hit(current.row()).path if same and current.isValid() else None
            scroll = view.verticalScrollBar().value()
            model.set_hits(hits, words)
            if kept is not None:
                row = model.row_of(kept)
                if row is not None and view.currentIndex().row() != row:
                    view.selectionModel().setCurrentIndex(
                        model.index(row), view.selectionModel().SelectionFlag.ClearAndSelect
                    )
                view.verticalScrollBar().setValue(scroll)
        if not same:
            for view in (self.photos, self.notes):
                view.scrollToTop()
        if not self.photos.currentIndex().isValid() and not self.notes.currentIndex().isValid():
            # Nothing chosen yet: the preview shows the best match, as a launcher would.
            top = results.photos[0] if results.photos else (results.notes or (None,))[0]
            self.preview.show_hit(top, words)
        self._show_results_note(results)
        self._show_sections()
        self._update_page()
        self.results_shown.emit()

    def _on_search_failed(self, generation: int, message: str) -> None:
        if not self.runner.is_current(generation):
            return
        self.results = Results(self.query())
        self.photos_model.set_hits([])
        self.notes_model.set_hits([])
        self.nothing.set_content("The search did not work", message, glyph_name="warning")
        self.pages.setCurrentWidget(self.nothing)
        self.results_shown.emit()

    def _show_results_note(self, results: Results) -> None:
        if not results.final:
            text = "Loading the model; meanwhile, these are matches of your words."
        elif results.words_only and self.services.model_problem:
            text = "Word matches only: search by meaning needs the model (see above)."
        elif results.words_only:
            text = f"Word matches only. {for_the_window(results.note)}"
        else:
            self.results_note.hide()
            return
        self.results_note.setText(text)
        self.results_note.show()

    def _show_sections(self) -> None:
        results = self.results
        photos = len(results.photos) if results else 0
        notes = len(results.notes) if results else 0
        more = "+" if results is not None and len(results.hits) >= results.query.limit else ""
        self.photos_title.setText(f"Photos · {photos:,}{more if photos else ''}")
        self.notes_title.setText(f"Notes · {notes:,}{more if notes else ''}")
        want_photos = self._kind in ("all", "photo")
        want_notes = self._kind in ("all", "note")
        if self._kind == "all" and results is not None and results.final:
            want_photos, want_notes = photos > 0 or notes == 0, notes > 0
        self.photos_section.setVisible(want_photos)
        self.notes_section.setVisible(want_notes)

    def _update_page(self) -> None:
        query = self.query()
        summary = self.summary
        if query.empty:
            if summary is not None and not summary.folders:
                self.welcome.set_suggestions(
                    [f for f in find_suggested_folders() if f not in summary.folders]
                )
                self.pages.setCurrentWidget(self.welcome)
            else:
                self._show_hint()
                self.pages.setCurrentWidget(self.hint)
            return
        results = self.results
        if results is None:
            return  # the first results are on their way: keep what is shown
        if results.hits:
            self.pages.setCurrentWidget(self.splitter)
        elif results.final:
            self._show_nothing(results)
            self.pages.setCurrentWidget(self.nothing)
        else:
            self.nothing.set_content("Searching…", results.note, glyph_name="spinner")
            self.pages.setCurrentWidget(self.nothing)

    def _show_hint(self) -> None:
        counts = self.summary.counts if self.summary else {}
        photos, notes = counts.get("photo", 0), counts.get("note", 0)
        pending = counts.get("pending", 0)
        text = (
            f"{count(photos, 'photo')} and {count(notes, 'note')} are ready to search."
            if photos or notes
            else "Nothing is indexed yet."
        )
        if pending:
            text += f" {pending:,} more are being read; they join the results as they are done."
        self.hint.set_content(
            "Type what you are looking for", f"Or drop a picture here. {text}", "", "search"
        )

    def _show_nothing(self, results: Results) -> None:
        query = results.query
        what = {"photo": "photos", "note": "notes"}.get(query.kind, "photos or notes")
        if query.image is not None:
            title = f"No {what} like this picture"
        else:
            title = f"No {what} match “{query.text.strip()}”"
        advice = results.note if results.words_only else "Try other words"
        if query.kind != "all":
            advice += ", or show all kinds (Ctrl+1)"
        if self.services.indexing:
            advice += ". Indexing is still going on: new matches will appear here by themselves"
        self.nothing.set_content(title, advice + ".", "", "search")

    # -- drops and pastes -----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.drops.accepts(event.mimeData()):
            event.acceptProposedAction()
            self.overlay.show_over()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.overlay.hide()

    def dropEvent(self, event: QDropEvent) -> None:
        self.overlay.hide()
        if self.use_dropped(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def use_dropped(self, data: QMimeData) -> bool:
        """A drop or a paste: folders are added, a picture becomes the query."""
        dropped = self.drops.read(data)
        for folder in dropped.folders:
            self.add_folder(folder)
        if dropped.message:
            self.show_message(dropped.message)
        return dropped.accepted

    def paste(self) -> None:
        data = QGuiApplication.clipboard().mimeData()
        if data is None or not self.use_dropped(data):
            self.show_message("The clipboard holds no picture.")

    # -- folders --------------------------------------------------------------------------

    def ask_for_folder(self) -> None:
        folder = choose_folder(self)
        if folder is not None:
            self.add_folder(folder)

    def add_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            self.show_message(f"{folder} is not a folder.")
            return
        known = self.summary.folders if self.summary else []
        inside = next((f for f in known if folder == f or folder.is_relative_to(f)), None)
        if inside is not None:
            self.show_message(f"{folder_name(folder)} is already watched (in {inside}).")
            return
        try:
            self.services.add_folder(folder)
        except MediafindError as e:
            QMessageBox.warning(self, "Cannot Add the Folder", str(e))
            return
        if self.summary is not None:
            self.summary.folders.append(folder)
        self.show_message(f"Added {folder}: its photos and notes are being read.")
        self._update_page()
        self._library_refresh.start()

    def remove_folder(self, folder: Path) -> None:
        try:
            self.services.remove_folder(folder)
        except MediafindError as e:
            QMessageBox.warning(self, "Cannot Remove the Folder", str(e))
            return
        self.show_message(f"No longer watching {folder}.")
        self._library_refresh.start()
        self._rerun.start()

    def open_folders(self) -> FoldersDialog:
        if self.folders_dialog is None:
            self.folders_dialog = FoldersDialog(self.services, self)
            self.folders_dialog.add_requested.connect(self.add_folder)
            self.folders_dialog.remove_requested.connect(self.remove_folder)
        self.folders_dialog.show()
        self.folders_dialog.raise_()
        self.folders_dialog.activateWindow()
        return self.folders_dialog

    def _show_errors(self) -> None:
        self.open_folders().show_errors()

    def open_settings(self) -> None:
        counts = self.summary.counts if self.summary else {}
        files = counts.get("photo", 0) + counts.get("note", 0) + counts.get("pending", 0)
        dialog = SettingsDialog(self.services, files, self)
        dialog.exec()
        dialog.deleteLater()

    # -- library and indexing -------------------------------------------------------------

    def _refresh_library(self) -> None:
        services = self.services
        in_background(lambda: read_summary(services), self._on_summary)

    def _on_summary(self, summary: LibrarySummary) -> None:
        self.summary = summary
        photos, notes = summary.counts.get("photo", 0), summary.counts.get("note", 0)
        self.counts_label.setText(
            f"Library: {count(photos, 'photo')}, {count(notes, 'note')}" if summary.folders else ""
        )
        self._on_status(self.services.status())
        self.status_widget.set_errors(summary.counts.get("error", 0))
        if self.folders_dialog is not None and self.folders_dialog.isVisible():
            self.folders_dialog.refresh()
        self._update_page()

    def _on_status(self, status: Status) -> None:
        loading = self.services.model_state == MODEL_LOADING
        self.status_widget.show_status(status, self.services.reembedding, loading)
        summary = self.summary
        if status.state == IDLE and summary is not None:
            pending = summary.counts.get("pending", 0)
            if not summary.folders:
                self.status_widget.message.setText("No folders yet")
            elif pending and self.services.model_problem:
                self.status_widget.message.setText(f"{pending:,} files wait for the model")
        self.pause_action.setText(
            "&Resume Indexing" if status.state == "paused" else "&Pause Indexing"
        )
        committed = status.state == INDEXING and status.done != self._last_done
        finished = status.state == IDLE and self._last_done >= 0
        if committed or finished:
            self._last_done = status.done if status.state == INDEXING else -1
            if not self._rerun.isActive():
                self._rerun.start()
            if not self._library_refresh.isActive():
                self._library_refresh.start()

    def _on_model_changed(self) -> None:
        services = self.services
        problem = services.model_problem
        if problem:
            self.model_banner.show_message(
                "<b>Search by meaning is off: the model cannot be loaded.</b> "
                f"{_html(for_the_window(problem))} Searching by words still works.",
                [("Choose a Model…", self.open_settings)],
                kind=WARNING,
            )
        else:
            self.model_banner.hide()
        self._on_status(services.status())

    def _on_indexing_changed(self) -> None:
        services = self.services
        problems = [p for p in (services.settings_problem, services.index_problem) if p]
        if problems:
            self.library_banner.show_message(
                "<b>New and changed files are not being indexed.</b> "
                + " ".join(_html(for_the_window(p)) for p in problems),
                [("Try Again", self.services.restart)],
                kind=ERROR if services.index_problem else INFO,
            )
        else:
            self.library_banner.hide()
        self._on_status(services.status())
        self._refresh_library()
        if self.results is not None:
            self._rerun.start()  # the library or the model may be another one now

    def _pause(self) -> None:
        if self.services.index is not None:
            self.services.index.pause()

    def _resume(self) -> None:
        if self.services.index is not None:
            self.services.index.resume()

    def _toggle_pause(self) -> None:
        if self.services.status().state == "paused":
            self._resume()
        else:
            self._pause()

    def _rescan(self) -> None:
        if self.services.index is not None:
            self.services.index.rescan()
            self.show_message("Looking for new and changed files…")

    # -- results: open, menu, preview -----------------------------------------------------

    def _enter_results(self) -> None:
        view: _ResultsView = self.photos
        if not self.photos_section.isVisible() or self.photos_model.rowCount() == 0:
            view = self.notes
        if self.pages.currentWidget() is self.splitter:
            view.enter_from_above()

    def _activated(self, index: QModelIndex) -> None:
        model = index.model()
        if isinstance(model, HitsModel):
            self._open(model.hit(index.row()).path)

    def _open(self, path: Path) -> None:
        if not desktop.open_file(path):
            self.show_message(f"No app on this computer opens {path.name}.")

    def _open_all(self, paths: list[Path]) -> None:
        for path in paths[:OPEN_AT_ONCE]:
            self._open(path)

    def _reveal(self, path: Path) -> None:
        if not desktop.show_in_folder(path):
            self.show_message(f"Cannot show {path.name} in its folder.")

    def _focused_view(self) -> _ResultsView | None:
        for view in (self.photos, self.notes):
            if view.hasFocus():
                return view
        return None

    def _copy_paths(self) -> None:
        view = self._focused_view()
        if view is None:
            focus = QGuiApplication.focusObject()
            if hasattr(focus, "copy"):
                focus.copy()
            return
        hits = view.selected_hits()
        if hits:
            desktop.copy_paths([h.path for h in hits])
            self.show_message(f"Copied {count(len(hits), 'path')}.")

    def _copy_image(self, path: Path) -> None:
        def copied(image: QImage) -> None:
            desktop.copy_image(path, image)
            self.show_message(f"Copied the picture {path.name}.")

        in_background(lambda: desktop.read_image(path), copied, self.show_message)

    def _context_menu(self, position: QPoint) -> None:
        view = self.sender()
        if not isinstance(view, _ResultsView):
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

    def result_menu(self, view: _ResultsView, index: QModelIndex) -> QMenu:
        """What can be done with a result (and the others selected with it)."""
        model = view.model()
        assert isinstance(model, HitsModel)
        hit = model.hit(index.row())
        selected = view.selected_hits()
        hits = selected if hit in selected else [hit]
        paths = [h.path for h in hits]
        menu = QMenu(self)
        menu.addAction("Open", lambda: self._open_all(paths))
        menu.addAction("Show in Folder", lambda: self._reveal(hit.path))
        menu.addSeparator()
        copy = "Copy Path" if len(paths) == 1 else "Copy Paths"
        menu.addAction(copy, lambda: desktop.copy_paths(paths))
        if hit.kind == "photo":
            menu.addAction("Copy Image", lambda: self._copy_image(hit.path))
            menu.addSeparator()
            menu.addAction("Find Similar", lambda: self.search_by_image(hit.path))
        elif hit.snippet:
            menu.addSeparator()
            passage = " ".join(hit.snippet.split())[:200]
            menu.addAction("Find Photos of This Passage", lambda: self._search_text(passage))
        return menu

    def _search_text(self, text: str) -> None:
        self.search_field.set_text(text)
        self.search_field.setFocus()

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        model = current.model()
        if isinstance(model, HitsModel) and current.isValid():
            words = self.photos_model.words
            self.preview.show_hit(model.hit(current.row()), words)

    def _thumbnail_ready(self, paths: frozenset[Path]) -> None:
        # Repaint just the cells whose pictures came, where they are in view.
        viewport = self.photos.viewport()
        shown = viewport.rect()
        for path in paths:
            row = self.photos_model.row_of(path)
            if row is not None:
                cell = self.photos.visualRect(self.photos_model.index(row))
                if cell.intersects(shown):
                    viewport.update(cell)
        chip = self.search_field.image()
        if chip is not None and chip in paths:
            field = self.search_field
            field.chip.set_picture(field.image_name, self.thumbnails.get(chip))

    # -- messages, state, about -----------------------------------------------------------

    def show_message(self, text: str) -> None:
        """A passing message in the status bar."""
        self._message = text
        self.notice.setText(text)
        self.notice.setToolTip(text)
        self._notice_timer.start()

    def _about(self) -> None:
        services = self.services
        QMessageBox.about(
            self,
            "About mediafind",
            f"<h3>mediafind {__version__}</h3>"
            "<p>Search your own photos and notes by what they show and say. Everything runs "
            "on this computer.</p>"
            f"<p>Library: {_html(str(services.library_file))}<br>"
            f"Model: {_html(services.model_text)}<br>"
            f"Log file: {_html(str(config.log_dir() / 'mediafind.log'))}</p>",
        )

    def _restore(self) -> None:
        settings = self.services.qsettings
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)
        for key, splitter in (
            ("window/splitter", self.splitter),
            ("window/sections", self.sections),
        ):
            state = settings.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
        kind = settings.value("window/kind", "all")
        self.set_kind(kind if kind in {k for k, _ in KINDS} else "all")
        preview = settings.value("window/preview", True)
        self.preview_action.setChecked(preview not in (False, "false"))

    def save_state(self) -> None:
        settings = self.services.qsettings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/splitter", self.splitter.saveState())
        settings.setValue("window/sections", self.sections.saveState())
        settings.setValue("window/kind", self._kind)
        settings.setValue("window/preview", self.preview_action.isChecked())
        settings.sync()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.thumbnails.device_pixel_ratio = self.devicePixelRatioF()
        self.pictures.device_pixel_ratio = self.devicePixelRatioF()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.runner.shutdown()
        super().closeEvent(event)


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


def _single_shot(parent: QWidget, msecs: int, slot: object) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(msecs)
    timer.timeout.connect(slot)
    return timer


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def folder_name(folder: Path) -> str:
    return folder.name or str(folder)
