"""The small bar above the results: the order they come in and the size of the thumbnails.

The order is a view option: it applies unless the query says sort: itself, and the bar shows
which order applies without ever writing into the search field."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QWidget

from mediafind.gui.grid import MAX_THUMB, MIN_THUMB, THUMB, THUMB_STEP
from mediafind.query import DATE, NAME, RELEVANCE

ORDER_LABELS = ((RELEVANCE, "Relevance"), (DATE, "Date Taken"), (NAME, "Name"))


class ResultsToolbar(QWidget):
    """Sort by, and the thumbnail size slider."""

    sort_chosen = Signal(str)  # one of query.SORTS
    size_chosen = Signal(int)  # thumbnail side, logical pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        label = QLabel("Sort by", self)
        self.sort = QComboBox(self)
        self.sort.setAccessibleName("Sort by")
        for order, text in ORDER_LABELS:
            self.sort.addItem(text, order)
        label.setBuddy(self.sort)
        row.addWidget(label)
        row.addWidget(self.sort)
        row.addStretch(1)
        self.size_label = QLabel("Size", self)
        row.addWidget(self.size_label)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setAccessibleName("Thumbnail size")
        self.slider.setToolTip("Thumbnail size (Ctrl+mouse wheel, Ctrl++ and Ctrl+−)")
        self.slider.setRange(MIN_THUMB, MAX_THUMB)
        self.slider.setSingleStep(THUMB_STEP // 2)
        self.slider.setPageStep(THUMB_STEP)
        self.slider.setValue(THUMB)
        self.slider.setFixedWidth(160)
        row.addWidget(self.slider)
        self.size_label.setBuddy(self.slider)
        self.sort.activated.connect(lambda i: self.sort_chosen.emit(str(self.sort.itemData(i))))
        self.slider.valueChanged.connect(self.size_chosen)

    def order(self) -> str:
        """The order the menu shows."""
        return str(self.sort.currentData())

    def show_order(self, order: str, said: bool, browsing: bool) -> None:
        """Show the order that applies: said, the query's own sort: (the menu waits until the
        query no longer says it); browsing, nothing to rank by relevance."""
        self.sort.setCurrentIndex(self.sort.findData(order))
        self.sort.setEnabled(not said)
        self.sort.setToolTip(
            f"The search says sort:{order}; remove it to choose here." if said else ""
        )
        model = self.sort.model()
        if isinstance(model, QStandardItemModel):
            item = model.item(self.sort.findData(RELEVANCE))
            item.setEnabled(not browsing)
            item.setToolTip("Type words to sort by relevance." if browsing else "")

    def show_size(self, size: int) -> None:
        """The thumbnails' size changed elsewhere (the wheel, the keys)."""
        if self.slider.value() != size:
            self.slider.blockSignals(True)
            self.slider.setValue(size)
            self.slider.blockSignals(False)
