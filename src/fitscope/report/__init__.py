"""The report layer: figures (matplotlib), the HTML report, the TensorBoard launcher."""

from __future__ import annotations

from ._board import board_command, start_board
from ._errors import confusion_figure, gallery_figure, image_shape
from ._figures import (
    CurveSet,
    band_figure,
    book_figure,
    check_figure_name,
    compare_figure,
    learning_curve_figure,
    param_figure,
    save_figure,
)
from ._fonts import bundled_font_file, cjk_font, configure_fonts, korean_fonts
from ._history import as_history
from ._html import render_report, write_report
from ._mlflow import MlflowExport, export_to_mlflow, mlflow_key
from ._plot import plot_group, plot_history, plot_runs

__all__ = [
    "CurveSet",
    "MlflowExport",
    "as_history",
    "band_figure",
    "board_command",
    "book_figure",
    "bundled_font_file",
    "check_figure_name",
    "cjk_font",
    "compare_figure",
    "configure_fonts",
    "confusion_figure",
    "export_to_mlflow",
    "gallery_figure",
    "image_shape",
    "korean_fonts",
    "learning_curve_figure",
    "mlflow_key",
    "param_figure",
    "plot_group",
    "plot_history",
    "plot_runs",
    "render_report",
    "save_figure",
    "start_board",
    "write_report",
]
