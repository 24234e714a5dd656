"""One self-contained HTML report per run: figures inlined as SVG, no external files.

Sections: summary, curves, diagnosis, split (sizes, class counts, audit, hashes),
evaluations ledger (with the test-set count), spec and environment, and how to
reproduce the run. Readable on a laptop and on a phone (fluid layout, scrolling
tables).
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path
from typing import Any

from .._errors import ArgumentError
from .._i18n import STATUS_NAMES, _, language
from ..store import Run
from ._figures import book_figure, write_output

__all__ = ["render_report", "write_report"]


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    # No metadata block: it only carries a date and RDF namespace URIs.
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inline SVG in HTML5


def render_report(run: Run) -> str:
    """The HTML text of ``run``'s report."""
    import jinja2
    import matplotlib
    import yaml

    from .._version import __version__
    from ..analysis import LEVEL_NAMES, diagnose_run

    info = run.info()
    history = run.history()
    evaluations = run.evaluations()
    diagnosis = None
    note = _("Nothing to diagnose yet.")
    best = None
    onset = None
    try:
        d = diagnose_run(run)
        diagnosis = {
            "sentences": d.sentences,
            "errors": d.gaps.errors if d.has_error_levels else None,
            "uncertainty": d.gaps.uncertainty,
        }
        if d.curve is not None:
            best, onset = d.curve.best_epoch, d.curve.overfit_onset
    except ArgumentError as exc:
        note = str(exc)
    errors = _errors_section(run)
    figure = None
    if history and any(history.values()):
        with matplotlib.rc_context({"svg.fonttype": "path"}):
            figure = _svg(book_figure(history, title=info.name, best_epoch=best, onset=onset))
    final = {k: v[-1] for k, v in sorted(history.items()) if v and v[-1] == v[-1]}
    manifest = info.manifest
    classes: list[str] = []
    order = ("train", "train_dev", "val", "test")
    sizes = manifest.sizes if manifest else {}
    parts = [p for p in order if p in sizes] + [p for p in sizes if p not in order]
    if manifest and manifest.class_counts:
        classes = sorted(next(iter(manifest.class_counts.values())), key=_class_order)
    # The template's sentences are marked with _() like the code's (tools/compile_catalogs.py extracts both).
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fitscope.report", "templates"), autoescape=True,
        undefined=jinja2.ChainableUndefined,
    )  # fmt: skip
    env.globals["_"] = _
    env.globals["pct"] = lambda v: "—" if v is None else f"{v:.1%}"
    rows = [
        {**e, "when": time.strftime("%Y-%m-%d %H:%M", time.localtime(e["at"])),
         "metrics": ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in e["metrics"].items())}
        for e in evaluations
    ]  # fmt: skip
    spec_yaml = yaml.safe_dump(info.spec, allow_unicode=True, sort_keys=False) if info.spec else ""
    return env.get_template("report.html").render(
        lang=language(),
        status_names=STATUS_NAMES,
        level_names=LEVEL_NAMES,
        info=info,
        started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.started_at)),
        best_epoch=best,
        final=final,
        test_count=sum(1 for e in evaluations if e["split"] == "test"),
        figure=jinja2.filters.Markup(figure) if figure else None,
        diagnosis=diagnosis,
        diagnosis_note=note,
        errors=errors,
        manifest=manifest,
        classes=classes,
        parts=parts,
        audit_warnings=manifest.audit_warnings if manifest else [],
        content_hashes=json.dumps(dict(manifest.content_hash) if manifest else {}, indent=2),
        evaluations=rows,
        params=json.dumps(info.params, indent=2, ensure_ascii=False),
        spec_yaml=spec_yaml,
        version=__version__,
        made=time.strftime("%Y-%m-%d %H:%M"),
    )


def _errors_section(run: Run) -> dict[str, Any] | None:
    """The error analysis of the run's newest kept validation predictions (``fitscope errors`` keeps them)."""
    import jinja2
    import matplotlib

    from ..analysis import analyse_errors
    from ..store import PredictionsDir
    from ._errors import confusion_figure, gallery_figure, image_shape

    kept = PredictionsDir(run.predictions_dir).latest("val")
    if kept is None or "class_names" not in kept:
        return None
    analysis = analyse_errors(kept["labels"], kept["probabilities"], [str(n) for n in kept["class_names"]])
    gallery = kept.get("gallery")
    with matplotlib.rc_context({"svg.fonttype": "path"}):
        matrix = _svg(confusion_figure(analysis))
        shown = None
        if gallery is not None and len(gallery) and image_shape(gallery[0]) is not None:
            shown = _svg(gallery_figure(gallery, analysis.mistakes))
    return {"sentences": analysis.sentences, "matrix": jinja2.filters.Markup(matrix),
            "gallery": jinja2.filters.Markup(shown) if shown else None}  # fmt: skip


def _class_order(name: str) -> tuple[int, int | str]:
    return (0, int(name)) if name.isdigit() else (1, name)


def write_report(run: Run, output: str | os.PathLike[str] | None = None) -> Path:
    """Write ``run``'s report (default ``<run folder>/report.html``) atomically."""
    path = Path(output) if output is not None else run.dir / "report.html"
    text = render_report(run)
    return write_output(path, lambda handle: handle.write(text.encode("utf-8")), example="report.html")
