"""Help → How Well Does Search Work on My Photos?: the evaluation (mediafind.evaluate_run) of the
library's captioned photos, run in the background with its progress and a Cancel button, then
shown as a small report: the figures, a recall-at-K chart drawn with QPainter (Qt Charts is not
in PySide6-Essentials), the suggested model, and a button to apply the calibrated cutoff."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QShowEvent
from PySide6.QtWidgets import (
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
from mediafind.evaluate_run import Measured, Report, Step
from mediafind.gui.jobs import Job, in_background
from mediafind.gui.jobs import Report as Reporter
from mediafind.session import Session

# One colour per model, in the order they were measured (distinct for the colour-blind too).
MODEL_COLOURS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea")
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
        left, top = metrics.horizontalAdvance("100 %") + 8, line
        plot = QRectF(left, top, self.width() - left - 8, self.height() - top - 2.5 * line)
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
        models: Sequence[str] = (),
        precision: float = evaluate_run.DEFAULT_PRECISION,
    ) -> None:
        """models: the models to compare (default: the library's own); precision: the
        cutoff's."""
        super().__init__(parent)
        self.session = session
        self.models = tuple(models)
        self.precision = precision
        self.setWindowTitle("How Well Does Search Work on My Photos?")
        self.resize(680, 560)
        self.report: Report | None = None
        self.job: Job | None = None
        self.applied = False
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
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
        self.again_button = QPushButton("Run Again", self)
        self.apply_button = QPushButton("Apply Cutoff", self)
        self.apply_button.setToolTip(
            "Keep the similarity found here as the library's relevance cutoff: searches show "
            "photos above it"
        )
        for button in (self.cancel_button, self.again_button, self.apply_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.cancel_button.clicked.connect(self.cancel)
        self.again_button.clicked.connect(self.start)
        self.apply_button.clicked.connect(self.apply)
        self.apply_button.setEnabled(False)
        self.again_button.setEnabled(False)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.report is None and self.job is None:
            self.start()

    def start(self) -> None:
        """Run the evaluation in the background."""
        session, models, precision = self.session, self.models, self.precision

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
        self.again_button.setEnabled(False)
        self.apply_button.setEnabled(False)
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
        self.again_button.setEnabled(True)

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
        text = f"Suggested model: {best.spec}."
        own = self._own()
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
