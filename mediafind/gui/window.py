"""The main window: the search field, the results (photo grid and notes list), the preview, and
the status bar. Its collaborators come in through the SessionBridge; it owns no global state."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QMimeData, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mediafind import __version__, config
from mediafind.embed import LOCAL_DIR
from mediafind.errors import MediafindError
from mediafind.gui.bridge import SessionBridge
from mediafind.gui.doctor_dialog import DoctorDialog
from mediafind.gui.dropping import DropOverlay, DropReader
from mediafind.gui.duplicates import DuplicatesDialog
from mediafind.gui.eval_dialog import EvalDialog
from mediafind.gui.folders import FoldersDialog, choose_folder
from mediafind.gui.grid import THUMB
from mediafind.gui.help import QueryNotice, ShortcutsDialog
from mediafind.gui.icons import app_icon
from mediafind.gui.jobs import in_background
from mediafind.gui.menus import build_menus
from mediafind.gui.notices import (
    ERROR,
    INFO,
    WARNING,
    Banner,
    HintPage,
    NothingPage,
    WelcomePage,
    for_the_window,
)
from mediafind.gui.notices import suggested_folders as find_suggested_folders
from mediafind.gui.pane import ResultsPane
from mediafind.gui.preview import known_names
from mediafind.gui.results import folder_label
from mediafind.gui.runner import SearchRunner
from mediafind.gui.searchfield import KIND_LABELS, KindFilter, SearchField
from mediafind.gui.settings_dialog import (
    SettingsDialog,
    choose_model_folder,
    confirm_model_change,
)
from mediafind.gui.statusbar import IndexingStatus
from mediafind.gui.thumbnails import ThumbnailCache
from mediafind.gui.toolbar import ResultsToolbar
from mediafind.gui.viewer import Viewer
from mediafind.gui.windowstate import Choices, restore_window, save_window
from mediafind.keeper import IDLE, INDEXING, PAUSED, SCANNING, Status
from mediafind.query import ALL, RELEVANCE, Query, parse
from mediafind.report import Overview
from mediafind.session import MODEL_LOADING, Results

log = logging.getLogger(__name__)

# While indexing, the current query runs again at most this often, so that new matches appear
# without retyping. More often costs searches nobody reads; less often feels stale.
RERUN_MS = 1500
# Counts, errors and folders are read again at most this often while indexing.
LIBRARY_REFRESH_MS = 2000
# Side of the big preview picture, in logical pixels.
PREVIEW_PIXELS = 720
# Results asked for at first. Enough to fill a big screen of thumbnails twice; more are fetched
# when the user scrolls near the end (each fetch re-runs the query, which costs milliseconds).
FIRST_LIMIT = 200
# sqlite-vec answers at most 4096 neighbours per query.
MAX_LIMIT = 4000
# Browsing asks no neighbours: its pages grow until the whole library is listed.
BROWSE_LIMIT = 10_000_000
# The link of the results' note that lifts the library's relevance cutoff for this search.
SHOW_ALL = "show-all"


class MainWindow(QMainWindow):
    """The window people use every day."""

    results_shown = Signal()  # the views show a search's results (tests wait for it)

    def __init__(self, bridge: SessionBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.setWindowTitle("mediafind")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setMinimumSize(720, 480)
        self.thumbnails = ThumbnailCache(config.cache_dir() / "thumbnails", THUMB, parent=self)
        self.pictures = ThumbnailCache(None, PREVIEW_PIXELS, 48 * 1024 * 1024, parent=self)
        self.session = bridge.session
        self.runner = SearchRunner(self.session, self)
        self.drops = DropReader(config.cache_dir() / "queries", self)
        self.results: Results | None = None
        self.overview: Overview | None = None
        self.watched: list[Path] = []  # the watched folders, as last read or since added
        self._kind = ALL
        self._pinned: str | None = None  # the filter the window opens on, if not All
        self._sort = RELEVANCE  # the sort menu's choice; a query's own sort: wins
        self._limit = FIRST_LIMIT
        self._last_done = -1
        self._working = False  # the last status was indexing or scanning
        self._last_refresh = 0.0  # time.monotonic() of the last library read
        self._build()
        menus = build_menus(self)
        self.add_folder_action, self.folders_action = menus.add_folder, menus.folders
        self.kind_actions, self.pin_action = menus.kinds, menus.pin
        self.preview_action, self.pause_action = menus.preview, menus.pause
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
        self.kind_filter = KindFilter(central)
        top.addWidget(self.kind_filter)
        column.addLayout(top)
        self.query_notice = QueryNotice(central)
        column.addWidget(self.query_notice)

        self.model_banner = Banner(central)
        self.library_banner = Banner(central)
        column.addWidget(self.model_banner)
        column.addWidget(self.library_banner)

        self.toolbar = ResultsToolbar(central)
        column.addWidget(self.toolbar)
        self.pages = QStackedWidget(central)
        column.addWidget(self.pages, 1)
        self.welcome = WelcomePage(self.pages)
        self.hint = HintPage(self.pages)
        self.nothing = NothingPage(self.pages)
        self.pages.addWidget(self.hint)
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.nothing)

        reader = self.session.open_reader
        self.pane = ResultsPane(self.thumbnails, self.pictures, reader, self.pages)
        self.pages.addWidget(self.pane)

        # Permanent: QStatusBar's own messages would hide the indexing progress while they show.
        self.status_widget = IndexingStatus(self)
        self.statusBar().addPermanentWidget(self.status_widget, 1)
        self.overlay = DropOverlay(central)
        # Over everything in the window but its menus and status bar, while a photo is viewed.
        self.viewer = Viewer(self.pane.photos_model, central)

    def _connect(self) -> None:
        bridge = self.bridge
        bridge.status_changed.connect(self._on_status)
        bridge.model_changed.connect(self._on_model_changed)
        bridge.indexing_changed.connect(self._on_indexing_changed)
        self.runner.finished.connect(self._on_results)
        self.runner.failed.connect(self._on_search_failed)
        self.search_field.query_changed.connect(self.search)
        self.search_field.submitted.connect(self.search)
        self.search_field.move_down.connect(self._enter_results)
        self.search_field.image_pasted.connect(self.use_dropped)
        self.kind_filter.chosen.connect(self.set_kind)
        self.thumbnails.ready.connect(self._chip_thumbnail)
        self.drops.image_ready.connect(self.search_by_image)
        self.drops.failed.connect(self.show_message)
        self.welcome.add_clicked.connect(self.ask_for_folder)
        self.welcome.suggestion_clicked.connect(self.add_folder)
        self.status_widget.pause_clicked.connect(self._pause)
        self.status_widget.resume_clicked.connect(self._resume)
        self.status_widget.errors_clicked.connect(self._show_errors)
        self.pane.message.connect(self.show_message)
        self.pane.similar_wanted.connect(self.search_by_image)
        self.pane.passage_wanted.connect(self._search_text)
        self.pane.leave_top.connect(self.focus_search)
        note = self.pane.results_note
        note.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        note.linkActivated.connect(lambda link: self.show_all() if link == SHOW_ALL else None)
        self.pane.more_wanted.connect(self._fetch_more)
        self.search_field.watched_folders = lambda: self.watched  # suggested after in:
        reader = self.session.open_reader  # the names suggested after person: and place:
        self.search_field.known_names = lambda key: known_names(reader, key)
        self.toolbar.sort_chosen.connect(self.set_sort)
        self.toolbar.size_chosen.connect(self.pane.photos.set_thumb_size)
        self.pane.photos.thumb_size_changed.connect(self.toolbar.show_size)
        self.pages.currentChanged.connect(
            lambda: self.toolbar.setVisible(self.pages.currentWidget() is self.pane)
        )
        self.pane.view_wanted.connect(self.viewer.open_at)
        self.pane.trashed.connect(self._trashed)
        self.viewer.closed.connect(self.pane.return_to)
        self.viewer.open_requested.connect(self.pane.open)
        self._rerun = _single_shot(self, RERUN_MS, self._rerun_now)
        self._library_refresh = _single_shot(self, LIBRARY_REFRESH_MS, self._refresh_library)
        self.folders_dialog: FoldersDialog | None = None

    # -- searching ------------------------------------------------------------------------

    def query(self) -> Query:
        """What the field asks, read as it is being typed, with the picture chip first and the
        kind of the filter buttons (unless the words say kind:)."""
        query = parse(self.search_field.text(), lenient=True)
        image = self.search_field.image()
        if image is not None:
            query = query.with_image(image, first=True)
        return query.narrowed(kind=self._kind, sort=self._sort)

    def search(self) -> None:
        """Search for what the field holds now (a new question starts at the first page)."""
        query = self.query()
        if self.results is None or self.results.query != query:
            self._limit = FIRST_LIMIT
        self._follow_words(query)
        # A sort: in the words differs from the menu's choice (which the query took otherwise).
        self.toolbar.show_order(query.order, query.sort != self._sort, query.empty)
        if self._asks_nothing(query):
            self.runner.cancel()
            self.results = None
            self.pane.clear()
            self._update_page()
            return
        self.runner.submit(query, self._limit)

    def set_kind(self, kind: str) -> None:
        """The kind switch (or its menu) chose: it says the kind now, so a kind: typed goes."""
        self._kind = kind
        self.search_field.drop_key("kind")
        index = next(i for i, (k, _) in enumerate(KIND_LABELS) if k == kind)
        self.kind_filter.show_kind(kind)
        self.kind_actions.actions()[index].setChecked(True)
        with QSignalBlocker(self.pin_action):
            self.pin_action.setChecked(self._pinned == kind)
        self.pin_action.setEnabled(kind != ALL)
        self.pane.show_sections(self.results, kind)
        self.search()

    def _follow_words(self, query: Query) -> None:
        """The kind switch shows the kind the words say (kind:photo), else the one chosen; the
        line under the field says why an in: folder can find nothing."""
        self.kind_filter.show_kind(query.kind)
        index = next(i for i, (k, _) in enumerate(KIND_LABELS) if k == query.kind)
        self.kind_actions.actions()[index].setChecked(True)
        # Until the library is read, which folders are watched is not known.
        self.query_notice.show_folder(query.folder if self.overview else None, self.watched)

    def show_shortcuts(self) -> ShortcutsDialog:
        """Every key of the window, as it is now (Help → Keyboard Shortcuts)."""
        places: dict[QWidget, str] = {self.search_field: "Search", self.pane: "Results"}
        dialog = ShortcutsDialog(self, places)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def set_sort(self, order: str) -> None:
        """The sort menu's choice: the order of results whose query says no sort: itself."""
        self._sort = order
        self.search()

    def focus_search(self) -> None:
        self.viewer.close_viewer()
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.line.selectAll()

    def search_by_image(self, path: Path, name: str = "") -> None:
        self.search_field.set_image(path, self.thumbnails.get(path), name or path.name)
        self.search_field.setFocus()

    def _rerun_now(self) -> None:
        """Indexing committed more files: ask again, keeping the place in the results."""
        if self.results is not None and not self.search_field.pending():
            self.runner.submit(self.query(), self._limit)

    def _fetch_more(self) -> None:
        """Scrolled near the end of a list that may hold more: ask for the next page."""
        results = self.results
        if results is None or not results.may_have_more:
            return
        most = BROWSE_LIMIT if results.query.empty else MAX_LIMIT
        if self._limit < most and results.limit == self._limit:
            self._limit = min(most, self._limit * 2)
            self.runner.submit(self.query(), self._limit)

    def _on_results(self, generation: int, results: Results) -> None:
        if not self.runner.is_current(generation):
            return
        previous = self.results
        same = previous is not None and previous.query == results.query
        self.results = results
        # The model's answer after word matches shown while it loaded: nothing moves under the
        # cursor (what is above the chosen result stays).
        steady = same and previous is not None and not previous.final and results.final
        self.pane.show_results(results, same, results.query.kind, steady=steady)
        self.pane.show_note(self._note_for(results))
        self._update_page()
        self.results_shown.emit()

    def _on_search_failed(self, generation: int, message: str) -> None:
        if not self.runner.is_current(generation):
            return
        self.results = Results(self.query(), self._limit)
        self.pane.clear()
        self.nothing.set_content("The search did not work", message, glyph_name="warning")
        self.pages.setCurrentWidget(self.nothing)
        self.results_shown.emit()

    def _note_for(self, results: Results) -> str:
        """How the results were found, when it is not the usual way."""
        if not results.final:
            return "Loading the model; meanwhile, these are matches of your words."
        if results.words_only and self.session.model_problem:
            return "Word matches only: search by meaning needs the model (see above)."
        if results.words_only:
            return f"Word matches only. {for_the_window(results.note)}"
        if results.hidden:
            return ("Showing results above your library's relevance cutoff · "
                    f"<a href='{SHOW_ALL}'>Show all</a>")  # fmt: skip
        return ""

    def _asks_nothing(self, query: Query) -> bool:
        """An empty field with no folder to show (yet). With folders, an empty field lists the
        library newest first, and filters alone what passes them."""
        return query.empty and not self.search_field.text().strip() and not self.watched

    def _update_page(self) -> None:
        query = self.query()
        overview = self.overview
        if self._asks_nothing(query):
            if overview is not None:
                self.welcome.set_suggestions(find_suggested_folders())
                self.pages.setCurrentWidget(self.welcome)
            else:
                self.hint.show_library({})
                self.pages.setCurrentWidget(self.hint)
            return
        results = self.results
        if results is None:
            return  # the first results are on their way: keep what is shown
        if results.hits:
            self.pages.setCurrentWidget(self.pane)
        elif results.final and query.empty and not self.search_field.text().strip():
            # Nothing to list yet: what to do, and what is being read.
            self.hint.show_library(overview.counts if overview else {})
            self.pages.setCurrentWidget(self.hint)
        elif results.final:
            self.nothing.show_nothing(results, self.session.indexing)
            self.pages.setCurrentWidget(self.nothing)
        else:
            self.nothing.set_content("Searching…", results.note, glyph_name="spinner")
            self.pages.setCurrentWidget(self.nothing)

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
        inside = next((f for f in self.watched if folder == f or folder.is_relative_to(f)), None)
        if inside == folder:
            self.show_message(f"{folder_label(folder)} is already in the library.")
            return
        if inside is not None:
            self.show_message(
                f"{folder_label(folder)} is already in the library, inside {folder_label(inside)}."
            )
            return
        try:
            self.session.add_folder(folder)
        except MediafindError as e:
            QMessageBox.warning(self, "Cannot Add the Folder", for_the_window(str(e)))
            return
        # A folder above some of the library's takes them in, with their files (store.add_root).
        within = [f for f in self.watched if f.is_relative_to(folder)]
        self.watched = [f for f in self.watched if f not in within] + [folder]
        taken = ", ".join(folder_label(f) for f in within)
        self.show_message(
            f"Added {folder_label(folder)}; it takes in {taken}." if within
            else f"Added {folder_label(folder)}."
        )  # fmt: skip
        self._update_page()
        self._library_refresh.start()

    def remove_folder(self, folder: Path) -> None:
        try:
            self.session.remove_folder(folder)
        except MediafindError as e:
            QMessageBox.warning(self, "Cannot Remove the Folder", str(e))
            return
        self.show_message(f"No longer watching {folder}.")
        self._library_refresh.start()
        self._rerun.start()

    def open_folders(self) -> FoldersDialog:
        if self.folders_dialog is None:
            self.folders_dialog = FoldersDialog(self.session, self)
            self.folders_dialog.add_requested.connect(self.add_folder)
            self.folders_dialog.remove_requested.connect(self.remove_folder)
        self.folders_dialog.show()
        self.folders_dialog.raise_()
        self.folders_dialog.activateWindow()
        return self.folders_dialog

    def _show_errors(self) -> None:
        self.open_folders().show_errors()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.session, self._files_read(), self)
        dialog.exec()
        dialog.deleteLater()

    def choose_model_folder(self) -> None:
        """Ask for a model folder at once, and use it (after asking, if the library must be
        read again)."""
        session = self.session
        if session.model_locked_by:
            self.show_message(f"The model is chosen with {session.model_locked_by} this time.")
            return
        folder = choose_model_folder(self)
        if folder is not None:
            self.use_model(f"{LOCAL_DIR}{folder}")

    def use_model(self, spec: str) -> bool:
        """Make spec the library's model, after asking if the library must be read again;
        whether it was made."""
        session = self.session
        if session.model_locked_by:
            self.show_message(f"The model is chosen with {session.model_locked_by} this time.")
            return False
        if not confirm_model_change(self, session, spec, self._files_read()):
            return False
        session.apply_settings(session.settings.with_changes(model=spec))
        return True

    def _files_read(self) -> int:
        """Photos and notes the library holds read (what a new model reads again)."""
        counts = self.overview.counts if self.overview else {}
        return counts.get("photo", 0) + counts.get("note", 0)

    # -- library and indexing -------------------------------------------------------------

    def _refresh_library(self) -> None:
        self._last_refresh = time.monotonic()
        self._library_refresh.stop()
        in_background(self.session.overview, self._on_overview)

    def _refresh_soon(self) -> None:
        """Read the library's counts now, unless that was done a moment ago: then when the
        moment has passed (the counts follow indexing live, at most every few seconds)."""
        waited = (time.monotonic() - self._last_refresh) * 1000
        if waited >= LIBRARY_REFRESH_MS:
            self._refresh_library()
        elif not self._library_refresh.isActive():
            self._library_refresh.start(round(LIBRARY_REFRESH_MS - waited))

    def _on_overview(self, overview: Overview) -> None:
        self.overview = overview
        browsing = self.results is None and self.query().empty
        self.watched = [f.path for f in overview.folders]
        if browsing and self.watched:
            self.search()  # the library is known now: list it
        self.status_widget.show_library(overview.counts, bool(overview.folders))
        self._on_status(self.session.status())
        if self.folders_dialog is not None and self.folders_dialog.isVisible():
            self.folders_dialog.show_overview(overview)
        self._update_page()

    def _on_status(self, status: Status) -> None:
        session = self.session
        loading = session.model_state == MODEL_LOADING
        waiting = bool(session.model_problem)  # pending files wait for a model that cannot load
        self.status_widget.show_status(status, loading, waiting)
        self.pause_action.setText(
            "&Resume Indexing" if status.state == "paused" else "&Pause Indexing"
        )
        working = status.state in (INDEXING, SCANNING)
        committed = status.state == INDEXING and status.done != self._last_done
        finished = status.state == IDLE and self._working
        self._working = working or (self._working and status.state == PAUSED)
        if committed:
            self._last_done = status.done
            if not self._rerun.isActive():
                self._rerun.start()
            self._refresh_soon()
        elif finished:
            # Files were embedded, or a scan removed or moved some: the counts, the unreadable
            # files and the results follow at once.
            self._last_done = -1
            self._rerun_now()
            self._refresh_library()

    def _on_model_changed(self) -> None:
        session = self.session
        problem = session.model_problem
        if problem:
            self.model_banner.show_message(
                "<b>Search by meaning is off: the model cannot be loaded.</b> "
                f"{_html(for_the_window(problem))} Searching by words still works.",
                [
                    ("Choose a Model Folder…", self.choose_model_folder),
                    ("Settings…", self.open_settings),
                ],
                kind=WARNING,
            )
        else:
            self.model_banner.hide()
        self._on_status(session.status())

    def _on_indexing_changed(self) -> None:
        session = self.session
        problems = [p for p in (session.settings_problem, session.index_problem) if p]
        if problems:
            self.library_banner.show_message(
                "<b>New and changed files are not being indexed.</b> "
                + " ".join(_html(for_the_window(p)) for p in problems),
                [("Try Again", session.restart)],
                kind=ERROR if session.index_problem else INFO,
            )
        else:
            self.library_banner.hide()
        self._on_status(session.status())
        self._refresh_library()
        if self.results is not None:
            self._rerun.start()  # the library or the model may be another one now

    def _pause(self) -> None:
        if self.session.index is not None:
            self.session.index.pause()

    def _resume(self) -> None:
        if self.session.index is not None:
            self.session.index.resume()

    def toggle_pause(self) -> None:
        if self.session.status().state == "paused":
            self._resume()
        else:
            self._pause()

    def rescan(self) -> None:
        # The status bar says "Looking for new and changed files…" while it looks.
        if self.session.index is not None:
            self.session.index.rescan()

    # -- results: open, menu, preview -----------------------------------------------------

    def _enter_results(self) -> None:
        if self.pages.currentWidget() is self.pane:
            self.pane.enter_from_above()

    def _trashed(self, paths: list[Path]) -> None:
        """Files went to the trash from the results: the library looks again, so that it
        forgets them even where no folder is watched."""
        if self.session.index is not None:
            self.session.index.rescan()

    def _search_text(self, text: str) -> None:
        self.search_field.set_text(text)
        self.search_field.setFocus()

    def _chip_thumbnail(self, paths: frozenset[Path]) -> None:
        chip = self.search_field.image()
        if chip is not None and chip in paths:
            field = self.search_field
            field.chip.set_picture(field.image_name, self.thumbnails.get(chip))

    # -- messages, state, about -----------------------------------------------------------

    def show_message(self, text: str) -> None:
        """A passing message in the status bar."""
        self.status_widget.show_message(text)

    def check_library(self) -> DoctorDialog:
        """Help → Check Library: the doctor's findings, and a repair."""
        dialog = DoctorDialog(self.session, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def evaluate_search(self) -> EvalDialog:
        """Help → How Well Does Search Work on My Photos?: the evaluation's report."""
        dialog = EvalDialog(self.session, self, use_model=self.use_model)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_all(self) -> None:
        """Search again without the library's relevance cutoff (this query only)."""
        if self.results is not None:
            self.runner.uncut = self.results.query
            self.runner.submit(self.results.query, self._limit)

    def find_duplicates(self) -> DuplicatesDialog:
        """Edit → Find Duplicates: the groups of duplicate photos, to trash the extra copies."""
        dialog = DuplicatesDialog(self.session, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.trashed.connect(self._trashed)
        dialog.show()
        return dialog

    def show_about(self) -> None:
        session = self.session
        QMessageBox.about(
            self,
            "About mediafind",
            f"<h3>mediafind {__version__}</h3>"
            "<p>Search your own photos and notes by what they show and say. Everything runs "
            "on this computer.</p>"
            f"<p>Library: {_html(str(session.library_file))}<br>"
            f"Model: {_html(session.model_text)}<br>"
            f"Log file: {_html(str(config.log_dir() / 'mediafind.log'))}</p>",
        )

    def _restore(self) -> None:
        choices = restore_window(self, self.pane, self.bridge.window_state)
        self._sort = choices.sort  # set_kind searches with it
        self._pinned = choices.pinned
        self.set_kind(self._pinned or ALL)
        self.preview_action.setChecked(choices.preview)
        self.pane.photos.set_thumb_size(choices.thumb)
        self.toolbar.show_size(self.pane.photos.thumb_size)

    def pin_filter(self, pinned: bool) -> None:
        """View → Open on This Filter: the window opens on Photos (or Notes) from now on."""
        self._pinned = self._kind if pinned and self._kind != ALL else None

    def save_state(self) -> None:
        preview = self.preview_action.isChecked()
        choices = Choices(self._sort, self._pinned, preview, self.pane.photos.thumb_size)
        save_window(self, self.pane, choices, self.bridge.window_state)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.thumbnails.device_pixel_ratio = self.devicePixelRatioF()
        self.pictures.device_pixel_ratio = self.devicePixelRatioF()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.runner.shutdown()
        super().closeEvent(event)


def _single_shot(parent: QWidget, msecs: int, slot: object) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(msecs)
    timer.timeout.connect(slot)
    return timer


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
