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

from typing import Literal

from hypothesis import strategies as st

from conformance.contract.constraints import utf16_units

TextKind = Literal["ascii", "bmp", "non-bmp", "mixed"]
"""ascii: one unit each, printable ASCII; bmp: one unit each, beyond ASCII; non-bmp: as many
two-unit characters as fit (one one-unit character pads an odd length); mixed: all three."""

TEXT_KINDS: tuple[TextKind, ...] = ("mixed", "ascii", "bmp", "non-bmp")

_ASCII = st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E), st.sampled_from("\t\n"))
_BMP = st.characters(
    min_codepoint=0xA0,
    max_codepoint=0xFFFD,
    exclude_categories=("Cs", "Cc", "Co", "Cn"),
)
_ONE_UNIT = st.one_of(_ASCII, _BMP)
_ASTRAL = st.characters(
    min_codepoint=0x10000,
    max_codepoint=0x10FFFF,
    exclude_categories=("Co", "Cn"),
)

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
        return st.text(_ASCII, min_size=units, max_size=units)
    if kind == "bmp":
        return st.text(_BMP, min_size=units, max_size=units)
    if kind == "non-bmp":
        pairs, odd = divmod(units, 2)
        return st.tuples(
            st.text(_ASTRAL, min_size=pairs, max_size=pairs),
            st.text(_ONE_UNIT, min_size=odd, max_size=odd),
        ).map(lambda parts: parts[0] + parts[1])
    return _mixed_of_units(units)


@st.composite
def _mixed_of_units(draw: st.DrawFn, units: int) -> str:
    """Some astral characters (often none, often one, sometimes many), the rest one-unit."""
    most = units // 2
    choices = [st.just(0), st.integers(0, most)]
    if most >= 1:
        choices.insert(1, st.just(1))
    astral = draw(st.one_of(*choices))
    narrow = units - 2 * astral
    chars = list(draw(st.text(_ASTRAL, min_size=astral, max_size=astral)))
    chars += list(draw(st.text(_ONE_UNIT, min_size=narrow, max_size=narrow)))
    return "".join(draw(st.permutations(chars)))


def text_up_to_units(
    max_units: int, *, min_units: int = 0, kind: TextKind = "mixed"
) -> st.SearchStrategy[str]:
    """Text of ``min_units``..``max_units`` units, with both ends drawn on purpose."""
    if min_units > max_units:
        raise ValueError(f"min_units {min_units} exceeds max_units {max_units}")
    lengths = st.one_of(st.just(max_units), st.just(min_units), st.integers(min_units, max_units))
    return lengths.flatmap(lambda units: text_of_units(units, kind))


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
