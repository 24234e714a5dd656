"""Fonts that render Korean run names and labels with real glyphs.

matplotlib's default DejaVu Sans has no Hangul; with a CJK font installed (Debian's
``fonts-nanum`` or Noto CJK) it is added as a fallback so Latin text keeps the
default look and Korean text gets real glyphs. Without one, figures still render,
and :func:`cjk_font` returns ``None`` so callers can say why Hangul shows as boxes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

__all__ = ["CJK_FAMILIES", "cjk_font", "configure_fonts"]

CJK_FAMILIES = (
    "NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR", "Noto Sans CJK JP",
    "Source Han Sans KR", "Malgun Gothic", "AppleGothic", "UnDotum",
)  # fmt: skip


_CJK_FILES = ("nanum", "notosanscjk", "notosanskr", "sourcehansans", "malgun", "applegothic", "undotum")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font family that has Hangul, or ``None``."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    found = _first_cjk({f.name for f in manager.ttflist})
    if found is None:
        # matplotlib caches its font list; a font installed after the cache was built
        # (e.g. `apt-get install fonts-nanum`) is only found by scanning again.
        for path in font_manager.findSystemFonts():
            if any(key in Path(path).name.lower() for key in _CJK_FILES):
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # pragma: no cover - unreadable font file
                    continue
        found = _first_cjk({f.name for f in manager.ttflist})
    return found


def _first_cjk(installed: set[str]) -> str | None:
    return next((name for name in CJK_FAMILIES if name in installed), None)


def configure_fonts() -> str | None:
    """Add the CJK font (if any) as a fallback after matplotlib's default sans-serif."""
    import matplotlib

    family = cjk_font()
    if family is not None:
        # matplotlib falls back across the entries of font.family (not inside a generic
        # family), so list the default sans-serif first and the CJK font after it.
        default = matplotlib.rcParams["font.sans-serif"][0]
        matplotlib.rcParams["font.family"] = [default, family]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family
