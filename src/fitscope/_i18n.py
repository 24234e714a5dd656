"""The language fitscope speaks to its users: English, or Korean.

Sentences are written in English in the code and looked up, when another language is
chosen, in gettext catalogs (``locale/<lang>/LC_MESSAGES/fitscope.po``, compiled to
``.mo`` beside it by ``python tools/compile_catalogs.py``). The language is the one
set with :func:`set_language` (``fitscope --lang ko``), else the one an experiment's
spec asks for (its ``lang`` key, :func:`prefer_language`), else ``FITSCOPE_LANG``, else
the locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``ko_KR.UTF-8`` is
Korean). Numbers and JSON keys never change with the language.

Each translatable sentence is a template with named fields, ``_("... {epoch} ...")``,
filled with ``.format(...)`` after the lookup, so a translation may put the fields in
its own order.
"""

from __future__ import annotations

import gettext
import os
import warnings
from functools import cache
from pathlib import Path

__all__ = ["LANGUAGES", "LOCALE_DIR", "N_", "STATUS_NAMES", "_", "language", "prefer_language", "set_language"]

LANGUAGES = ("en", "ko")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "fitscope"
_chosen: str | None = None
_preferred: str | None = None
_warned_about: set[str] = set()


def set_language(lang: str | None) -> None:
    """Speak ``lang`` (``"en"`` or ``"ko"``) from now on; ``None`` goes back to the environment's choice."""
    global _chosen, _preferred
    if lang is not None and lang not in LANGUAGES:
        from ._errors import invalid_argument

        raise invalid_argument("lang", lang, f"Expected one of {', '.join(LANGUAGES)}.")
    _chosen = lang
    if lang is None:
        _preferred = None


def prefer_language(lang: str | None) -> None:
    """Speak ``lang`` from now on unless a language was set (:func:`set_language`, ``--lang``): a spec's ``lang``."""
    global _preferred
    if lang is not None:
        _preferred = lang


def language() -> str:
    """The language in use: the one set, else a spec's, else ``FITSCOPE_LANG``, else the locale's (ko or en)."""
    if _chosen is not None:
        return _chosen
    if _preferred is not None:
        return _preferred
    own = os.environ.get("FITSCOPE_LANG")
    if own in LANGUAGES:
        return own
    if own and own not in _warned_about:  # said once, not on every sentence
        _warned_about.add(own)
        warnings.warn(
            f"FITSCOPE_LANG={own!r} is not a language fitscope speaks ({', '.join(LANGUAGES)}); "
            "it follows the locale instead. Set FITSCOPE_LANG=ko or en, or unset it.",
            UserWarning,
            stacklevel=3,
        )
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def _(message: str) -> str:
    """``message`` in the language in use (itself in English, or when a catalog lacks it)."""
    lang = language()
    return message if lang == "en" else _catalog(lang).gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined (a constant); :func:`_` translates it where it is used."""
    return message


# A run's status, as a sentence says it (the store and JSON keep the English word).
STATUS_NAMES = {
    "finished": N_("finished"), "failed": N_("failed"), "interrupted": N_("interrupted"), "running": N_("running"),
    "pending": N_("pending"), "pruned": N_("pruned"),
}  # fmt: skip
