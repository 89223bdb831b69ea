"""Help → How Well Does Search Work on My Photos?: the evaluation (mediafind.evaluate_run) of the
library's captioned photos, run in the background with its progress and a Cancel button, then
shown as a small report: the figures, a recall-at-K chart drawn with QPainter (Qt Charts is not
in PySide6-Essentials), the suggested model, and a button to apply the calibrated cutoff.

Before it runs, it offers the models already on this computer (the presets whose weights were
downloaded) to be measured beside the library's own, each with its speed here, so that the model
is chosen on evidence; "Use This Model" then changes it as Settings does."""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from mediafind import evaluate_run
from mediafind.evaluate import KS, Figure
from mediafind.evaluate_run import Measured, Report, Step, model_name
from mediafind.gui.jobs import Job, in_background
from mediafind.gui.jobs import Report as Reporter
from mediafind.presets import Preset
from mediafind.session import Session

log = logging.getLogger(__name__)

# One colour per model, in the order they were measured (distinct for the colour-blind too).
MODEL_COLOURS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea")
# Said when no model but the library's can be measured now.
NO_OTHER_MODELS = "Other models are compared once downloaded: Settings › Model."
# The chart's bar groups: each direction at each K.
GROUPS = [("text → photo", k) for k in KS] + [("photo → text", k) for k in KS]


