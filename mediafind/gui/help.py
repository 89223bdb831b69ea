"""Help in the window: the search tips under the search field, the notice that says why an in:
folder finds nothing, and the list of every key the window knows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPalette,
    QShortcut,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mediafind.query import OPERATORS, folder_problem

# The keys of the two help windows, named here so that the window, the tips and the list agree.
TIPS_KEY = "F1"
SHORTCUTS_KEY = "Ctrl+/"
# Groups of keys that belong to no menu, in the order the list shows them before the menus.
SEARCH, RESULTS, WINDOW = "Search", "Results", "Window"
# Keys that widgets handle themselves (keyPressEvent), so no action or shortcut names them:
# (group, keys, what they do). Keys are written as QKeySequence reads them.
TYPED_KEYS = (
    (SEARCH, ("Return",), "Search now (the search also runs as you type)"),
    (SEARCH, ("Down",), "Go down to the results"),
    (SEARCH, ("Escape",), "Clear the words and the picture"),
    (SEARCH, ("Backspace",), "Remove the picture (when no words are typed)"),
    (SEARCH, ("Tab", "Return"), "Take the highlighted suggestion (after kind:, in:, type:, …)"),
    (RESULTS, ("Up", "Down", "Left", "Right"), "Move between results"),
    (RESULTS, ("Up",), "Back to the search field (from the first row)"),
    (RESULTS, ("Return",), "Open the file"),
    (RESULTS, ("Shift+Down", "Ctrl+A"), "Select several results, or all"),
)


class SearchTips(QFrame):
    """The query language under the search field: each operator, what it does, and an example
    that goes into the field when clicked. A popup: Escape or a click elsewhere closes it."""

    example_chosen = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Search tips")
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 12, 14, 12)
        column.setSpacing(10)
        column.setSizeConstraint(QVBoxLayout.SizeConstraint.SetFixedSize)  # as big as its text
        title = QLabel("<b>Search tips</b> — click an example to add it to your search", self)
        column.addWidget(title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        code = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.examples: list[QLabel] = []
        self.meanings: list[QLabel] = []
        for row, operator in enumerate(OPERATORS):
            syntax = QLabel(operator.syntax, self)
            syntax.setFont(code)
            meaning = QLabel(operator.meaning, self)
            example = _ExampleLink(operator.example, code, self)
            example.clicked.connect(self._choose)
            example.installEventFilter(self)
            grid.addWidget(syntax, row, 0)
            grid.addWidget(meaning, row, 1)
            grid.addWidget(example, row, 2)
            self.examples.append(example)
            self.meanings.append(meaning)
        column.addLayout(grid)
        tips_key = _native(QKeySequence(TIPS_KEY))
        keys = _native(QKeySequence(SHORTCUTS_KEY))
        footer = QLabel(
            "Suggestions appear as you type kind:, type:, in:, after:, before: or sort: — "
            f"Tab or Enter takes one.\n{tips_key} shows these tips; {keys} lists every key.",
            self,
        )
        footer.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        column.addWidget(footer)

    def open_under(self, widget: QWidget) -> None:
        """Show under widget (inside its screen), with the first example focused."""
        self.adjustSize()
        place = widget.mapToGlobal(QPoint(0, widget.height() + 2))
        screen = widget.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            room = screen.availableGeometry()
            place.setX(max(room.left(), min(place.x(), room.right() - self.width())))
        self.move(place)
        self.show()
        self.activateWindow()
        self.examples[0].setFocus(Qt.FocusReason.PopupFocusReason)

    def _choose(self, example: str) -> None:
        self.close()
        self.example_chosen.emit(example)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up and Down move between the examples; Enter or Space takes the focused one."""
        if event.type() == QEvent.Type.KeyPress and watched in self.examples:
            assert isinstance(event, QKeyEvent) and isinstance(watched, _ExampleLink)
            key = event.key()
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                step = 1 if key == Qt.Key.Key_Down else -1
                index = (self.examples.index(watched) + step) % len(self.examples)
                self.examples[index].setFocus(Qt.FocusReason.TabFocusReason)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
                self._choose(watched.example)
                return True
        return super().eventFilter(watched, event)


class _ExampleLink(QLabel):
    """An example query that looks like a link, takes the focus and says when it is clicked."""

    clicked = Signal(str)

    def __init__(self, example: str, font: QFont, parent: QWidget) -> None:
        super().__init__(example, parent)
        self.example = example
        self.setFont(font)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setForegroundRole(QPalette.ColorRole.Link)
        self.setToolTip(f"Add {example} to the search")
        self.setAccessibleName(f"Example: {example}")
        self.setStyleSheet("QLabel:focus { text-decoration: underline; }")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit(self.example)


