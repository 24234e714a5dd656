"""Keep fitscope's message catalogs in step with the code, and compile them.

    python tools/compile_catalogs.py          # add new sentences to each .po (untranslated), compile each .mo
    python tools/compile_catalogs.py --check  # exit 1, listing them, if a sentence lacks a translation

The sentences are the strings the code and the report's templates mark with ``_()`` or ``N_()`` (see
``src/fitscope/_i18n.py``); each language's ``locale/<lang>/LC_MESSAGES/fitscope.po``
holds their translations, written by hand, and ``fitscope.mo`` is compiled from it with
Babel (``pip install babel``; the installed package needs only Python's gettext).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "fitscope"
LOCALES = PACKAGE / "locale"
KEYWORDS = {"_": None, "N_": None}
# The code, and the Jinja templates of the HTML report (their sentences are marked with _() too).
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]


def marked_sentences() -> dict[str, list[tuple[str, int]]]:
    """Every sentence marked in the package's code, with where it is."""
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=METHODS, keywords=KEYWORDS
    ):
        found.setdefault(str(message), []).append((f"fitscope/{filename}", lineno))
    return found


def catalog_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "fitscope.po"


def load(lang: str) -> Catalog:
    path = catalog_path(lang)
    if not path.is_file():
        return Catalog(locale=lang, domain="fitscope", project="fitscope")
    with path.open("rb") as handle:
        return read_po(handle, locale=lang, domain="fitscope")


def untranslated(lang: str) -> list[str]:
    catalog = load(lang)
    return [text for text in marked_sentences() if not (catalog.get(text) and catalog.get(text).string)]


def update_and_compile(lang: str) -> None:
    catalog = load(lang)
    sentences = marked_sentences()
    for text, places in sentences.items():
        if catalog.get(text) is None:
            catalog.add(text, "", locations=places)
        else:
            catalog.get(text).locations = places
    for message in list(catalog):
        if message.id and message.id not in sentences:
            catalog.delete(message.id)  # (no longer said anywhere)
    path = catalog_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_output=True, omit_header=False)
    with path.with_suffix(".mo").open("wb") as handle:
        write_mo(handle, catalog)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only list the sentences without a translation")
    args = parser.parse_args()
    langs = sorted(p.name for p in LOCALES.iterdir() if p.is_dir()) if LOCALES.is_dir() else ["ko"]
    missing = {lang: untranslated(lang) for lang in langs}
    if not args.check:
        for lang in langs:
            update_and_compile(lang)
    for lang, texts in missing.items():
        for text in texts:
            print(f"{lang}: no translation: {text!r}", file=sys.stderr)
    return 1 if args.check and any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
