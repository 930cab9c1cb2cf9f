"""Names and free text typed by people: cleaned, checked, and compared safely.

Party names ("Oxfam-Québec", "L'ŒUVRE LÉGER") and free text (memos, reasons, references)
arrive from a terminal, a paste, or a CSV file. What reaches the ledger must print the same
everywhere and must not be able to pass for something else, so:

* text is NFC-normalized and its whitespace collapsed, so "é" typed two ways is one "é";
* invisible and control characters are refused, never silently dropped: an escape sequence
  could repaint the terminal, a right-to-left override could make "Oxfam" display as
  something else, a zero-width space could make two equal-looking names differ;
* in a name, a word mixing Latin with Cyrillic or Greek letters ("Oxfаm" with a Cyrillic
  "а") is refused, and `lookalike_of` finds a new name that imitates an existing one.

Accents are kept everywhere: "Équitas" and "Equitas" are different names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from fisiq.errors import FisiqError

__all__ = [
    "TextError",
    "clean_name",
    "clean_text",
    "lookalike_of",
    "name_key",
    "skeleton",
]


class TextError(FisiqError):
    """A name or text that fisiq refuses; the one-line message says why and what to do."""


# Whitespace a paste or a French keyboard brings (tab, line breaks, no-break spaces): each
# run becomes one ordinary space. Other control characters (category Cc) are refused.
_WHITESPACE_CONTROLS = frozenset("\t\n\r\v\f")
_WHITESPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp"})

# Characters refused by category: control, format (invisible: zero-width, bidi, soft
# hyphen, BOM), surrogate, private use, unassigned.
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned character",
}

# Plainer words for the refused characters people actually meet.
_KNOWN = {
    0x0000: "a NUL character",
    0x001B: "an escape character",
    0x007F: "a delete character",
    0x00AD: "a soft hyphen",
    0x061C: "an Arabic letter mark",
    0x200B: "a zero-width space",
    0x200C: "a zero-width non-joiner",
    0x200D: "a zero-width joiner",
    0x200E: "a left-to-right mark",
    0x200F: "a right-to-left mark",
    0x202A: "a left-to-right embedding",
    0x202B: "a right-to-left embedding",
    0x202C: "a pop directional formatting",
    0x202D: "a left-to-right override",
    0x202E: "a right-to-left override",
    0x2060: "a word joiner",
    0x2066: "a left-to-right isolate",
    0x2067: "a right-to-left isolate",
    0x2068: "a first strong isolate",
    0x2069: "a pop directional isolate",
    0xFEFF: "a byte order mark",
}

# Accents stacked deeper than this on one letter are "Zalgo" text, not a language.
_MAX_MARKS = 4


def _pairs(lookalikes: str, latin: str) -> dict[str, str]:
    return dict(zip(lookalikes, latin, strict=True))


# Cyrillic and Greek letters drawn like a Latin letter. Accented forms (ё, ї, ά) are
# covered because `skeleton` compares the decomposed base letter.
_LOOKALIKES = {
    **_pairs("АВЕКМНОРСТХУЅІЈԚԜҺҮ", "ABEKMHOPCTXYSIJQWHY"),  # Cyrillic capitals
    **_pairs("аеорсхуіјѕһԁԛԝүӏ", "aeopcxyijshdqwyl"),  # Cyrillic small letters
    **_pairs("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹͿ", "ABEZHIKMNOPTYXCJ"),  # Greek capitals
    **_pairs("ακνορυχιϲϳ", "akvopuxicj"),  # Greek small letters
}

# Typographic punctuation that people type one way or another for the same name:
# "L’ŒUVRE" and "L'ŒUVRE", "Paix – Caritas" and "Paix - Caritas".
_PUNCTUATION_TWINS = {
    **_pairs("’‘ʼ′`´", "''''''"),
    **_pairs("‐‑‒–—―−", "-------"),
    **_pairs("“”„″", '""""'),
}
_SKELETON_TABLE = str.maketrans(_LOOKALIKES | _PUNCTUATION_TWINS)

_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)  # runs of letters (marks follow via NFC)


def _describe(char: str) -> str:
    """'a right-to-left override (U+202E)'-style words for a refused character."""
    code = ord(char)
    words = _KNOWN.get(code) or _REFUSED_CATEGORIES.get(unicodedata.category(char), "a character")
    return f"{words} (U+{code:04X})"


