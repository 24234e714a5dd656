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
from ..store import Run
from ._figures import book_figure, write_output

__all__ = ["render_report", "write_report"]

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fitscope report — {{ info.name }}</title>
<style>
  :root { --ink: #1d232b; --muted: #5d6773; --line: #d9dee4; --accent: #2458a6; --warn: #a33a16; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans KR", sans-serif;
         color: var(--ink); background: #f6f7f9; }
  main { max-width: 960px; margin: 0 auto; padding: 16px; }
  header { padding: 8px 0 4px; }
  h1 { font-size: 1.5rem; margin: 0 0 4px; word-break: break-word; }
  h2 { font-size: 1.15rem; margin: 0 0 8px; color: var(--accent); }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 14px 0; }
  .muted { color: var(--muted); font-size: .9rem; }
  .status { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #e8eef8; font-size: .85rem; }
  .figure svg { width: 100%; height: auto; display: block; }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; font-size: .9rem; min-width: 50%; }
  th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: right; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; }
  ul { padding-left: 1.2rem; margin: 6px 0; }
  .warn { color: var(--warn); }
  pre { background: #f1f3f6; padding: 10px; border-radius: 6px; overflow-x: auto; font-size: .85rem; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; }
  .kv { background: #f1f3f6; border-radius: 6px; padding: 6px 10px; }
  .kv b { display: block; font-size: 1.1rem; }
</style>
</head>
<body>
<main>
<header>
  <h1>{{ info.name }}</h1>
  <div class="muted">{{ info.run_id }} · <span class="status">{{ info.status }}</span> · started {{ started }}{% if info.reason %} · {{ info.reason }}{% endif %}</div>
</header>

<section id="summary">
  <h2>Summary</h2>
  <div class="grid">
    <div class="kv">epochs<b>{{ info.epochs }}</b></div>
    {% if best_epoch is not none %}<div class="kv">best epoch<b>{{ best_epoch }}</b></div>{% endif %}
    {% for name, value in final.items() %}<div class="kv">final {{ name }}<b>{{ "%.4f"|format(value) }}</b></div>{% endfor %}
    <div class="kv">test set evaluated<b>{{ test_count }} ×</b></div>
  </div>
</section>

<section id="curves">
  <h2>Curves</h2>
  {% if figure %}<div class="figure" role="img" aria-label="loss and accuracy by epoch">{{ figure }}</div>
  {% else %}<p class="muted">No epochs recorded yet.</p>{% endif %}
</section>

<section id="diagnosis">
  <h2>Diagnosis</h2>
  {% if diagnosis %}
  <ul>{% for s in diagnosis.sentences %}<li>{{ s }}</li>{% endfor %}</ul>
  {% if diagnosis.errors %}<div class="scroll"><table>
    <tr><th>error level</th>{% for k in diagnosis.errors %}<th>{{ k }}</th>{% endfor %}</tr>
    <tr><td>error</td>{% for v in diagnosis.errors.values() %}<td>{{ pct(v) }}</td>{% endfor %}</tr>
    {% if diagnosis.uncertainty.values()|select|list %}<tr><td>± one standard error</td>
      {% for k in diagnosis.errors %}<td>{{ pct(diagnosis.uncertainty.get(k)) }}</td>{% endfor %}</tr>{% endif %}
  </table></div>{% endif %}
  {% else %}<p class="muted">{{ diagnosis_note }}</p>{% endif %}
</section>

<section id="split">
  <h2>Split</h2>
  {% if manifest %}
  <p class="muted">{{ manifest.kind }} split of <b>{{ manifest.dataset }}</b> · seed {{ manifest.seed }} ·
     index hash <code>{{ manifest.index_hash[:16] }}…</code></p>
  <div class="scroll"><table>
    <tr><th>{{ "class" if classes else "" }}</th>{% for part in parts %}<th>{{ part }}</th>{% endfor %}</tr>
    <tr><td><b>size</b></td>{% for part in parts %}<td><b>{{ manifest.sizes[part] }}</b></td>{% endfor %}</tr>
    {% for cls in classes %}<tr><td>{{ cls }}</td>{% for part in parts %}<td>{{ manifest.class_counts[part][cls] }}</td>{% endfor %}</tr>{% endfor %}
    {% if manifest.target_stats %}<tr><td>target mean</td>{% for part in parts %}<td>{{ "%.4g"|format(manifest.target_stats[part].mean) }}</td>{% endfor %}</tr>
    <tr><td>target std</td>{% for part in parts %}<td>{{ "%.4g"|format(manifest.target_stats[part].variance ** 0.5) }}</td>{% endfor %}</tr>{% endif %}
  </table></div>
  {% if audit_warnings %}<ul class="warn">{% for w in audit_warnings %}<li>{{ w }}</li>{% endfor %}</ul>
  {% else %}<p class="muted">Audit: no duplicates within or across parts{% if classes %}, classes balanced{% endif %}.</p>{% endif %}
  <details><summary class="muted">content hashes</summary><pre>{{ content_hashes }}</pre></details>
  {% else %}<p class="muted">This run recorded no split manifest.</p>{% endif %}
</section>

<section id="evaluations">
  <h2>Evaluations</h2>
  <p>The test set of this run was evaluated <b>{{ test_count }}</b> time(s).{% if test_count > 1 %} <span class="warn">It is no longer an unseen set.</span>{% endif %}</p>
  {% if evaluations %}<div class="scroll"><table>
    <tr><th>when</th><th>split</th><th>epoch</th><th>metrics</th><th>weights</th></tr>
    {% for e in evaluations %}<tr><td>{{ e.when }}</td><td>{{ e.split }}</td><td>{{ e.epoch }}</td><td>{{ e.metrics }}</td><td><code>{{ (e.fingerprint or "")[:12] }}</code></td></tr>{% endfor %}
  </table></div>{% endif %}
</section>

<section id="environment">
  <h2>Spec and environment</h2>
  <p class="muted">backend {{ info.backend }} · {% for k, v in info.versions.items() %}{{ k }} {{ v }}{% if not loop.last %} · {% endif %}{% endfor %}</p>
  <pre>{{ params }}</pre>
</section>

<section id="reproduce">
  <h2>Reproduce</h2>
  {% if spec_yaml %}<p>Save this spec as <code>spec.yaml</code> and run <code>fitscope run spec.yaml</code>; the split manifest above lets you check that the same validation set was used.</p>
  <pre>{{ spec_yaml }}</pre>{% else %}<p class="muted">This run was recorded from Python; its parameters are above.</p>{% endif %}
</section>
<p class="muted">Made by fitscope {{ version }} on {{ made }}.</p>
</main>
</body>
</html>
"""


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
    from ..analysis import diagnose_run

    info = run.info()
    history = run.history()
    evaluations = run.evaluations()
    diagnosis = None
    note = "Nothing to diagnose yet."
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
    env = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
    env.globals["pct"] = lambda v: "—" if v is None else f"{v:.1%}"
    rows = [
        {**e, "when": time.strftime("%Y-%m-%d %H:%M", time.localtime(e["at"])),
         "metrics": ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in e["metrics"].items())}
        for e in evaluations
    ]  # fmt: skip
    spec_yaml = yaml.safe_dump(info.spec, allow_unicode=True, sort_keys=False) if info.spec else ""
    return env.from_string(_TEMPLATE).render(
        info=info,
        started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.started_at)),
        best_epoch=best,
        final=final,
        test_count=sum(1 for e in evaluations if e["split"] == "test"),
        figure=jinja2.filters.Markup(figure) if figure else None,
        diagnosis=diagnosis,
        diagnosis_note=note,
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


def _class_order(name: str) -> tuple[int, int | str]:
    return (0, int(name)) if name.isdigit() else (1, name)


def write_report(run: Run, output: str | os.PathLike[str] | None = None) -> Path:
    """Write ``run``'s report (default ``<run folder>/report.html``) atomically."""
    path = Path(output) if output is not None else run.dir / "report.html"
    text = render_report(run)
    return write_output(path, lambda handle: handle.write(text.encode("utf-8")), example="report.html")
