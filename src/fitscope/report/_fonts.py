"""Fonts that draw Korean run names, class names and labels with real glyphs.

matplotlib's default DejaVu Sans has no Hangul. fitscope's figures list a Korean font
after the default sans-serif, so Latin text keeps its look and Hangul falls back to
real glyphs: an installed system CJK font when there is one (Debian's ``fonts-nanum``,
Noto CJK, Malgun Gothic...), else the NanumGothic that the ``koreanize-matplotlib``
package (a fitscope dependency) ships, so a fresh machine draws Hangul too.

The user's matplotlib settings are left alone: each figure is made inside
:func:`korean_fonts`, a ``matplotlib.rc_context``. (``koreanize_matplotlib`` itself is
never imported: importing it rewrites matplotlib's global font settings.)
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["CJK_FAMILIES", "bundled_font_file", "cjk_font", "configure_fonts", "korean_fonts", "with_korean_fonts"]

CJK_FAMILIES = (
    "NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR", "Noto Sans CJK JP",
    "Source Han Sans KR", "Malgun Gothic", "AppleGothic", "UnDotum",
)  # fmt: skip

_CJK_FILES = ("nanum", "notosanscjk", "notosanskr", "sourcehansans", "malgun", "applegothic", "undotum")

F = TypeVar("F", bound=Callable[..., Any])


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The font family fitscope draws Hangul with: a system CJK font, else the bundled NanumGothic."""
    return _system_cjk() or _bundled()


def _system_cjk() -> str | None:
    """The first installed system font family that has Hangul, or ``None``."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    bundled = bundled_font_file()  # (once: looked up for every font of the list otherwise)
    found = _first_cjk({f.name for f in manager.ttflist if not _is(bundled, f.fname)})
    if found is None:
        # matplotlib caches its font list; a font installed after the cache was built
        # (e.g. `apt-get install fonts-nanum`) is only found by scanning again.
        for path in font_manager.findSystemFonts():
            if any(key in Path(path).name.lower() for key in _CJK_FILES):
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # pragma: no cover - unreadable font file
                    continue
        found = _first_cjk({f.name for f in manager.ttflist if not _is(bundled, f.fname)})
    return found


def bundled_font_file() -> Path | None:
    """The NanumGothic file ``koreanize-matplotlib`` ships (found without importing the package), or ``None``."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "NanumGothic.ttf"
    return path if path.is_file() else None


def _is(bundled: Path | None, fname: str) -> bool:
    """Whether the font file ``fname`` is the bundled one (which does not count as a system font)."""
    return bundled is not None and Path(fname) == bundled


def _bundled() -> str | None:
    from matplotlib import font_manager

    path = bundled_font_file()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


def _first_cjk(installed: set[str]) -> str | None:
    return next((name for name in CJK_FAMILIES if name in installed), None)


def _settings() -> Any:  # (matplotlib types its settings' names as literals)
    import matplotlib

    family = cjk_font()
    settings: dict[str, Any] = {"axes.unicode_minus": False}
    if family is not None:
        # matplotlib falls back across the entries of font.family (not inside a generic
        # family), so list the default sans-serif first and the Korean font after it.
        settings["font.family"] = [matplotlib.rcParams["font.sans-serif"][0], family]
    return settings


@contextmanager
def korean_fonts() -> Iterator[str | None]:
    """Within this block, text drawn by matplotlib falls back to a Korean font; yields its family."""
    import matplotlib

    with matplotlib.rc_context(_settings()):
        yield cjk_font()


def with_korean_fonts(make: F) -> F:
    """Make a figure-making function's text (titles, labels, legends) fall back to a Korean font."""

    @functools.wraps(make)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with korean_fonts():
            return make(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def configure_fonts() -> str | None:
    """Make the Korean font a fallback in matplotlib's global settings (for your own figures); returns its family.

    fitscope's own figures do not need this: they set it for themselves only.
    """
    import matplotlib

    matplotlib.rcParams.update(_settings())
    return cjk_font()
