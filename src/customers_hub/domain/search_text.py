"""The normalized form names are searched through (rules §6), and the digits phones match on.

The same function normalizes the stored text and the query, so ``احمد`` finds ``أحمد`` and
``محمد`` finds ``مُحَمَّد``. Store ``normalize_search_text(name)`` next to the name and compare
normalized query terms against it; store ``phone_digits(phone)`` and match
``phone_query_digits(query)`` as a substring of it.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# Arabic combining marks removed for search. Tashkeel proper is U+064B–U+0652; the rest of the
# U+064B–U+065F block (maddah, hamza above/below, …), the superscript alef U+0670 and the Quranic
# annotation signs are removed too: none of them changes which name is meant.
_ARABIC_MARK_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x0610, 0x061A),  # honorific and Quranic small signs
    (0x064B, 0x065F),  # tashkeel and the other combining marks of the block
    (0x0670, 0x0670),  # superscript (dagger) alef
    (0x06D6, 0x06DC),  # Quranic small high ligatures and signs
    (0x06DF, 0x06E4),
    (0x06E7, 0x06E8),
    (0x06EA, 0x06ED),
    (0x08D3, 0x08E1),  # extended-A Quranic marks
    (0x08E3, 0x08FF),
)
_TATWEEL: Final = "\u0640"

_LETTER_MAP: Final[dict[str, str]] = {
    "أ": "ا",  # U+0623 alef with hamza above
    "إ": "ا",  # U+0625 alef with hamza below
    "آ": "ا",  # U+0622 alef with madda
    "ٱ": "ا",  # U+0671 alef wasla
    "ٲ": "ا",  # U+0672 alef with wavy hamza above
    "ٳ": "ا",  # U+0673 alef with wavy hamza below
    "ٵ": "ا",  # U+0675 high hamza alef
    "ة": "ه",  # U+0629 teh marbuta
    "ى": "ي",  # U+0649 alef maksura
    # Persian keyboards type these for Arabic yeh and kaf; the name is the same.
    "ی": "ي",  # U+06CC farsi yeh
    "ک": "ك",  # U+06A9 keheh
}


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(k): v for k, v in _LETTER_MAP.items()}
    for first, last in _ARABIC_MARK_RANGES:
        for code in range(first, last + 1):
            table[code] = None
    table[ord(_TATWEEL)] = None
    # Control characters (NUL, …) are never stored (texts are cleaned): in a query they separate
    # terms, as whitespace does, and never reach a statement (SQLite and PostgreSQL refuse a NUL).
    for code in (*range(0x20), *range(0x7F, 0xA0)):  # the whole of category Cc
        table[code] = " "
    return table


_TABLE: Final = _build_table()

# Cap of the fixed-point loop below; real text settles after one or two passes.
_MAX_PASSES: Final = 8


def _to_ascii_digit(ch: str) -> str:
    # Every Unicode decimal digit (Arabic-Indic ٠–٩, Eastern ۰–۹, full-width, …) becomes ASCII.
    return str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch


def _one_pass(text: str) -> str:
    # NFKC first: Arabic presentation forms (copied from PDFs) and full-width Latin become plain
    # letters, and a decomposed alef + madda composes to آ so that the letter map catches it.
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_TABLE)
    # Format characters (RLM/LRM, ZWJ/ZWNJ, bidi isolates, BOM) are invisible and break matching.
    text = "".join(
        _to_ascii_digit(ch) for ch in text if unicodedata.category(ch) != "Cf"
    ).casefold()
    return " ".join(text.split())


def normalize_search_text(text: str) -> str:
    """The normalized search form of ``text`` (rules §6).

    Removes Arabic diacritics, Quranic marks, tatweel and invisible format characters; maps
    ``أ إ آ ٱ`` to ``ا``, ``ة`` to ``ه``, ``ى`` (and Persian ``ی``) to ``ي``, Persian ``ک`` to
    ``ك``; turns every decimal digit (Arabic-Indic, Eastern) into ASCII; case-folds Latin;
    treats control characters as whitespace; collapses whitespace to one space and strips.
    Idempotent.
    """
    # Removing a mark can leave a sequence that NFKC composes differently on a second call
    # (Latin letter + tashkeel + acute), so repeat the pass until nothing changes: the result is
    # then a fixed point, which is what makes the function idempotent.
    for _ in range(_MAX_PASSES):
        normalized = _one_pass(text)
        if normalized == text:
            break
        text = normalized
    return text


def search_terms(text: str) -> tuple[str, ...]:
    """The distinct normalized whitespace-separated terms of ``text``, in order of appearance."""
    return tuple(dict.fromkeys(normalize_search_text(text).split()))


def to_ascii_digits(text: str) -> str:
    """``text`` with every decimal digit (Arabic-Indic ٠–٩, Eastern ۰–۹, …) made ASCII."""
    return "".join(_to_ascii_digit(ch) for ch in text)


def phone_digits(text: str) -> str:
    """Only the digits of ``text``, converted to ASCII (``+966 ٥٠…`` → ``96650…``)."""
    return "".join(_to_ascii_digit(ch) for ch in text if ch.isdecimal())


def phone_query_digits(text: str) -> str:
    """The digits a phone search matches as a substring of a stored ``phone_digits`` value.

    An international ``00`` prefix and a national trunk ``0`` are dropped, so ``0501234567``,
    ``00966501234567`` and ``+966 50 123 4567`` all find ``+966501234567``.
    """
    digits = phone_digits(text)
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return digits[1:]
    return digits
