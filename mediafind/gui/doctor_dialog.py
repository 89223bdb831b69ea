"""Help → Check Library: the doctor's findings (mediafind.doctor), each with its icon, and a
Repair button when something can be repaired. Checks and the repair run in the background; the
repair goes through the session, which hands it to the indexing service that holds the library
(see Session.repair_library)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mediafind import units
from mediafind.doctor import DAMAGED, OK, WARNING, Repaired, Report
from mediafind.gui.icons import glyph_icon
from mediafind.gui.jobs import in_background
from mediafind.session import Session

# Each verdict's glyph, colour and word.
VERDICTS = {
    OK: ("info", "#16a34a", "OK"),
    WARNING: ("warning", "#d97706", "Warning"),
    DAMAGED: ("warning", "#dc2626", "Damaged"),
}


class DoctorDialog(QDialog):
    """Check the library, show what was found, repair it."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Check Library")
        self.resize(720, 420)
        self.report: Report | None = None
        self.repaired: Repaired | None = None
        self._busy = False
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.findings = QTreeWidget(self)
        self.findings.setHeaderLabels(["Check", "Finding"])
        self.findings.setRootIsDecorated(False)
        self.findings.setWordWrap(True)
        self.findings.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.findings.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.findings, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.full_button = QPushButton("Full Check", self)
        self.full_button.setToolTip("Also read every page and every vector (slower)")
        self.repair_button = QPushButton("Repair", self)
        self.repair_button.setVisible(False)
        buttons.addButton(self.full_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.repair_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.full_button.clicked.connect(lambda: self.check(full=True))
        self.repair_button.clicked.connect(self.repair)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.report is None and not self._busy:
            self.check()

    def check(self, full: bool = False) -> None:
        """Run the quick (or full) check in the background and show what it finds."""
        self._start("Checking the library…")
        self.report = None
        in_background(lambda: self.session.check_library_health(full), self._show, self._failed)

    def repair(self) -> None:
        full = self.report is not None and self.report.full
        self._start("Repairing the library…")
        in_background(lambda: self.session.repair_library(full), self._repaired, self._failed)

    def _start(self, what: str) -> None:
        self._busy = True
        self.summary.setText(what)
        self.full_button.setEnabled(False)
        self.repair_button.setEnabled(False)

    def _show(self, report: Report) -> None:
        self._busy = False
        self.findings.clear()
        for finding in report.findings:
            glyph, colour, word = VERDICTS.get(finding.verdict, VERDICTS[WARNING])
            said = f"{word}: {finding.said}" if finding.said else word
            item = QTreeWidgetItem([finding.check, said])
            item.setIcon(0, glyph_icon(glyph, QColor(colour)))
            if finding.repair and finding.verdict != OK:
                item.setToolTip(1, f"Repair will {finding.repair}.")
            self.findings.addTopLevelItem(item)
        what = "full check" if report.full else "quick check"
        took = units.duration(report.seconds)
        if report.healthy:
            text = f"The library is sound ({what}, {took})."
        else:
            count = len(report.damaged)
            text = (f"{count} problem{'s' if count > 1 else ''} found ({what}, {took}). Repair "
                    "keeps what is sound; a library beyond repair is moved aside, never "
                    "deleted.")  # fmt: skip
        if self.repaired is not None:
            text = f"Repaired: {'; '.join(self.repaired.done) or 'nothing to do'}. {text}"
            if self.repaired.folders_lost:
                text += " Its folders could not be read: add them again (File → Add Folder)."
        self.summary.setText(text)
        self.repair_button.setVisible(report.repairable)
        self.repair_button.setEnabled(report.repairable)
        self.full_button.setEnabled(True)
        self.report = report

    def _repaired(self, repaired: Repaired) -> None:
        self.repaired = repaired
        self.check(full=self.report is not None and self.report.full)

    def _failed(self, message: str) -> None:
        self._busy = False
        self.summary.setText(f"The check could not finish: {message}")
        self.full_button.setEnabled(True)