def _code(char: str) -> str:
    """'U+0430 CYRILLIC SMALL LETTER A' for a visible character."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED CHARACTER')}"


def _is_whitespace(char: str) -> bool:
    return char in _WHITESPACE_CONTROLS or unicodedata.category(char) in _WHITESPACE_CATEGORIES


def _normalize(text: str) -> str:
    """NFC, surrounding whitespace stripped, inner whitespace runs made one space."""
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    pending_space = False
    for char in text:
        if _is_whitespace(char):
            pending_space = True
            continue
        if pending_space and out:
            out.append(" ")
        pending_space = False
        out.append(char)
    return "".join(out)


def _check_characters(text: str, what: str) -> None:
    """Refuse invisible, control, unassigned characters and loose or stacked accents."""
    marks = 0
    previous = " "
    for char in text:
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES:
            raise TextError(f"{what} has {_describe(char)}; remove it")
        if category.startswith("M"):
            if previous == " ":
                raise TextError(f"{what} has an accent with no letter under it ({_code(char)}); remove it")
            marks += 1
            if marks > _MAX_MARKS:
                raise TextError(f"{what} has too many accents stacked on one letter ({_code(char)})")
        else:
            marks = 0
        previous = char


def _script(char: str) -> str:
    """'LATIN', 'CYRILLIC', 'GREEK' or '' for a letter, from its Unicode name."""
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return first if first in _CONFUSABLE_SCRIPTS else ""


def _check_scripts(name: str, what: str) -> None:
    """Refuse Latin mixed with Cyrillic or Greek in a way that imitates a Latin name."""
    for char in name:
        # Fullwidth and mathematical letters, ligatures like "ﬁ": styled copies of
        # ordinary letters that make a name look like another. ª and º are real ordinals.
        folded = unicodedata.normalize("NFKC", char)
        if not char.isascii() and char not in "ªº" and folded.isascii() and folded.isalpha():
            raise TextError(
                f"{what} has a styled letter {char!r} ({_code(char)}); type the ordinary {folded!r}"
            )
    words = _WORD.findall(name)
    has_latin = any(_script(c) == "LATIN" for c in name)
    for word in words:
        scripts = {_script(c) for c in word} - {""}
        if len(scripts) > 1:
            # Point at the letter that is not Latin, the one a reader would not expect.
            main = "LATIN" if "LATIN" in scripts else _script(next(c for c in word if _script(c)))
            odd = next(c for c in word if _script(c) not in ("", main))
            mixed = " and ".join(s.title() for s in sorted(scripts, key=lambda s: s != main))
            raise TextError(
                f"{what} mixes {mixed} letters in {word!r} ({_code(odd)}); retype it in one alphabet"
            )
        # A whole Cyrillic or Greek word drawn only with Latin lookalikes, inside a Latin
        # name ("Fonds СОС"), passes for Latin just as well.
        if has_latin and scripts and scripts != {"LATIN"}:
            base = unicodedata.normalize("NFD", word)
            letters = [c for c in base if not unicodedata.category(c).startswith("M")]
            if all(c in _LOOKALIKES for c in letters):
                raise TextError(
                    f"{what} has {word!r} written in {scripts.pop().title()} letters that look "
                    f"Latin ({_code(letters[0])}); retype it in Latin letters"
                )


def _clean(text: str, what: str, max_length: int, allow_empty: bool) -> str:
    cleaned = _normalize(text)
    _check_characters(cleaned, what)
    if not cleaned:
        if allow_empty:
            return cleaned
        raise TextError(f"{what} is empty")
    if len(cleaned) > max_length:
        raise TextError(f"{what} is too long ({len(cleaned)} characters; at most {max_length})")
    return cleaned


def clean_name(text: str, *, what: str = "name", max_length: int = 200) -> str:
    """The name as fisiq stores it (NFC, whitespace collapsed), or TextError saying why not.

    Refuses empty or overlong names, control and invisible characters, and words mixing
    Latin with Cyrillic or Greek letters. `what` names the field in messages.
    """
    cleaned = _clean(text, what, max_length, allow_empty=False)
    _check_scripts(cleaned, what)
    return cleaned


def clean_text(text: str, *, what: str = "memo", max_length: int = 500, allow_empty: bool = False) -> str:
    """Free text (memo, reason, reference) cleaned like a name, but any mix of alphabets is
    allowed since a memo may quote several languages. Empty only with `allow_empty=True`."""
    return _clean(text, what, max_length, allow_empty)


def name_key(name: str) -> str:
    """The uniqueness key of a name: NFC, case folded, whitespace collapsed; accents kept."""
    # casefold may decompose (e.g. "ǰ"), so normalize again after it.
    return unicodedata.normalize("NFC", _normalize(name).casefold())


def sort_key(name: str) -> tuple[str, str]:
    """Where `name` goes in a list, the same on every engine: as a French reader expects,
    accents and case aside first ("Éco-Village" among the E, not after Z), then as written."""
    base = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return base.translate(_LIGATURES).casefold(), name


# Letters French sorts as two, which Unicode does not decompose ("Œuvre" among the "Oe").
_LIGATURES = str.maketrans({"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae"})


def skeleton(name: str) -> str:
    """What a name looks like: Cyrillic/Greek lookalikes, fullwidth and styled letters and
    typographic quotes and dashes mapped to plain Latin/ASCII, then case folded.

    Two names with the same skeleton but different `name_key` look alike on screen.
    """
    text = _normalize(name)
    # Case folding and NFKC can yield a new lookalike (U+0345 folds to Greek "ι"), so
    # repeat until nothing changes; in practice one or two passes.
    for _ in range(8):
        shape = _skeleton_pass(text)
        if shape == text:
            break
        text = shape
    return text


def _skeleton_pass(text: str) -> str:
    # Invisible characters do not change how a name looks.
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    # NFKC turns fullwidth "Ｏｘｆａｍ", mathematical "𝐎" and ligatures "ﬁ" into plain letters.
    text = unicodedata.normalize("NFKC", text)
    # Decompose so accented lookalikes (Cyrillic "ё") map by their base letter.
    text = unicodedata.normalize("NFD", text).translate(_SKELETON_TABLE)
    return unicodedata.normalize("NFC", _normalize(text).casefold())


def lookalike_of(name: str, existing: Iterable[str]) -> str | None:
    """The existing name that `name` imitates (same skeleton, different key), or None.

    A name equal to an existing one by `name_key` is a plain duplicate, not a lookalike:
    it returns None here and the caller's uniqueness check refuses it.
    """
    key = name_key(name)
    shape = skeleton(name)
    for other in existing:
        if skeleton(other) == shape and name_key(other) != key:
            return other
    return None
