"""fitscope in Korean: every marked sentence translated, the catalog compiled, the language chosen as users do."""

from __future__ import annotations

import gettext
import io
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fitscope._i18n import LOCALE_DIR, _, language, set_language
from fitscope.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import compile_catalogs

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _fields(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)[^}]*\}", text))


def test_every_sentence_the_code_marks_has_a_korean_translation_with_the_same_fields() -> None:
    catalog = compile_catalogs.load("ko")
    marked = compile_catalogs.marked_sentences()
    assert marked, "no sentence is marked for translation"
    missing = [text for text in marked if not (catalog.get(text) and catalog.get(text).string)]
    assert missing == [], f"sentences without a Korean translation (run tools/compile_catalogs.py): {missing}"
    for text in marked:
        translated = catalog.get(text).string
        assert _fields(translated) == _fields(text), (text, translated)
        assert HANGUL.search(translated), (text, translated)


# A particle whose form depends on the sound before it (이/가, 은/는, 을/를, 과/와, 으로/로), right
# after a field: a number or name read aloud decides the form, so "{value}가" is wrong for 1.0.
_SOUND_BOUND_PARTICLE = re.compile(r"\{\w+\}(?:이|가|은|는|을|를|과|와|으로|로)(?![(\w])")


def test_no_korean_particle_after_a_field_takes_a_form_the_field_s_sound_decides() -> None:
    """`{value}이(가)` or a noun between (`{metric} 값은`), never `{value}가`, which reads wrong after 1, 3, 6, ..."""
    wrong = [message.string for message in compile_catalogs.load("ko")
             if message.id and _SOUND_BOUND_PARTICLE.search(message.string)]  # fmt: skip
    assert wrong == []


def test_the_compiled_catalog_matches_its_source() -> None:
    """fitscope.mo is compiled from fitscope.po (python tools/compile_catalogs.py): never stale."""
    from babel.messages.mofile import write_mo

    fresh = io.BytesIO()
    write_mo(fresh, compile_catalogs.load("ko"))
    assert (LOCALE_DIR / "ko" / "LC_MESSAGES" / "fitscope.mo").read_bytes() == fresh.getvalue()
    installed = gettext.translation("fitscope", LOCALE_DIR, languages=["ko"])
    for message in compile_catalogs.load("ko"):
        if message.id:
            assert installed.gettext(str(message.id)) == message.string


