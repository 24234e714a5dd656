"""Search ranges (Deep Learning from Scratch 6.5): sampled values, the narrowed ranges, the validation curve."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from fitscope.cli import main
from fitscope.experiment.search._distributions import Distribution, narrowed, parse_distribution


def test_ranges_are_read_and_sampled_within_their_bounds() -> None:
    rate = parse_distribution("lr", "loguniform(1e-4, 1e-1)")
    assert rate == Distribution("loguniform", 1e-4, 1e-1)
    rng = random.Random(0)
    drawn = [rate.sample(rng) for _ in range(400)]
    assert all(1e-4 <= v <= 1e-1 for v in drawn)
    decades = [sum(1 for v in drawn if 10**-k <= v < 10 ** (-k + 1)) for k in (4, 3, 2)]
    assert all(100 <= n <= 170 for n in decades), decades  # even on the log scale: about a third per decade
    units = parse_distribution("units", "int(2, 8)")
    assert {units.sample(rng) for _ in range(200)} == set(range(2, 9))
    assert parse_distribution("opt", "choice(sgd, adam)") == Distribution("choice", values=("sgd", "adam"))
    assert parse_distribution("units", "2,8,32") is None  # a list of values, as before
    assert str(rate) == "loguniform(0.0001,0.1)"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("loguniform(0,1)", "a log scale needs a low end above 0, such as loguniform(0.001,1)."),
        ("int(5,2)", "the low end must be below the high end."),
        ("int(1.5,4)", "int(low,high) takes whole numbers."),
        ("uniform(1)", "expected two numbers, uniform(low,high)."),
        ("choice(adam)", "a choice needs two values or more."),
        ("normal(0,1)", "unknown range 'normal'; use uniform(a,b), loguniform(a,b), int(a,b) or choice(v1,v2,...)."),
    ],
)
def test_a_malformed_range_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, error: str
) -> None:
    key = "compile.optimizer.adam.learning_rate"
    argv = ["tune", "digits_quick", "--param", f"{key}={text}", "--search", "random", "--trials", "2"]
    assert main([*argv, "--runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"fitscope tune: error: --param {key}={text}: {error}"
    assert not (tmp_path / "fitscope.db").exists()


def test_the_best_configurations_narrow_the_ranges() -> None:
    ranges = {"lr": Distribution("loguniform", 1e-4, 1e-1), "units": Distribution("int", 2, 64),
              "opt": Distribution("choice", values=("sgd", "adam", "rmsprop"))}  # fmt: skip
    best = [{"lr": 0.003, "units": 16, "opt": "adam"}, {"lr": 0.01, "units": 40, "opt": "adam"},
            {"lr": 0.005, "units": 24, "opt": "rmsprop"}]  # fmt: skip
    found = narrowed(ranges, best)
    assert found["lr"] == Distribution("loguniform", 0.003, 0.01)
    assert found["units"] == Distribution("int", 16, 40)
    assert found["opt"].values == ("adam", "rmsprop")
    one = narrowed({"lr": Distribution("loguniform", 1e-4, 1e-1)}, [{"lr": 0.001}])["lr"]
    assert one.low < 0.001 < one.high  # a tenth of the old range's decades either side of the one best value
    assert math.log(one.high / one.low) == pytest.approx(2 * math.log(1000) / 10, rel=0.01)


def test_a_random_search_over_a_range_suggests_the_next_one_and_draws_its_validation_curve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "compile.optimizer.adam.learning_rate"
    runs = ["--runs", str(tmp_path)]
    argv = ["tune", "digits_quick", "--param", f"{key}=loguniform(1e-4,1e-1)", "--search", "random", "--trials", "4",
            "--set", "fit.epochs=2", *runs]  # fmt: skip
    assert main([*argv, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    rates = [row["params"][key] for row in found["ranking"]]
    assert len(rates) == 4 and all(1e-4 <= r <= 1e-1 for r in rates)
    assert all(len(f"{r:.10g}".replace("0.", "").lstrip("0").replace(".", "")) <= 4 for r in rates)  # 4 digits
    assert found["narrowed"][key].startswith("loguniform(")
    assert main(argv) == 0  # again: the same draws (the seed is recorded), all finished
    out = capsys.readouterr().out
    assert "4 trial(s) already finished in group" in out
    suggestion = next(line for line in out.splitlines() if line.startswith("the ranges of the best 3, to search next"))
    assert "--set fit.epochs=2 --param 'compile.optimizer.adam.learning_rate=loguniform(" in suggestion
    assert suggestion.endswith(f"--search random --trials 4 --seed 1 --runs {tmp_path}")
    group = found["group_id"]
    assert main(["plot", "--group", group, "--vs", key, "-o", str(tmp_path / "vs.png"), *runs]) == 0
    assert (tmp_path / "vs.png").stat().st_size > 10_000
    assert main(["plot", "--group", group, "--vs", "fit.epochs", *runs]) == 2
    assert capsys.readouterr().err.strip().endswith(f"not a parameter of {group}; it searched {key}.")
    grid = ["tune", "digits_quick", "--param", f"{key}=loguniform(1e-4,1e-1)", *runs]
    assert main(grid) == 2
    assert capsys.readouterr().err.strip() == (
        f"fitscope tune: error: --param {key}=loguniform(0.0001,0.1): a range is sampled, not listed: search it "
        "with --search random and --trials N."
    )


def test_a_search_over_names_is_drawn_one_column_per_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = ["--runs", str(tmp_path)]
    assert main(["tune", "digits_quick", "--param", "compile.optimizer=sgd,adam", "--set", "fit.epochs=1",
                 "--json", *runs]) == 0  # fmt: skip
    group = json.loads(capsys.readouterr().out)["group_id"]
    figure = tmp_path / "vs-optimizer.png"
    assert main(["plot", "--group", group, "--vs", "compile.optimizer", "-o", str(figure), *runs]) == 0
    assert capsys.readouterr().out.strip() == str(figure) and figure.stat().st_size > 10_000


def test_a_spec_holds_its_search_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "space.yaml"
    spec.write_text(
        "name: space\ndata: {dataset: digits}\nsplit: {val: 0.2, test: 0.2}\n"
        "model:\n  - Dense: {units: 8, activation: relu}\n  - Dense: {units: 10, activation: softmax}\n"
        "compile: {optimizer: adam}\nfit: {epochs: 1}\n"
        "search:\n  compile.optimizer.adam.learning_rate: loguniform(1e-3, 1e-1)\n  model[0].Dense.units: [4, 16]\n",
        encoding="utf-8",
    )
    argv = ["tune", str(spec), "--search", "random", "--trials", "3", "--json", "--runs", str(tmp_path / "runs")]
    assert main(argv) == 0
    ranking = json.loads(capsys.readouterr().out)["ranking"]
    assert all(
        set(row["params"]) == {"compile.optimizer.adam.learning_rate", "model[0].Dense.units"} for row in ranking
    )
    assert all(row["params"]["model[0].Dense.units"] in (4, 16) for row in ranking)


@pytest.mark.slow
@pytest.mark.integration
def test_deep_learning_from_scratch_6_5_end_to_end_on_the_toy_model(
    mnist_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """20 log-uniform draws of learning rate and weight decay, the narrowed ranges, a second search, the figure."""
    import shlex

    from fitscope.store import Store

    spec = Path(__file__).resolve().parents[1] / "examples" / "weight_decay_search.yaml"
    runs = ["--runs", str(tmp_path), "--data-dir", str(mnist_path.parent)]
    assert main(["tune", str(spec), "--search", "random", "--trials", "20", "--set", "fit.epochs=10", *runs]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("the ranges of the best 4, to search next: "))
    words = shlex.split(line.split(": ", 1)[1])
    assert words[:3] == ["fitscope", "tune", str(spec)] and "--trials" in words and "--seed" in words
    ranges = dict(words[i + 1].split("=", 1) for i, word in enumerate(words) if word == "--param")
    assert set(ranges) == {"compile.optimizer.sgd.learning_rate", "compile.optimizer.sgd.weight_decay"}
    narrowed = {key: parse_distribution(key, value) for key, value in ranges.items()}
    assert all(value.kind == "loguniform" for value in narrowed.values())
    assert main([*words[1:], "--data-dir", str(mnist_path.parent)]) == 0  # the printed command, as it is
    second = Store(tmp_path).groups()[-1].group_id
    infos = Store(tmp_path).runs(group=second)
    assert len(infos) == 20 and all(info.status == "finished" for info in infos)
    for info in infos:  # every draw of the second search lies inside the narrowed ranges
        for key, spread in narrowed.items():
            low, high = spread.endpoints()
            assert low * 0.9999 <= info.params[key] <= high * 1.0001, (key, info.params[key])
    figure = tmp_path / "validation-vs-lr.png"
    capsys.readouterr()
    assert main(["plot", "--group", second, "--vs", "compile.optimizer.sgd.learning_rate", "-o", str(figure),
                 *runs[:2]]) == 0  # fmt: skip
    assert figure.stat().st_size > 0


@pytest.mark.parametrize("executor", ["local", "process", pytest.param("ray", marks=pytest.mark.xdist_group("ray"))])
def test_a_tpe_search_proposes_trials_from_the_scores_before_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    pytest.importorskip("optuna", reason="Optuna is the optional extra fitscope[optuna]; .ci/run installs it")
    from fitscope.store import Store

    starts: list[int] = []
    if executor == "ray":  # the batches of proposals share one local cluster (a start costs seconds)
        ray = pytest.importorskip("ray", reason="Ray is the optional extra fitscope[ray]; .ci/run installs it")
        init = ray.init
        monkeypatch.setattr(ray, "init", lambda *args, **kwargs: starts.append(1) or init(*args, **kwargs))

    command = ["tune", "digits_quick", "--param", "compile.optimizer.adam.learning_rate=loguniform(1e-4,1e-1)",
               "--param", "model[0].Dense.units=8,32", "--search", "tpe", "--trials", "5", "--set", "fit.epochs=2",
               "--executor", executor, *([] if executor == "local" else ["--workers", "2"]), "--runs", str(tmp_path),
               "--json"]  # fmt: skip
    assert main(command) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["ranking"]) == 5 and all(row["status"] == "finished" for row in result["ranking"])
    infos = Store(tmp_path).runs(group=result["group_id"])
    assert len(infos) == 5 and {info.name for info in infos} == {f"digits-quick-trial{n}" for n in range(5)}
    for info in infos:  # every proposal a recorded run with its curves, inside the space
        assert 1e-4 <= info.params["compile.optimizer.adam.learning_rate"] <= 1e-1
        assert info.params["model[0].Dense.units"] in (8, 32) and info.epochs == 2
    assert result["narrowed"]  # the ranges of the best, as after a random search
    assert main(command) == 0  # the same proposals again (seeded, told the same scores): nothing trains twice
    assert json.loads(capsys.readouterr().out)["ranking"] == result["ranking"]
    assert len(Store(tmp_path).runs()) == 5
    assert starts == ([1] if executor == "ray" else [])  # 3 batches, one cluster; none for nothing to train


def test_tpe_without_optuna_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna fails, as where it is not installed
    command = ["tune", "digits_quick", "--param", "model[0].Dense.units=8,32", "--search", "tpe", "--trials", "3",
               "--runs", str(tmp_path)]  # fmt: skip
    assert main(command) == 2
    assert capsys.readouterr().err == (
        "fitscope tune: error: --search tpe needs Optuna, an optional dependency: pip install 'fitscope[optuna]' "
        "(or use --search random).\n"
    )
    assert not (tmp_path / "fitscope.db").exists()