class QueryNotice(QLabel):
    """A quiet line under the search field, shown when the query cannot find anything for a
    reason the user can fix (an in: folder that is not there, or not in the library)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setContentsMargins(4, 0, 4, 0)
        self.hide()

    def show_folder(self, folder: Path | None, watched: Sequence[Path]) -> None:
        """Say what is wrong with the in: folder, if anything (None: no in:)."""
        problem = folder_problem(folder, watched) if folder is not None else None
        self.setText(problem or "")
        self.setVisible(problem is not None)


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One line of the keys list."""

    group: str
    keys: str  # as the platform writes them
    what: str


def window_keys(window: QMainWindow, places: Mapping[QWidget, str]) -> list[KeyRow]:
    """Every key of window, read from its actions and shortcuts now (so keys added by any part
    of the window are listed), and the keys its widgets handle themselves. A key of an action
    in a menu is grouped by the menu; any other by where it works: the first of places that
    holds it, another window by its title, else the window."""
    menus = _menu_titles(window)
    rows = [KeyRow(g, _either([QKeySequence(k) for k in keys]), w) for g, keys, w in TYPED_KEYS]
    for action in window.findChildren(QAction):
        keys = [k for k in action.shortcuts() if not k.isEmpty()]
        if keys and action.text():
            group = menus.get(action) or _place(action.parent(), window, places)
            rows.append(KeyRow(group, _either(keys), _plain(action.text())))
    for shortcut in window.findChildren(QShortcut):
        if not shortcut.key().isEmpty():
            what = shortcut.whatsThis() or "(no description)"
            place = _place(shortcut.parent(), window, places)
            rows.append(KeyRow(place, _native(shortcut.key()), what))
    order = [SEARCH, RESULTS, *dict.fromkeys(menus.values())]
    rank = {g: i for i, g in enumerate(order)}
    last = len(order) + 1  # other windows, then the window itself
    unique = list(dict.fromkeys(rows))  # the order of finding stays within a group
    return sorted(unique, key=lambda r: (rank.get(r.group, last + (r.group == WINDOW)), r.group))


def _menu_titles(window: QMainWindow) -> dict[QAction, str]:
    """Each action of the menu bar (submenus too) with the title of its menu."""
    titles: dict[QAction, str] = {}

    def walk(menu: QMenu, title: str) -> None:
        for action in menu.actions():
            submenu = action.menu()
            if isinstance(submenu, QMenu):
                walk(submenu, title)
            else:
                titles.setdefault(action, title)

    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            walk(menu, _plain(top.text()))
    return titles


def _place(owner: QObject | None, window: QMainWindow, places: Mapping[QWidget, str]) -> str:
    """The group of a key that works in owner: the first of places that holds owner, another
    window by its title, else the window."""
    while owner is not None and owner is not window:
        if isinstance(owner, QWidget):
            if owner in places:
                return places[owner]
            if owner.isWindow() and owner.windowTitle():
                return owner.windowTitle()
        owner = owner.parent()
    return WINDOW


def _plain(text: str) -> str:
    """A menu text without its mnemonic and trailing ellipsis: "&Add Folder…" → "Add Folder"."""
    return text.replace("&&", "\x00").replace("&", "").replace("\x00", "&").rstrip("…").strip()


def _native(key: QKeySequence) -> str:
    return key.toString(QKeySequence.SequenceFormat.NativeText)


def _either(keys: Sequence[QKeySequence]) -> str:
    """Keys that do the same, as the platform writes them: "Up, Down, Left or Right"."""
    names = [_native(k) for k in keys]
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)


class ShortcutsDialog(QDialog):
    """Every key of the window, grouped, as the window has them at the moment it opens."""

    def __init__(self, window: QMainWindow, places: Mapping[QWidget, str]) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = window_keys(window, places)
        column = QVBoxLayout(self)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Key", "Does"])
        self.tree.setRootIsDecorated(False)
        self.tree.setItemsExpandable(False)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        self.tree.setAlternatingRowColors(True)
        bold = QFont(self.tree.font())
        bold.setBold(True)
        group_item: QTreeWidgetItem | None = None
        for row in self.rows:
            if group_item is None or group_item.text(0) != row.group:
                group_item = QTreeWidgetItem(self.tree, [row.group])
                group_item.setFont(0, bold)
                group_item.setFirstColumnSpanned(True)
            QTreeWidgetItem(group_item, [row.keys, row.what])
        self.tree.expandAll()
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        column.addWidget(self.tree)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        # Sized by its text in the font, so that it reads the same at any scale: every line
        # whole, and up to 30 of them before it scrolls.
        metrics = self.tree.fontMetrics()
        keys = max((metrics.horizontalAdvance(r.keys) for r in self.rows), default=0)
        what = max((metrics.horizontalAdvance(r.what) for r in self.rows), default=0)
        room = self.tree.indentation() + 6 * metrics.averageCharWidth()  # padding, scroll bar
        lines = len(self.rows) + len({r.group for r in self.rows})
        self.resize(keys + what + 2 * room, metrics.lineSpacing() * (min(lines, 30) + 6))