@pytest.mark.parametrize(
    ("variables", "expected"),
    [({"FITSCOPE_LANG": "ko"}, "ko"), ({"LANG": "ko_KR.UTF-8"}, "ko"), ({"LC_ALL": "ko_KR.UTF-8", "LANG": "C"}, "ko"),
     ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "C.UTF-8"}, "en"), ({}, "en")],
)  # fmt: skip
def test_the_language_follows_the_locale(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], expected: str
) -> None:
    for name in ("FITSCOPE_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert language() == expected
    set_language("en")  # an explicit choice wins
    assert language() == "en"
    with pytest.raises(ValueError, match=r"Received: lang='fr'\. Expected one of en, ko\."):
        set_language("fr")


def test_diagnose_speaks_korean_with_the_same_numbers_and_json_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_diagnose import _book_toy

    run_id = _book_toy(tmp_path)
    assert main(["diagnose", run_id, "--runs", str(tmp_path)]) == 0
    english = capsys.readouterr().out.splitlines()
    assert main(["--lang", "ko", "diagnose", run_id, "--runs", str(tmp_path)]) == 0
    korean = capsys.readouterr().out.splitlines()
    assert len(korean) == len(english)
    for ko, en in zip(korean, english):
        assert HANGUL.search(ko), ko  # every line in Korean...
        numbers = re.compile(r"\d+(?:\.\d+)?%?")
        assert sorted(numbers.findall(ko)) == sorted(numbers.findall(en)), (ko, en)  # ...with the same figures
    assert korean[0] == "가장 낮은 val_loss 값은 에포크 150의 1.255입니다(최적 에포크)."
    assert (  # the book's lesson on its own figure
        "에포크 150 이후 검증 손실은 올라갔지만(1.255 -> 1.381) 검증 정확도는 거의 그대로입니다(57.3% -> 56.3%). "
        "모델이 틀린 답을 점점 더 확신하고 있습니다." in korean[2]
    )
    assert any("앤드류 응(Andrew Ng)의 순서대로 편향부터 고치세요." in line for line in korean)  # one story: bias first
    assert (
        "EarlyStopping(monitor='val_loss', patience=0): 에포크 37 뒤에 멈추고 그 에포크의 가중치를 남겼을 것입니다"
        "(에포크 37: val_loss 1.467, val_accuracy 47.0%)." in "\n".join(korean)
    )
    set_language(None)
    monkeypatch.setenv("FITSCOPE_LANG", "")
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")  # as a Korean user's terminal has it
    assert main(["diagnose", run_id, "--runs", str(tmp_path), "--json"]) == 0
    in_korean = json.loads(capsys.readouterr().out)
    set_language("en")
    assert main(["diagnose", run_id, "--runs", str(tmp_path), "--json"]) == 0
    in_english = json.loads(capsys.readouterr().out)
    assert set(in_korean) == set(in_english) and in_korean["errors"] == in_english["errors"]
    assert all(HANGUL.search(sentence) for sentence in in_korean["summary"])
    assert _("train") == "train"  # English again


def test_a_run_s_summary_and_the_split_audit_speak_korean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny: object
) -> None:
    from fitscope import split_dataset

    argv = ["--lang", "ko", "run", "digits_quick", "--set", "fit.epochs=2", "--runs", str(tmp_path)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    lines = (captured.err + captured.out).strip().splitlines()
    assert lines[0].startswith("1/2 에포크  ") and "최적 val_loss " in lines[0]  # the progress line
    assert any(line.startswith("실행 ") and line.endswith(": 완료, 2 에포크") for line in lines)
    assert all(HANGUL.search(line) for line in lines), lines
    set_language("ko")
    warnings = split_dataset(tiny, val=6, seed=0).audit.warnings  # a validation part too small to trust
    assert warnings and all(HANGUL.search(warning) for warning in warnings), warnings


def test_a_cross_validation_s_summary_speaks_korean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--lang", "ko", "cv", "digits_quick", "--folds", "2", "--set", "fit.epochs=3", "--runs", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    summary = out[out.index("교차 검증 그룹 ") :].splitlines()
    assert summary[1].startswith("  폴드 0: 완료, 최종 val_")
    assert all(HANGUL.search(line) for line in out.splitlines() if line.strip()), out  # progress lines too


ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}[.,:;!?]?")


def untranslated(chunks: list[str]) -> list[str]:
    """Sentences a user reads that have no Korean in them: two English words or more and no Hangul.

    A lone identifier (a metric, a part's key, a run name, a table cell) is not a sentence and passes.
    """
    chunks = [cell for chunk in chunks for cell in re.split(r"[│┃]", chunk)]  # a table's cells one by one
    words = [[word for word in chunk.split() if ENGLISH_WORD.fullmatch(word)] for chunk in chunks]
    return [chunk for chunk, english in zip(chunks, words) if len(english) >= 2 and not HANGUL.search(chunk)]


class _ReadText(HTMLParser):
    """The text of the report's headings, sentences, list items and labels (not code, tables of numbers or SVG)."""

    READ = frozenset({"title", "h1", "h2", "p", "li", "th", "summary", "div"})
    SKIP = frozenset({"pre", "code", "svg", "style", "td"})

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if data.strip() and self.open and self.open[-1] in self.READ and not self.SKIP & set(self.open):
            self.chunks.append(data.strip())


def report_text(html: str) -> list[str]:
    reader = _ReadText()
    reader.feed(html)
    return reader.chunks


def test_the_html_report_and_its_figure_speak_korean(tmp_path: Path) -> None:
    from fitscope.report import render_report
    from fitscope.store import Store
    from test_diagnose import _book_toy

    run = Store(tmp_path).run(_book_toy(tmp_path))
    english = render_report(run)
    assert '<html lang="en">' in english and not HANGUL.search(english.split("<svg")[0])
    assert untranslated(report_text(english)), "the check below would pass on anything"
    set_language("ko")
    korean = render_report(run)
    assert '<html lang="ko">' in korean
    text = report_text(korean)
    assert untranslated(text) == []
    for heading in ("요약", "곡선", "진단", "분할", "평가", "스펙과 환경", "재현하기"):
        assert f"<h2>{heading}</h2>" in korean
    assert "가장 낮은 val_loss 값은 에포크 150의 1.255입니다(최적 에포크)." in text
    assert "이 실행의 테스트 세트는 0번 평가되었습니다." in text
    assert [f"<th>{name}</th>" in korean for name in ("사람", "훈련", "개발")] == [True] * 3  # the error levels' table
    labels = {line.get_label() for line in _book_figure_lines(run)}
    assert {"훈련 손실", "검증 손실", "최적 에포크 150", "과대적합 시작 ~146(평활화)"} <= labels


