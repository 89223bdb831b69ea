"""The settings dialog: model (a preset or a model folder), device, excluded files, the library's
location, and starting at login."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mediafind import config
from mediafind.embed import LOCAL_DIR, PRESETS, ModelSpec, check_local_dir, parse_spec, preset
from mediafind.errors import ModelUnavailable, describe
from mediafind.gui import desktop
from mediafind.gui.notices import for_the_window
from mediafind.session import Session

LOCAL = "local"
GPU = "mps" if sys.platform == "darwin" else "cuda"
DEVICE_CHOICES = (
    ("auto", "Automatic (the GPU when there is one)"),
    ("cpu", "CPU"),
    (GPU, "GPU (Apple Metal)" if GPU == "mps" else "GPU (NVIDIA CUDA)"),
)


def _canonical(text: str) -> str:
    try:
        return parse_spec(text).text
    except ModelUnavailable:
        return text


class SettingsDialog(QDialog):
    """Edits a copy of the settings; OK saves them and restarts indexing with them."""

    def __init__(
        self, session: Session, library_files: int = 0, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.library_files = library_files
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        settings = session.settings
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(form)

        # Model
        self.model = QComboBox(self)
        for p in PRESETS:
            name, _, _ = p.spec.partition(":")
            self.model.addItem(f"{p.name.title()}: {name}", p.name)
        self.model.addItem("A model folder on this computer…", LOCAL)
        current = session.model_text
        self.model_folder = QLineEdit(self)
        self.model_folder.setPlaceholderText("folder with open_clip_config.json and weights")
        browse_model = QPushButton("Choose Folder…", self)
        browse_model.clicked.connect(self._browse_model)
        self.model_folder_row = QWidget(self)
        row = QHBoxLayout(self.model_folder_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.model_folder, 1)
        row.addWidget(browse_model)
        self.model_info = QLabel(self)
        self.model_info.setWordWrap(True)
        self.model_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._select_model(current)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.model.activated.connect(self._model_picked)
        form.addRow("Model:", self.model)
        form.addRow("", self.model_folder_row)
        form.addRow("", self.model_info)
        locked = session.model_locked_by
        if locked:
            self.model.setEnabled(False)
            self.model_folder_row.setEnabled(False)
            self.model_info.setText(
                f"Chosen with {locked} for this session: {current}. "
                "Start mediafind without it to choose here."
            )
        self._model_changed()

        # Device
        self.device = QComboBox(self)
        for value, label in DEVICE_CHOICES:
            self.device.addItem(label, value)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        form.addRow("Run the model on:", self.device)

        # Excludes
        self.excludes = QPlainTextEdit(self)
        self.excludes.setPlaceholderText("for example:\n*.tmp\nPrivate/")
        self.excludes.setPlainText("\n".join(settings.excludes))
        self.excludes.setFixedHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        form.addRow("Skip files matching:", self.excludes)
        hint = QLabel(
            "One pattern per line. A pattern with a / matches the path inside a watched "
            "folder. Hidden files, .git and node_modules are always skipped.",
            self,
        )
        hint.setWordWrap(True)
        hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        form.addRow("", hint)

        # Text in pictures
        self.read_text = QCheckBox("Read text in pictures (screenshots, receipts, scans)", self)
        self.read_text.setChecked(settings.ocr)
        if settings.ocr_folders:
            self.read_text.setToolTip(
                "Only in these folders (ocr_folders in the settings file): "
                + ", ".join(settings.ocr_folders)
            )
        form.addRow("", self.read_text)

        # Library
        self.library = QLineEdit(str(session.library_dir), self)
        browse_library = QPushButton("Choose Folder…", self)
        browse_library.clicked.connect(self._browse_library)
        library_row = QWidget(self)
        row = QHBoxLayout(library_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.library, 1)
        row.addWidget(browse_library)
        form.addRow("Library folder:", library_row)
        if session.library_locked_by:
            library_row.setEnabled(False)
            library_row.setToolTip(f"Chosen with {session.library_locked_by} for this session")

        # Start at login
        self.autostart = QCheckBox("Start mediafind when I log in", self)
        self.autostart.setChecked(desktop.autostart_enabled())
        self.autostart.setEnabled(desktop.autostart_supported())
        self.autostart.setToolTip(desktop.autostart_hint())
        autostart_hint = QLabel(desktop.autostart_hint(), self)
        autostart_hint.setWordWrap(True)
        autostart_hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        form.addRow("", self.autostart)
        form.addRow("", autostart_hint)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    # -- model ----------------------------------------------------------------------------

    def _select_model(self, text: str) -> None:
        canonical = _canonical(text)
        for p in PRESETS:
            if canonical == p.spec:
                self.model.setCurrentIndex(self.model.findData(p.name))
                return
        if canonical.startswith(LOCAL_DIR):
            self.model.setCurrentIndex(self.model.findData(LOCAL))
            self.model_folder.setText(canonical[len(LOCAL_DIR) :])
            return
        # Another OpenCLIP model, named in the settings file or on the command line.
        self.model.insertItem(len(PRESETS), f"Other: {canonical}", canonical)
        self.model.setCurrentIndex(len(PRESETS))

    def _model_changed(self) -> None:
        choice = self.model.currentData()
        local = choice == LOCAL
        self.model_folder_row.setVisible(local)
        if self.session.model_locked_by:
            return
        found = preset(choice) if isinstance(choice, str) else None
        if found is not None:
            self.model_info.setText(f"{found.summary}\nLicence of the weights: {found.license}.")
        elif local:
            self.model_info.setText(
                "For computers without internet: a folder holding open_clip_config.json and "
                "open_clip_model.safetensors, copied from a computer that has the model."
            )
        else:
            self.model_info.setText("An OpenCLIP model named in the settings file.")

    def chosen_model(self) -> str | None:
        """The model setting the dialog shows (None: let the library decide)."""
        if self.session.model_locked_by:
            return self.session.settings.model
        choice = self.model.currentData()
        if choice == LOCAL:
            folder = self.model_folder.text().strip()
            chosen = f"{LOCAL_DIR}{Path(folder).expanduser()}" if folder else None
        else:
            chosen = str(choice)
        if chosen is None or _canonical(chosen) == _canonical(self.session.model_text):
            return self.session.settings.model  # unchanged: keep the setting as it was
        return chosen

    def _browse_model(self) -> None:
        chosen = choose_model_folder(self, self.model_folder.text())
        if chosen is not None:
            self.model_folder.setText(str(chosen))

    def _model_picked(self) -> None:
        """Choosing "A model folder…" asks for the folder at once (none is set yet)."""
        if self.model.currentData() == LOCAL and not self.model_folder.text().strip():
            QTimer.singleShot(0, self._browse_model)  # after the combo box's popup has closed

    def _browse_library(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, "Choose the Library Folder", self.library.text()
        )
        if chosen:
            self.library.setText(chosen)

    # -- applying -------------------------------------------------------------------------

    def chosen_settings(self) -> config.Settings:
        library = self.library.text().strip()
        default_library = str(config.library_dir(None, config.Settings()))
        excludes = tuple(
            line.strip() for line in self.excludes.toPlainText().splitlines() if line.strip()
        )
        return self.session.settings.with_changes(
            model=self.chosen_model(),
            device=str(self.device.currentData()),
            excludes=excludes,
            library=None if library in ("", default_library) else library,
            ocr=self.read_text.isChecked(),
        )

    def accept(self) -> None:
        new = self.chosen_settings()
        old = self.session.settings
        if new.model != old.model and new.model:
            try:
                spec: ModelSpec = parse_spec(new.model)
                if spec.local_dir is not None:
                    check_local_dir(spec)
            except ModelUnavailable as e:
                QMessageBox.warning(self, "This Model Cannot Be Used", for_the_window(str(e)))
                return
            if _canonical(new.model) != _canonical(self.session.model_text) and not (
                confirm_model_change(self, self.session, spec.text, self.library_files)
            ):
                return
        try:
            if desktop.autostart_supported() and (
                self.autostart.isChecked() != desktop.autostart_enabled()
            ):
                desktop.set_autostart(self.autostart.isChecked())
            if new != old:
                self.session.apply_settings(new)
        except OSError as e:
            message = f"Cannot save the settings: {describe(e)}"
            QMessageBox.warning(self, "Settings Not Saved", message)
            return
        super().accept()


def confirm_model_change(parent: QWidget, session: Session, spec: str, files: int) -> bool:
    """Ask before a model change that re-reads the library: files is how many photos and notes
    the library holds read (their vectors are the old model's). Going back to the model the
    library was read with re-reads nothing, and asks nothing."""
    library = session.library_model
    if files == 0 or (library is not None and _canonical(library.spec) == _canonical(spec)):
        return True
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Change the Model?")
    box.setText(f"The {files:,} photos and notes in your library will be read again by {spec}.")
    box.setInformativeText(
        "The status bar shows the progress. Until a file is done, search finds it by its words "
        "and name only. Your files are not changed."
    )
    change = box.addButton("Change Model", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is change


def choose_model_folder(parent: QWidget, start: str = "") -> Path | None:
    """Ask for a model folder; one that holds no model is refused here, in the window's
    words, and None returned."""
    chosen = QFileDialog.getExistingDirectory(
        parent, "Choose a Model Folder", start or str(Path.home())
    )
    if not chosen:
        return None
    try:
        check_local_dir(parse_spec(f"{LOCAL_DIR}{chosen}"))
    except ModelUnavailable as e:
        QMessageBox.warning(parent, "This Folder Holds No Model", for_the_window(str(e)))
        return None
    return Path(chosen)
