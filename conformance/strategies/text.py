"""Text measured the way the service measures it: in UTF-16 code units (R2).

The limits in ``schemas/constraints.toml`` count UTF-16 code units, so a character outside the
Basic Multilingual Plane costs two. A suite that only ever sends ASCII cannot tell a target that
counts code points (or bytes) from one that counts code units; these helpers build text of an
exact unit length from three alphabets (ASCII, BMP beyond ASCII, astral) so the boundary cases
that separate those readings are generated on purpose, not by luck.

Every character is legal in XML 1.0 and survives a parse unchanged: no C0/C1 controls other
than tab and line feed (a carriage return would be normalised unless escaped), no surrogates,
no noncharacters, no private-use or unassigned code points.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Literal

from hypothesis import strategies as st

from conformance.contract.constraints import utf16_units

TextKind = Literal["ascii", "bmp", "non-bmp", "mixed"]
"""ascii: one unit each, printable ASCII; bmp: one unit each, beyond ASCII; non-bmp: as many
two-unit characters as fit (one one-unit character pads an odd length); mixed: all three."""

TEXT_KINDS: tuple[TextKind, ...] = ("mixed", "ascii", "bmp", "non-bmp")

_ASCII_POINTS: tuple[tuple[int, int], ...] = ((0x09, 0x0A), (0x20, 0x7E))
_BMP_POINTS: tuple[tuple[int, int], ...] = (
    (0xA0, 0xFF),  # NBSP, Latin-1 letters and signs
    (0x300, 0x36F),  # combining diacritics: one unit each, no glyph of their own
    (0x391, 0x3A1),  # Greek
    (0x410, 0x44F),  # Cyrillic
    (0x5D0, 0x5EA),  # Hebrew (right to left)
    (0x2000, 0x200A),  # typographic spaces
    (0x2190, 0x21FF),  # arrows
    (0x3000, 0x3000),  # ideographic space
    (0x4E00, 0x9FA5),  # CJK unified ideographs
    (0xAC00, 0xD7A3),  # Hangul syllables (just below the surrogates)
    (0xFFFD, 0xFFFD),  # the replacement character, the last BMP character XML allows
)
_ASTRAL_POINTS: tuple[tuple[int, int], ...] = (
    (0x10400, 0x1044F),  # Deseret (the first supplementary plane)
    (0x1D100, 0x1D126),  # musical symbols
    (0x1F600, 0x1F64F),  # emoticons
    (0x20000, 0x2A6DF),  # CJK extension B (the second plane)
)
"""Blocks assigned since Unicode 3.1 or earlier, so every Python's unicodedata agrees.

Characters are drawn as integer indexes into these tables, not with ``st.characters``:
Hypothesis' shrinker can crash ("... is not in list") when string choices of different
alphabets trade places, which would hide a real failure behind an internal error.
"""


def _alphabet(intervals: tuple[tuple[int, int], ...]) -> st.SearchStrategy[str]:
    starts: list[int] = []
    total = 0
    for low, high in intervals:
        starts.append(total)
        total += high - low + 1

    def char(index: int) -> str:
        slot = bisect_right(starts, index) - 1
        return chr(intervals[slot][0] + index - starts[slot])

    return st.integers(0, total - 1).map(char)


_ASCII = _alphabet(_ASCII_POINTS)
_BMP = _alphabet(_BMP_POINTS)
_ONE_UNIT = _alphabet(_ASCII_POINTS + _BMP_POINTS)
_ASTRAL = _alphabet(_ASTRAL_POINTS)


def _chars(alphabet: st.SearchStrategy[str], size: int) -> st.SearchStrategy[str]:
    return st.lists(alphabet, min_size=size, max_size=size).map("".join)


# Deterministic building blocks for explicit examples and golden envelopes.
_FIXED_ASCII = "OpenMedia"
_FIXED_BMP = "ÅéßЖλ€中✓"
_FIXED_ASTRAL = "😀𝄞𐐷🚀"
_FIXED_MIXED = ("O", "é", "😀", "m", "€", "𝄞", " ", "中")


def text_of_units(units: int, kind: TextKind = "mixed") -> st.SearchStrategy[str]:
    """Text of exactly ``units`` UTF-16 code units; ``mixed`` mixes all three alphabets."""
    if units < 0:
        raise ValueError("a text cannot be shorter than 0 units")
    if kind == "ascii":
        return _chars(_ASCII, units)
    if kind == "bmp":
        return _chars(_BMP, units)
    if kind == "non-bmp":
        pairs, odd = divmod(units, 2)
        return st.tuples(_chars(_ASTRAL, pairs), _chars(_ONE_UNIT, odd)).map("".join)
    return _mixed_of_units(units)


@st.composite
def _mixed_of_units(draw: st.DrawFn, units: int) -> str:
    """Some astral characters (often none, often one, sometimes many) among one-unit ones."""
    most = units // 2
    mode = draw(st.integers(0, 2)) if most else 0
    astral = mode if mode < 2 else draw(st.integers(0, most))
    chars = list(draw(_chars(_ONE_UNIT, units - 2 * astral)))
    for _ in range(astral):
        chars.insert(draw(st.integers(0, len(chars))), draw(_ASTRAL))
    return "".join(chars)


def text_up_to_units(
    max_units: int, *, min_units: int = 0, kind: TextKind = "mixed"
) -> st.SearchStrategy[str]:
    """Text of ``min_units``..``max_units`` units, with both ends drawn on purpose."""
    if min_units > max_units:
        raise ValueError(f"min_units {min_units} exceeds max_units {max_units}")
    return _up_to(min_units, max_units, kind)


@st.composite
def _up_to(draw: st.DrawFn, low: int, high: int, kind: TextKind) -> str:
    mode = draw(st.integers(0, 3))
    units = high if mode == 0 else low if mode == 1 else draw(st.integers(low, high))
    return draw(text_of_units(units, kind))


def units_text(units: int, kind: TextKind = "mixed", *, start: int = 0) -> str:
    """A fixed text of exactly ``units`` code units, for explicit examples and golden files.

    ``non-bmp`` with an odd length ends in one ASCII character; ``mixed`` cycles ASCII, Latin,
    CJK and astral characters, substituting an ASCII one where an astral would overrun.
    ``start`` rotates the cycle, so sibling items get different texts of the same length.
    """
    if units < 0:
        raise ValueError("a text cannot be shorter than 0 units")
    if kind == "ascii":
        source: tuple[str, ...] = tuple(_FIXED_ASCII)
    elif kind == "bmp":
        source = tuple(_FIXED_BMP)
    elif kind == "non-bmp":
        source = tuple(_FIXED_ASTRAL)
    else:
        source = _FIXED_MIXED
    out: list[str] = []
    left = units
    index = start
    while left > 0:
        char = source[index % len(source)]
        if utf16_units(char) > left:
            char = _FIXED_ASCII[index % len(_FIXED_ASCII)]
        out.append(char)
        left -= utf16_units(char)
        index += 1
    return "".join(out)


def one_unit_over_in_code_points(limit: int) -> str:
    """``limit`` code points but ``limit + 1`` UTF-16 units: one astral character at the end.

    A target that counts code points accepts it; one that counts code units (R2) refuses it.
    """
    if limit < 1:
        raise ValueError("the limit must allow at least one character")
    return units_text(limit - 1, "ascii") + _FIXED_ASTRAL[0]