class RecallChart(QWidget):
    """Recall at 1, 5 and 10 in both directions, one bar per model with its 95 % interval as a
    whisker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models: tuple[Measured, ...] = ()
        self.setMinimumHeight(200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(560, 240)

    def set_models(self, models: Sequence[Measured]) -> None:
        self.models = tuple(models)
        self.update()

    def bars(self) -> list[tuple[str, int, Measured, Figure]]:
        """What is drawn: (direction, K, model, figure), group by group."""
        out = []
        for direction, k in GROUPS:
            for m in self.models:
                side = m.text_to_image if direction == "text → photo" else m.image_to_text
                out.append((direction, k, m, side.recall[k]))
        return out

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.windowText().color()
        faint = QColor(text)
        faint.setAlpha(50)
        metrics = painter.fontMetrics()
        line = metrics.height()
        left, top = metrics.horizontalAdvance("100 %") + 8, 2.5 * line  # the legend above
        plot = QRectF(left, top, self.width() - left - 8, self.height() - top - 2.5 * line)
        # The legend: each model's colour and name, in a row above the plot.
        x = plot.left()
        for i, m in enumerate(self.models):
            colour = QColor(MODEL_COLOURS[i % len(MODEL_COLOURS)])
            painter.fillRect(QRectF(x, line * 0.2, line * 0.8, line * 0.8), colour)
            x += line
            painter.setPen(text)
            painter.drawText(QPointF(x, line * 0.95), m.name)
            x += metrics.horizontalAdvance(m.name) + line
        # The scale: 0 to 100 % with a line every 25 %.
        for share in (0.0, 0.25, 0.5, 0.75, 1.0):
            y = plot.bottom() - share * plot.height()
            painter.setPen(QPen(faint, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text)
            label = QRectF(0, y - line / 2, left - 6, line)
            painter.drawText(label, Qt.AlignmentFlag.AlignRight, f"{share * 100:.0f} %")
        if not self.models:
            painter.end()
            return
        width = plot.width() / len(GROUPS)
        bar = width * 0.7 / len(self.models)
        for g, (direction, k) in enumerate(GROUPS):
            x0 = plot.left() + g * width + width * 0.15
            for i, m in enumerate(self.models):
                side = m.text_to_image if direction == "text → photo" else m.image_to_text
                figure = side.recall[k]
                colour = QColor(MODEL_COLOURS[i % len(MODEL_COLOURS)])
                x = x0 + i * bar
                height = figure.value * plot.height()
                painter.fillRect(QRectF(x, plot.bottom() - height, bar * 0.9, height), colour)
                painter.setPen(QPen(text, 1))
                middle = x + bar * 0.45
                low = plot.bottom() - figure.low * plot.height()
                high = plot.bottom() - figure.high * plot.height()
                painter.drawLine(QPointF(middle, low), QPointF(middle, high))
            painter.setPen(text)
            under = QRectF(plot.left() + g * width, plot.bottom() + 2, width, line)
            painter.drawText(under, Qt.AlignmentFlag.AlignHCenter, f"R@{k}")
        # The two directions, named under their groups.
        for d, direction in enumerate(("text → photo", "photo → text")):
            half = QRectF(plot.left() + d * plot.width() / 2, plot.bottom() + line + 2,
                          plot.width() / 2, line)  # fmt: skip
            painter.drawText(half, Qt.AlignmentFlag.AlignHCenter, direction)
        painter.end()


class EvalDialog(QDialog):
    """Measure search on the library's captioned photos and show how well it does."""

    def __init__(
        self,
        session: Session,
        parent: QWidget | None = None,
        precision: float = evaluate_run.DEFAULT_PRECISION,
        use_model: Callable[[str], bool] | None = None,
    ) -> None:
        """precision: the cutoff's; use_model(spec): make spec the library's model, after
        asking (the window's way, MainWindow.use_model), and say whether it was made; without
        it the dialog offers no model change."""
        super().__init__(parent)
        self.session = session
        self.precision = precision
        self.use_model = use_model
        # The presets on this computer, once looked for; a box for each (spec: box).
        self.offered: tuple[Preset, ...] | None = None
        self.model_boxes: dict[str, QCheckBox] = {}
        self.setWindowTitle("How Well Does Search Work on My Photos?")
        self.resize(680, 560)
        self.report: Report | None = None
        self.job: Job | None = None
        self.applied = False
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.models_layout = QVBoxLayout()
        self.own_box = QCheckBox(self)
        self.own_box.setChecked(True)
        self.own_box.setEnabled(False)  # always measured: it is what the others are held to
        self.own_box.hide()
        self.models_layout.addWidget(self.own_box)
        layout.addLayout(self.models_layout)
        self.others_note = QLabel(self)
        self.others_note.setWordWrap(True)
        self.others_note.hide()
        layout.addWidget(self.others_note)
        self.progress = QProgressBar(self)
        layout.addWidget(self.progress)
        self.figures = QLabel(self)
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setWordWrap(True)
        layout.addWidget(self.figures)
        self.chart = RecallChart(self)
        self.chart.hide()
        layout.addWidget(self.chart, 1)
        self.suggestion = QLabel(self)
        self.suggestion.setWordWrap(True)
        layout.addWidget(self.suggestion)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.cancel_button = QPushButton("Cancel", self)
        self.measure_button = QPushButton("Measure", self)
        self.apply_button = QPushButton("Apply Cutoff", self)
        self.apply_button.setToolTip(
            "Keep the similarity found here as the library's relevance cutoff: searches show "
            "photos above it"
        )
        self.use_button = QPushButton("Use This Model", self)
        self.use_button.hide()
        for button in (self.cancel_button, self.measure_button, self.use_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.cancel_button.clicked.connect(self.cancel)
        self.measure_button.clicked.connect(self.start)
        self.apply_button.clicked.connect(self.apply)
        self.use_button.clicked.connect(self.use_suggested)
        self.apply_button.setEnabled(False)
        self.measure_button.setEnabled(False)
        self.cancel_button.setEnabled(False)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.offered is None and self.job is None:
            self.find_models()

    def _own_spec(self) -> str | None:
        spec = self.session.spec
        return spec.text if spec is not None else None

    def find_models(self) -> None:
        """Look for the presets on this computer (in the background: it imports open_clip)."""
        session = self.session
        self.summary.setText("Looking for the models on this computer…")
        self.progress.setRange(0, 0)
        job = Job(lambda: evaluate_run.comparable(session), "models-here")
        job.returned.connect(self._offer)
        job.failed.connect(self._none_found)
        self.job = job.start_detached()

    def _none_found(self, message: str) -> None:
        log.warning("cannot tell which models are on this computer: %s", message)
        self._offer(())

    def _offer(self, found: Sequence[Preset]) -> None:
        """A box for the library's model and for each preset found; measure at once when
        there is nothing to choose."""
        self.job = None
        self.offered = tuple(found)
        own = self._own_spec()
        self.own_box.setText(f"{model_name(own) if own else 'The model'} — your library's model")
        self.own_box.show()
        for p in self.offered:
            box = QCheckBox(f"{p.name} ({p.spec})", self)
            box.setToolTip(p.summary)
            self.models_layout.addWidget(box)
            self.model_boxes[p.spec] = box
        if not self.offered:
            self.others_note.setText(NO_OTHER_MODELS)
            self.others_note.show()
            self.start()
            return
        self.progress.hide()
        self.summary.setText(
            "Tick the models on this computer to measure beside your library's, then press "
            "Measure: each is measured on the same captioned photos, with its speed here."
        )
        self.measure_button.setEnabled(True)

    def start(self) -> None:
        """Run the evaluation in the background: the library's model and the ones ticked."""
        ticked = [spec for spec, box in self.model_boxes.items() if box.isChecked()]
        own = self._own_spec()
        # Nothing ticked: the library's model alone (run's default, also without a spec).
        models = (*((own,) if own else ()), *ticked) if ticked else ()
        session, precision = self.session, self.precision

        def work(report: Reporter, stop: threading.Event) -> Report:
            found = evaluate_run.the_set(session, None)
            return evaluate_run.run(session, found, models, precision, report, stop.is_set)

        self.report = None
        self.summary.setText("Embedding your captioned photos and their captions…")
        self.progress.setRange(0, 0)
        self.progress.show()
        self.figures.clear()
        self.chart.hide()
        self.suggestion.clear()
        self.cancel_button.setEnabled(True)
        self.measure_button.setEnabled(False)
        self.apply_button.setEnabled(False)
        self.use_button.hide()
        for box in self.model_boxes.values():
            box.setEnabled(False)
        job = Job.reporting(work, "evaluation")
        job.yielded.connect(self._step)
        job.returned.connect(self._show)
        job.failed.connect(self._failed)
        job.aborted.connect(self._cancelled)
        self.job = job.start_detached()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.quit()
        self.cancel_button.setEnabled(False)

    def _step(self, step: Step) -> None:
        self.progress.setRange(0, step.total)
        self.progress.setValue(step.done)
        self.summary.setText(f"Measuring {step.what}…")

    def _done(self) -> None:
        self.job = None
        self.progress.hide()
        self.cancel_button.setEnabled(False)
        self.measure_button.setEnabled(True)
        self.measure_button.setText("Measure Again")
        for box in self.model_boxes.values():
            box.setEnabled(True)

    def _cancelled(self) -> None:
        self._done()
        self.summary.setText("The measurement was cancelled; nothing was changed.")

    def _failed(self, message: str) -> None:
        self._done()
        self.summary.setText(f"The measurement could not be made: {message}.")

    def _show(self, report: Report) -> None:
        self._done()
        self.report = report
        missing = f" ({len(report.missing)} missing photos left out)" if report.missing else ""
        self.summary.setText(
            f"Measured on {report.photos:,} of your captioned photos and their "
            f"{report.pairs:,} captions{missing}: each caption searches for its own photo "
            "(text → photo), each photo for its captions (photo → text)."
        )
        self.figures.setText(_figures_html(report))
        self.chart.set_models(report.models)
        self.chart.show()
        best = report.suggested
        own = self._own()
        text = f"Suggested model: {best.name}"
        if len(report.models) > 1:
            text += (
                ": of the models measured, it finds a caption's own photo first most often "
                "(text → photo R@1), or about as often as the best and faster."
            )
        else:
            text += "."
        if own is not None and own.cutoff is not None:
            text += (
                f" Relevance cutoff: similarity {own.cutoff.similarity:.3f} — above it, "
                f"{own.cutoff.precision:.0%} of the photos found are a caption's own photo; it "
                f"keeps {own.cutoff.recall:.0%} of them."
            )
        elif own is not None:
            text += f" No similarity reaches precision {report.precision:.0%}: no cutoff to apply."
        self.suggestion.setText(text)
        self.apply_button.setEnabled(own is not None and own.cutoff is not None)
        other = own is None or best.identity != own.identity
        self.use_button.setVisible(self.use_model is not None and other)
        self.use_button.setEnabled(True)
        self.use_button.setToolTip(f"Make {best.name} your library's model (after asking)")

    def use_suggested(self) -> None:
        """Make the suggested model the library's, the window's way (it asks first when the
        library must be read again)."""
        if self.report is None or self.use_model is None:
            return
        best = self.report.suggested
        if self.use_model(best.spec):
            self.use_button.setEnabled(False)
            self.suggestion.setText(
                self.suggestion.text()
                + f" Your library now uses {best.name}; the status bar shows its progress."
            )

    def _own(self) -> Measured | None:
        """The figures of the model the library's searches use."""
        if self.report is None:
            return None
        try:
            identity = self.session.model_identity()
        except Exception:
            return None
        return next((m for m in self.report.models if m.identity == identity), None)

    def apply(self) -> None:
        """Keep the library model's cutoff in the library (in the background)."""
        own = self._own()
        if own is None:
            return
        self.apply_button.setEnabled(False)
        in_background(lambda: evaluate_run.apply(self.session, own), self._applied, self._failed)

    def _applied(self, _: object) -> None:
        self.applied = True
        self.suggestion.setText(
            self.suggestion.text()
            + " Applied: searches now show the photos above your library's relevance cutoff."
        )


def _t2i(k: int) -> Callable[[Measured], Figure]:
    return lambda m: m.text_to_image.recall[k]


# The table's rows: a label and the figure of a model it shows.
FIGURE_ROWS: tuple[tuple[str, Callable[[Measured], Figure]], ...] = (
    *((f"text → photo R@{k}", _t2i(k)) for k in KS),
    ("text → photo MRR", lambda m: m.text_to_image.mrr),
    ("photo → text R@1", lambda m: m.image_to_text.recall[1]),
    ("photo → text mAP", lambda m: m.image_to_text.map),
)


def _figures_html(report: Report) -> str:
    """The figures as a small table, one column per model."""
    head = "".join(f"<th>{html.escape(m.name)}</th>" for m in report.models)
    rows = []
    for label, pick in FIGURE_ROWS:
        cells = "".join(
            f"<td align=right>{100 * pick(m).value:.1f} "
            f"<small>({100 * pick(m).low:.0f}–{100 * pick(m).high:.0f})</small></td>"
            for m in report.models
        )
        rows.append(f"<tr><td>{label}</td>{cells}</tr>")
    speed = "".join(
        f"<td align=right>{m.images_per_second:.1f} / {m.texts_per_second:.0f}</td>"
        for m in report.models
    )
    rows.append(f"<tr><td>photos/s / text queries/s</td>{speed}</tr>")
    return (
        f"<table cellspacing=4><tr><th></th>{head}</tr>{''.join(rows)}</table>"
        "<small>Percent, with the 95 % interval in brackets.</small>"
    )
