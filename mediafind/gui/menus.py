"""The window's menu bar: File, Edit, View, Indexing and Help, each action wired to what the
window does, with its shortcut (Help → Keyboard Shortcuts lists them, and a test holds them
apart)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut

from mediafind.gui.duplicates import DuplicatesDialog
from mediafind.gui.grid import THUMB
from mediafind.gui.help import SHORTCUTS_KEY, TIPS_KEY
from mediafind.gui.searchfield import KIND_LABELS

if TYPE_CHECKING:
    from mediafind.gui.window import MainWindow


class MenuActions(NamedTuple):
    """The menus' actions that the window checks, renames or enables later."""

    add_folder: QAction
    folders: QAction
    kinds: QActionGroup  # View → All, Photos, Notes…, in KIND_LABELS' order
    pin: QAction
    preview: QAction
    pause: QAction


def build_menus(window: MainWindow) -> MenuActions:
    """The window's menus, their actions connected to it."""
    bar = window.menuBar()
    file = bar.addMenu("&File")
    add_folder = file.addAction("&Add Folder…", QKeySequence.StandardKey.Open)
    add_folder.triggered.connect(window.ask_for_folder)
    folders = file.addAction("Watched &Folders…")
    folders.setShortcut(QKeySequence("Ctrl+Shift+O"))
    folders.triggered.connect(window.open_folders)
    file.addSeparator()
    settings = file.addAction("&Settings…", QKeySequence.StandardKey.Preferences)
    settings.setMenuRole(QAction.MenuRole.PreferencesRole)
    if settings.shortcut().isEmpty():
        settings.setShortcut(QKeySequence("Ctrl+,"))
    settings.triggered.connect(window.open_settings)
    file.addSeparator()
    quit_action = file.addAction("&Quit", QKeySequence.StandardKey.Quit)
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    quit_action.triggered.connect(window.close)

    edit = bar.addMenu("&Edit")
    find = edit.addAction("&Find", QKeySequence.StandardKey.Find)
    find.triggered.connect(window.focus_search)
    QShortcut(QKeySequence("Ctrl+L"), window, window.focus_search).setWhatsThis("Go to the search")
    paste = edit.addAction("&Paste Picture", QKeySequence.StandardKey.Paste)
    paste.setToolTip("Search by the picture on the clipboard")
    paste.triggered.connect(window.paste)
    edit.addAction(window.pane.copy_action)
    edit.addAction(window.pane.copy_path_action)
    edit.addSeparator()
    duplicates = edit.addAction("Find &Duplicates…")
    duplicates.setToolTip(DuplicatesDialog.TIP)
    duplicates.triggered.connect(window.find_duplicates)

    view = bar.addMenu("&View")
    kinds = QActionGroup(window)
    for i, (kind, label) in enumerate(KIND_LABELS):
        action = view.addAction(label)
        action.setCheckable(True)
        action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
        action.setData(kind)
        kinds.addAction(action)
    kinds.triggered.connect(lambda a: window.set_kind(str(a.data())))
    pin = view.addAction("Open on This &Filter")
    pin.setCheckable(True)
    pin.setToolTip("Start mediafind on this filter (All, Photos or Notes)")
    pin.toggled.connect(window.pin_filter)
    view.addSeparator()
    preview = view.addAction("&Preview")
    preview.setCheckable(True)
    preview.setChecked(True)
    preview.setShortcut(QKeySequence("Ctrl+P"))
    preview.toggled.connect(window.pane.preview.setVisible)
    view.addSeparator()
    grid = window.pane.photos
    larger = view.addAction("&Larger Thumbnails", lambda: grid.zoom(1))
    larger.setShortcuts([QKeySequence("Ctrl++"), QKeySequence("Ctrl+=")])  # = is + unshifted
    smaller = view.addAction("&Smaller Thumbnails", lambda: grid.zoom(-1))
    smaller.setShortcut(QKeySequence("Ctrl+-"))
    reset = view.addAction("&Default Size", lambda: grid.set_thumb_size(THUMB))
    reset.setShortcut(QKeySequence("Ctrl+0"))

    indexing = bar.addMenu("&Indexing")
    pause = indexing.addAction("&Pause Indexing")
    pause.triggered.connect(window.toggle_pause)
    rescan = indexing.addAction("&Look for Changes Now")
    rescan.triggered.connect(window.rescan)

    help_menu = bar.addMenu("&Help")
    tips = help_menu.addAction("&Search Tips", QKeySequence(TIPS_KEY))
    tips.triggered.connect(window.search_field.show_tips)
    keys = help_menu.addAction("&Keyboard Shortcuts", QKeySequence(SHORTCUTS_KEY))
    keys.triggered.connect(window.show_shortcuts)
    help_menu.addSeparator()
    check = help_menu.addAction("&Check Library…")
    check.setToolTip("Look for damage in the library and repair it")
    check.triggered.connect(window.check_library)
    how_well = help_menu.addAction("&How Well Does Search Work on My Photos?")
    how_well.setToolTip("Measure search on your captioned photos, and set a relevance cutoff")
    how_well.triggered.connect(window.evaluate_search)
    about = help_menu.addAction("&About mediafind")
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.triggered.connect(window.show_about)
    return MenuActions(add_folder, folders, kinds, pin, preview, pause)