def _book_figure_lines(run: object) -> list[object]:
    from fitscope.analysis import diagnose_run
    from fitscope.report import book_figure

    curve = diagnose_run(run).curve  # type: ignore[arg-type]
    assert curve is not None
    figure = book_figure(run.history(), best_epoch=curve.best_epoch, onset=curve.overfit_onset)  # type: ignore[attr-defined]
    assert figure.axes[0].get_xlabel() == "에포크"
    return [line for ax in figure.axes for line in ax.get_lines()]


def test_a_spec_can_ask_for_korean_and_an_explicit_choice_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fitscope.experiment.training import Trial

    runs = ["--set", "fit.epochs=1", "--set", "lang=ko", "--runs", str(tmp_path), "--quiet"]
    assert main(["run", "digits_quick", *runs]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith("실행 ") and said[0].endswith(": 완료, 1 에포크"), said
    set_language(None)
    assert main(["--lang", "en", "run", "digits_quick", *runs]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(": finished, 1 epochs")
    set_language(None)
    assert language() == "en"  # the spec's choice lasts until the language is set again
    spec = {"model": [{"Dense": {"units": 3}}], "seed": 0}
    assert (
        Trial(spec={**spec, "lang": "ko"}, name="t").key == Trial(spec=spec, name="t").key
    )  # a finished trial stays found
    assert main(["run", "digits_quick", "--set", "lang=fr", "--runs", str(tmp_path)]) == 2
    assert "lang" in capsys.readouterr().err


def test_an_unknown_fitscope_lang_is_said_once_and_the_locale_is_followed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import fitscope._i18n as i18n
    from test_diagnose import _book_toy

    run_id = _book_toy(tmp_path)
    monkeypatch.setattr(i18n, "_warned_about", set())
    monkeypatch.setenv("FITSCOPE_LANG", "fr")
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    with pytest.warns(UserWarning) as said:
        assert language() == "ko" and language() == "ko"
    assert [str(w.message) for w in said] == [
        "FITSCOPE_LANG='fr' is not a language fitscope speaks (en, ko); it follows the locale instead. "
        "Set FITSCOPE_LANG=ko or en, or unset it."
    ]
    monkeypatch.setattr(i18n, "_warned_about", set())
    command = [sys.executable, "-m", "fitscope", "diagnose", run_id, "--runs", str(tmp_path)]
    ran = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "FITSCOPE_LANG": "fr"}, timeout=120
    )
    assert ran.returncode == 0
    assert ran.stderr.splitlines() == ["warning: " + str(said[0].message)]  # one line, no file name or source line
    assert ran.stdout.startswith("가장 낮은 val_loss 값은")


@pytest.mark.slow
@pytest.mark.integration
def test_the_quick_demo_and_a_korean_terminal_s_diagnose_speak_korean_throughout(
    mnist_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = ["--runs", str(tmp_path)]
    assert main(["--lang", "ko", "demo", "--quick", "--data-dir", str(mnist_path.parent), *runs]) == 0
    captured = capsys.readouterr()
    lines = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    assert "== 장난감 모델(은닉 유닛 2개, sgd, 이미지 700장)" in lines
    assert any(line.startswith("EarlyStopping(monitor='val_loss', patience=0): 에포크 ") for line in lines)
    assert untranslated(lines) == [] and all(HANGUL.search(line) for line in lines), lines
    set_language(None)
    monkeypatch.delenv("FITSCOPE_LANG")
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")  # a Korean terminal, no option
    assert main(["diagnose", "last", *runs]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith("가장 낮은 val_loss 값은 에포크 ") and all(HANGUL.search(line) for line in said), said
    assert main(["report", "last", *runs, "-o", str(tmp_path / "report.html")]) == 0
    capsys.readouterr()
    assert untranslated(report_text((tmp_path / "report.html").read_text(encoding="utf-8"))) == []
