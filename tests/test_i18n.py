"""fitscope in Korean: every marked sentence translated, the catalog compiled, the language chosen as users do."""

from __future__ import annotations

import gettext
import io
import json
import re
import sys
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
    assert korean[0] == "가장 낮은 val_loss는 에포크 150의 1.255입니다(최적 에포크)."
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
