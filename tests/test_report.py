"""Figures (checked through matplotlib's objects), the HTML report, and the report in Chromium."""

from __future__ import annotations

import csv
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgba

import fitscope
from fitscope import ArgumentError, DataError
from fitscope.analysis import analyse_curves
from fitscope.cli import main
from fitscope.report import (
    CurveSet,
    band_figure,
    book_figure,
    cjk_font,
    compare_figure,
    param_figure,
    plot_history,
    render_report,
    save_figure,
    write_report,
)
from fitscope.store import Store

T = np.arange(120)
HISTORY = {
    "loss": list(2.0 * np.exp(-T / 15) + 0.05),
    "val_loss": list(2.0 * np.exp(-T / 15) + 0.3 + 0.006 * np.maximum(T - 50, 0)),
    "accuracy": list(1 - 0.9 * np.exp(-T / 15)),
    "val_accuracy": list(0.9 - 0.8 * np.exp(-T / 15)),
}


def stored(
    root: Path, name: str = "toy", history: dict | None = None, split_hash: str = "abc", **params: object
) -> str:
    store = Store(root)
    run = store.start_run(name=name, params=params or {"units": 2}, split={"index_hash": split_hash})
    history = HISTORY if history is None else history
    for e in range(len(next(iter(history.values()), []))):
        run.record_epoch(e, {k: v[e] for k, v in history.items()}, started_at=e, duration=1)
    run.finish()
    return run.run_id


def test_book_figure_matches_the_book() -> None:
    figure = book_figure(HISTORY, title="toy", best_epoch=50, onset=52)
    loss_ax, acc_ax = figure.axes
    lines = {line.get_label(): line for line in loss_ax.get_lines() + acc_ax.get_lines()}
    assert to_rgba(lines["train loss"].get_color()) == to_rgba("y")
    assert to_rgba(lines["val loss"].get_color()) == to_rgba("r")
    assert to_rgba(lines["train acc"].get_color()) == to_rgba("b")
    assert to_rgba(lines["val acc"].get_color()) == to_rgba("g")
    assert [line.get_label() for line in acc_ax.get_lines()] == ["train acc", "val acc"]
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    assert loss_ax.get_legend()._loc == 2 and acc_ax.get_legend()._loc == 3  # upper left, lower left
    assert "best epoch 50" in lines and "overfitting starts ~52 (smoothed)" in lines
    assert list(lines["val loss"].get_xdata()) == list(range(120))


def test_book_figure_of_a_run_without_accuracy() -> None:
    """A regression's mae takes the accuracy's place on the right; with nothing else, there is no right axis."""
    losses = [1.0, 0.5, 0.4]
    logged = ("learning_rate", "loss", "mae", "val_loss", "val_mae")  # a logged learning rate comes first
    figure = book_figure(dict.fromkeys(logged, losses))
    right_ax = figure.axes[1]
    assert right_ax.get_ylabel() == "mae"
    assert [(line.get_label(), to_rgba(line.get_color())) for line in right_ax.get_lines()] == [
        ("train mae", to_rgba("b")), ("val mae", to_rgba("g"))
    ]  # fmt: skip
    (only,) = book_figure({"loss": losses, "val_loss": losses}).axes
    assert only.get_ylabel() == "loss"


def test_compare_figure_labels_differences_and_flags_other_splits() -> None:
    sets = [
        CurveSet("a", HISTORY, "h1", {"units": 2, "opt": "sgd"}),
        CurveSet("b", HISTORY, "h2", {"units": 512, "opt": "sgd"}),
    ]
    figure = compare_figure(sets)
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels == ["a (units=2)", "b (units=512)"]
    assert "different validation sets" in figure.get_suptitle()
    same = compare_figure([CurveSet("a", HISTORY, "h1"), CurveSet("b", HISTORY, "h1")])
    assert same.get_suptitle() == ""


def test_band_figure_shows_mean_and_std() -> None:
    folds = [{k: list(np.asarray(v) + d) for k, v in HISTORY.items()} for d in (-0.1, 0.0, 0.1)]
    figure = band_figure(folds)
    ax = figure.axes[0]
    mean = next(line for line in ax.get_lines() if line.get_label().startswith("val_loss"))
    assert np.allclose(mean.get_ydata(), HISTORY["val_loss"])
    assert len(ax.collections) == 2  # one band each for training and validation
    assert [a.get_title() for a in figure.axes] == ["loss", "accuracy"]
    # The mean curves' best epoch and onset, as `fitscope cv` names them.
    curve = analyse_curves({k: list(v) for k, v in HISTORY.items()})
    labels = [line.get_label() for line in ax.get_lines()]
    assert f"best epoch {curve.best_epoch}" in labels
    assert f"overfitting starts ~{curve.overfit_onset} (smoothed)" in labels


