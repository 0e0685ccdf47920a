"""The people palette: readable on white, distinct, stable, and the server's alone.

Contrast is computed here from WCAG 2.x's definitions (relative luminance
of sRGB), not taken from the module under test, so a colour that fails
AA fails this test whatever the palette claims.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

from documents.people import PALETTE, user_color

REPO = Path(__file__).resolve().parents[2]
HEX = re.compile(r"^#[0-9a-f]{6}$")


def _channels(colour: str) -> tuple[float, float, float]:
    """Return the linear sRGB channels of ``#rrggbb``."""

    def linear(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return linear(colour[1:3]), linear(colour[3:5]), linear(colour[5:7])


def _luminance(colour: str) -> float:
    r, g, b = _channels(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """Return the WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _lab(colour: str) -> tuple[float, float, float]:
    """Return CIELAB (D65) coordinates of ``colour``."""
    r, g, b = _channels(colour)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_the_contrast_formula_matches_known_ratios() -> None:
    """Black on white is 21:1, white on white 1:1, #767676 the AA edge (4.54)."""
    assert math.isclose(contrast("#000000", "#ffffff"), 21.0)
    assert math.isclose(contrast("#ffffff", "#ffffff"), 1.0)
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54
    # The old palette's faint colours fail, so the check can fail.
    assert all(contrast(c, "#ffffff") < 4.5 for c in ("#aaffc3", "#fffac8", "#ffe119"))


def test_every_colour_passes_wcag_aa_against_white_as_caret_and_flag() -> None:
    """A caret on the white page and white flag text on the colour: ≥ 4.5:1 both."""
    for colour in PALETTE:
        assert HEX.match(colour), colour
        # The client's grey for "colour not known yet" (static/src/editor/colors.js).
        assert colour != "#5f6368"
        assert contrast(colour, "#ffffff") >= 4.5, (colour, contrast(colour, "#ffffff"))


def test_the_palette_is_large_and_its_colours_are_told_apart() -> None:
    """At least 12 colours; any two ΔE ≥ 19, neighbours (users n, n+1) ΔE ≥ 40."""
    assert len(PALETTE) >= 12
    assert len(set(PALETTE)) == len(PALETTE)
    for a, b in itertools.combinations(PALETTE, 2):
        assert math.dist(_lab(a), _lab(b)) >= 19, (a, b)
    for i, colour in enumerate(PALETTE):
        after = PALETTE[(i + 1) % len(PALETTE)]
        assert math.dist(_lab(colour), _lab(after)) >= 40, (colour, after)


def test_user_color_is_stable_per_id_and_uses_the_whole_palette() -> None:
    """Depends on the id alone; ids 1..n reach every colour (no step sharing a factor)."""
    assert [user_color(7) for _ in range(3)] == [user_color(7)] * 3
    assert user_color(7) == user_color(7 + len(PALETTE))
    assert {user_color(i) for i in range(1, len(PALETTE) + 1)} == set(PALETTE)
    assert all(user_color(i) != user_color(i + 1) for i in range(200))


def test_no_client_module_carries_a_palette_of_its_own() -> None:
    """Clients draw the colour the server sent; none of the palette is in static/src."""
    found = []
    for path in (REPO / "static" / "src").rglob("*.js"):
        text = path.read_text(encoding="utf-8").lower()
        found.extend((path.name, c) for c in PALETTE if c in text)
    assert found == []


def test_templates_get_the_same_colour_and_nothing_for_no_user() -> None:
    """``{{ id|user_color }}`` is user_color(id); an anonymous user's None is ""."""
    from django.template import Context, Template

    template = Template("{% load collabdocs %}[{{ id|user_color }}]")
    assert template.render(Context({"id": 5})) == f"[{user_color(5)}]"
    assert template.render(Context({"id": None})) == "[]"
    assert template.render(Context({"id": "5"})) == "[]"