def test_band_figure_of_a_regression_shows_its_metric() -> None:
    folds = [{"loss": [3.0, 2.0], "mae": [1.5, 1.2], "val_loss": [3.5, 2.5], "val_mae": [1.6, 1.3]}] * 2
    assert [a.get_title() for a in band_figure(folds).axes] == ["loss", "mae"]  # not an empty accuracy panel
    only_loss = [{"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]}] * 2
    assert [a.get_title() for a in band_figure(only_loss).axes] == ["loss"]


def test_short_runs_have_whole_epoch_ticks() -> None:
    short = {k: v[:5] for k, v in HISTORY.items()}
    figures = [book_figure(short), band_figure([short, short]), compare_figure([CurveSet("a", short, "h")])]
    for figure in figures:
        for ax in figure.axes:
            figure.canvas.draw()
            ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
            assert ticks and all(float(t).is_integer() for t in ticks), ticks


def _group(root: Path, group: str, configs: dict[str, list[float]], folds: int, metric: str = "val_accuracy") -> None:
    """Runs as cv/tune record them: the searched params plus fitscope's bookkeeping."""
    store = Store(root)
    for number, (units, offsets) in enumerate(configs.items()):
        for fold in range(folds):
            trial = {"key": f"k{number}-{fold}", "initial_weights": "w", **({"fold": fold} if folds > 1 else {})}
            run = store.start_run(name=f"toy-trial{number}" + (f"-fold{fold}" if folds > 1 else ""),
                                  params={"units": units} if units else {}, split={"index_hash": f"fold{fold}"},
                                  group=group, trial=trial)  # fmt: skip
            for e in range(5):
                run.record_epoch(e, {"loss": 1.0 - 0.1 * e, "val_loss": offsets[fold] + 1.0 - 0.1 * e,
                                     metric: 0.5}, started_at=e, duration=1)  # fmt: skip
            run.finish()


def test_param_figure_puts_numbers_on_an_axis_and_names_in_columns() -> None:
    rates = param_figure([1e-4, 1e-2, 1e-1], [0.9, 0.4, 0.6], param="lr", metric="val_loss", lower_is_better=True)
    ax = rates.axes[0]
    assert ax.get_xscale() == "log" and ax.get_legend().get_texts()[1].get_text() == "best: 0.01"
    optimizers = ["sgd", "rmsprop", "sgd", {"adam": {"learning_rate": 0.001}}]
    named = param_figure(optimizers, [0.5, 0.8, 0.55, 0.7], param="compile.optimizer", metric="val_accuracy",
                         lower_is_better=False)  # fmt: skip
    ax = named.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sgd", "rmsprop", '{"adam":{"learning_rate":0.001}}']
    assert list(ax.lines[0].get_xdata()) == [0, 1, 0, 2]  # each trial in its value's column
    assert ax.get_legend().get_texts()[1].get_text() == "best: rmsprop"


def test_plot_group_draws_cv_bands_and_search_curves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fitscope.cli import main
    from fitscope.report import _plot

    _group(tmp_path, "cv-toy", {"": [0.0, 0.2, 0.4]}, folds=3)
    _group(tmp_path, "search-toy", {"2": [0.0], "32": [0.5]}, folds=1)
    _group(tmp_path, "search-cv-toy", {"2": [0.0, 0.2], "32": [0.5, 0.7]}, folds=2)
    drawn: list = []
    save = _plot.save_figure
    monkeypatch.setattr(_plot, "save_figure", lambda figure, output: drawn.append(figure) or save(figure, output))
    groups = ("cv-toy", "search-toy", "search-cv-toy")
    for group in groups:
        assert main(["plot", "--group", group, "--runs", str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()
    assert written == [str(tmp_path / f"{g}.png") for g in groups] and all(Path(w).is_file() for w in written)
    cv, search_val, search_cv = drawn
    assert len(cv.axes[0].collections) == 2  # bands over the folds of one configuration
    val_lines = {line.get_label() for line in search_val.axes[0].get_lines()}
    assert val_lines == {"toy-trial0 (units=2)", "toy-trial1 (units=32)"}
    assert len(search_val.axes[0].collections) == 0 and search_val.get_suptitle() == "search-toy"
    cv_lines = {line.get_label(): line for line in search_cv.axes[0].get_lines()}
    assert set(cv_lines) == {"toy-trial0 (mean of 2 folds) (units=2)", "toy-trial1 (mean of 2 folds) (units=32)"}
    assert cv_lines["toy-trial1 (mean of 2 folds) (units=32)"].get_ydata()[0] == pytest.approx(1.6)  # (1.5 + 1.7) / 2
    assert [a.get_title() for a in search_val.axes] == ["val_loss", "val_accuracy"]


def test_plot_group_of_a_regression_search_compares_its_metric(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fitscope.report import _plot

    _group(tmp_path, "search-prices", {"2": [0.0], "32": [0.5]}, folds=1, metric="val_mae")
    store = Store(tmp_path)
    runs = [store.run(info.run_id) for info in store.runs(group="search-prices")]
    drawn: list = []
    monkeypatch.setattr(_plot, "save_figure", lambda figure, output: drawn.append(figure) or Path(output))
    _plot.plot_group(runs, tmp_path / "prices.png", title="search-prices")
    assert [a.get_title() for a in drawn[0].axes] == ["val_loss", "val_mae"]  # not an empty val_accuracy panel


def test_plot_history_accepts_every_source(tmp_path: Path) -> None:
    class FakeHistory:  # what keras.callbacks.History looks like
        def __init__(self) -> None:
            self.history = {
                "acc": [0.1, 0.2, 0.3],
                "val_acc": [0.1, 0.15, 0.2],
                "loss": [3, 2, 1],
                "val_loss": [3, 2.5, 2],
            }

    assert plot_history(FakeHistory()).axes[1].get_lines()[0].get_label() == "train acc"
    assert plot_history(dict(FakeHistory().history)).axes
    run_id = stored(tmp_path)
    assert plot_history(Store(tmp_path).run(run_id)).axes[0].get_title() == "toy"
    path = tmp_path / "log.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", "acc", "loss", "val_acc", "val_loss"])
        writer.writerows([[0, 0.5, 1.0, 0.4, 1.1], [1, 0.6, 0.9, 0.5, 1.0]])
    figure = plot_history(str(path))
    assert [line.get_label() for line in figure.axes[1].get_lines()] == ["train acc", "val acc"]
    with pytest.raises(ArgumentError, match="Expected a Keras History"):
        plot_history(42)


def _hangul_glyphs_missing(figure: object) -> list[str]:
    """The Hangul characters of the figure's texts that none of their fonts can draw (each would be a box)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    missing = []
    from matplotlib.text import Text

    for text in figure.findobj(Text):  # type: ignore[attr-defined]
        hangul = [ch for ch in text.get_text() if "가" <= ch <= "힣"]
        if not hangul:
            continue
        families = text.get_fontproperties().get_family()
        fonts = [FT2Font(font_manager.findfont(font_manager.FontProperties(family=f))) for f in families]
        missing += [ch for ch in hangul if not any(font.get_char_index(ord(ch)) for font in fonts)]
    return missing


def _pixels(family: list[str], text: str) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1), dpi=50)
    FigureCanvasAgg(figure)
    figure.text(0.1, 0.4, text, family=family, fontsize=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the font without Hangul draws boxes, and says so)
        figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())


def test_korean_labels_render_with_real_glyphs(tmp_path: Path) -> None:
    """On any machine: a system CJK font, else the NanumGothic that koreanize-matplotlib ships."""
    sets = [CurveSet("두 유닛", HISTORY), CurveSet("과대적합 모델", HISTORY)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing" for boxes
        figure = plot_history(HISTORY, tmp_path / "한글.png", title="두 유닛 모델 — 과대적합")
        compared = compare_figure(sets, title="비교")
        save_figure(compared, tmp_path / "비교.svg")
    assert _hangul_glyphs_missing(figure) == [] and _hangul_glyphs_missing(compared) == []
    family = cjk_font()
    assert family is not None
    # The glyphs drawn differ from the boxes of a font without Hangul.
    assert not np.array_equal(_pixels(["DejaVu Sans", family], "한글"), _pixels(["DejaVu Sans"], "한글"))


def test_a_machine_without_a_cjk_font_draws_hangul_with_the_bundled_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from fitscope.report import _fonts, bundled_font_file

    monkeypatch.setattr(_fonts, "_system_cjk", lambda: None)  # as on a fresh machine
    _fonts.cjk_font.cache_clear()
    try:
        assert bundled_font_file() is not None and bundled_font_file().name == "NanumGothic.ttf"  # type: ignore[union-attr]
        assert cjk_font() == "NanumGothic"
        figure = book_figure(HISTORY, title="두 유닛 모델")
        assert _hangul_glyphs_missing(figure) == []
    finally:
        _fonts.cjk_font.cache_clear()


def test_figures_leave_the_user_s_matplotlib_settings_alone() -> None:
    import matplotlib

    before = (list(matplotlib.rcParams["font.family"]), matplotlib.rcParams["axes.unicode_minus"])
    book_figure(HISTORY, title="두 유닛 모델")
    compare_figure([CurveSet("가", HISTORY)])
    assert (list(matplotlib.rcParams["font.family"]), matplotlib.rcParams["axes.unicode_minus"]) == before


def test_save_figure_is_atomic_and_checks_the_path(tmp_path: Path) -> None:
    figure = book_figure(HISTORY)
    out = save_figure(figure, tmp_path / "f.svg")
    assert out.read_text().lstrip().startswith("<?xml") and list(tmp_path.iterdir()) == [out]
    with pytest.raises(ArgumentError, match=r"the folder .* does not exist"):
        save_figure(figure, tmp_path / "missing" / "f.png")
    with pytest.raises(ArgumentError, match=r"use a \.png, \.svg or \.pdf"):
        save_figure(figure, tmp_path / "f.gif")


def test_cli_plot_one_several_and_group(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = stored(tmp_path, "a", units=2)
    b = stored(tmp_path, "b", units=512)
    assert main(["plot", a, "--runs", str(tmp_path)]) == 0
    assert (tmp_path / a / "figures" / "curves.png").stat().st_size > 0
    out = tmp_path / "cmp.pdf"
    assert main(["plot", a, b, "-o", str(out), "--runs", str(tmp_path)]) == 0 and out.read_bytes()[:4] == b"%PDF"
    store = Store(tmp_path)
    for fold in range(3):
        run = store.start_run(name=f"fold{fold}", group="cv-1")
        for e in range(5):
            run.record_epoch(e, {"loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1)}, started_at=e, duration=1)
    band = tmp_path / "band.png"
    assert main(["plot", "--group", "cv-1", "-o", str(band), "--runs", str(tmp_path)]) == 0 and band.exists()


def test_comparing_two_regression_runs_of_one_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No accuracy: val_loss and the metric both runs share; one name: the run ids tell them apart."""
    from fitscope.report import _plot

    drawn: list = []
    monkeypatch.setattr(_plot, "save_figure", lambda figure, output: drawn.append(figure) or Path(output))
    losses = [1.0, 0.5, 0.4]
    history = {"loss": losses, "mae": losses, "val_loss": losses, "val_mae": losses}
    ids = [stored(tmp_path, "reg", history=history, units=8) for _ in range(2)]
    _plot.plot_runs([Store(tmp_path).run(run_id) for run_id in ids], tmp_path / "cmp.png")
    (figure,) = drawn
    assert [ax.get_title() for ax in figure.axes] == ["val_loss", "val_mae"]
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ids


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], "no run 'nope'"),
        (
            ["{a}", "--metric", "val_f1", "--style", "grid"],
            "has no metric 'val_f1'; it has accuracy, loss, val_accuracy, val_loss",
        ),
        (["{a}", "-o", "{root}/missing/x.png"], "does not exist"),
        (["{empty}"], "has no epochs yet"),
        ([], "name at least one RUN"),
        (["{a}", "--vs", "units"], "--vs units goes with --group GROUP of a search"),
    ],
)
def test_cli_plot_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    a = stored(tmp_path, "a")
    empty = Store(tmp_path).start_run(name="empty").run_id
    filled = [arg.format(a=a, root=tmp_path, empty=empty) for arg in argv]
    assert main(["plot", *filled, "--runs", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_report_sections_and_self_containment(tmp_path: Path) -> None:
    run_id = stored(tmp_path, "보고서 test")
    run = Store(tmp_path).run(run_id)
    run.record_evaluation("test", {"accuracy": 0.9})
    text = render_report(run)
    for section in ("summary", "curves", "diagnosis", "split", "evaluations", "environment", "reproduce"):
        assert f'<section id="{section}">' in text
    assert "<svg" in text and "evaluated 1 time(s)." in text and "보고서 test" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)|url\((?!#)|@import|<link|<script""", text)
    assert "<th>error level</th>" in text
    losses = [1.0, 0.5, 0.4]
    regression = stored(tmp_path, "reg", history={"loss": losses, "val_loss": losses, "val_mae": losses})
    text = render_report(Store(tmp_path).run(regression))
    assert "No error levels" in text and "<th>error level</th>" not in text  # no table of dashes
    # A regression's split table gives each part's target mean and spread in place of class counts
    stats = {"train": {"mean": 150.0, "variance": 6400.0}, "val": {"mean": 140.0, "variance": 4900.0}}
    run = Store(tmp_path).start_run(name="prices", split={"index_hash": "r", "sizes": {"train": 9, "val": 3},
                                                          "target_stats": stats})  # fmt: skip
    run.record_epoch(0, {"loss": 1.0, "val_loss": 1.0}, started_at=0, duration=1)
    run.finish()
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", render_report(run)))
    assert "target mean 150 140 target std 80 70" in cells


def _files(folder: Path) -> list[Path]:
    """What is in ``folder``, but SQLite's log files (they come and go as the test's own store connection closes)."""
    return sorted(p for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm")))


def test_cli_report_output_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = stored(tmp_path, "a")
    for output, message in (
        (tmp_path, f"cannot write {tmp_path}: it is a folder. Give a file name, such as {tmp_path / 'report.html'}."),
        (tmp_path / "missing" / "r.html", f"the folder {tmp_path / 'missing'} does not exist. Create it first."),
    ):
        before = _files(tmp_path)
        assert main(["report", run_id, "-o", str(output), "--runs", str(tmp_path)]) == 2
        assert capsys.readouterr().err.strip().endswith(message)
        assert _files(tmp_path) == before  # nothing half-written


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_in_headless_chromium(tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    run_id = stored(tmp_path, "chromium check")
    report = write_report(Store(tmp_path).run(run_id))
    console, requests = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=browser_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        for width in (1280, 390):  # a laptop and a phone
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            sizes = page.evaluate(
                "Array.from(document.querySelectorAll('svg')).map(s => s.getBoundingClientRect())"
                ".map(r => [r.width, r.height])"
            )
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            shot = tmp_path / f"report-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert sizes and all(w > 100 and h > 50 for w, h in sizes), sizes
            assert overflow <= 0, f"page wider than a {width}px screen"
        browser.close()
    assert console == []
    assert set(requests) == {report.as_uri()}


def test_live_plot_in_a_headless_notebook(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    code = f"""
import numpy as np, fitscope
import keras
store = fitscope.Store({str(tmp_path)!r})
run = store.start_run(name="notebook")
x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32"); y = np.arange(64) % 3
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
live = fitscope.LivePlot(run, every_secs=0)
model.fit(x, y, validation_split=0.25, epochs=3, verbose=0, callbacks=[fitscope.Recorder(run), live])
model.fit(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[fitscope.Recorder(run), live])
print("lines", len(live.figure.axes[0].get_lines()[0].get_xdata()))
"""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    images = [o for o in outputs if o.get("output_type") == "display_data" and "image/png" in o.get("data", {})]
    texts = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert images, outputs
    assert "lines 5" in texts  # the resumed curve is whole: epochs of both fit calls


def test_fitscope_run_writes_report_and_figure(tmp_path: Path) -> None:
    quick = Path(__file__).resolve().parents[1] / "examples" / "digits_quick.yaml"
    result = fitscope.run_spec(quick, overrides=["fit.epochs=3"], runs=tmp_path, progress=False)
    assert result.report and Path(result.report).is_file()
    assert (Path(result.run_dir) / "figures" / "curves.png").is_file()
    with pytest.raises(DataError):
        plot_history(str(tmp_path / "nothing.csv"))
