"""Names and free text: what is accepted, what is refused and why, and lookalike detection."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fisiq.names import TextError, clean_name, clean_text, lookalike_of, name_key, skeleton

# Real member names as the AQOCI 2017-2018 report prints them, chosen for their accents,
# ligatures and punctuation (the full list is checked in test_members_data.py).
ACCEPTED = [
    "Oxfam-Québec",
    "Fonds de solidarité FTQ",
    "Centre d'étude et de coopération internationale (CECI)",
    "Centre d'étude et de coopération internationale",
    "Développement et Paix – Caritas Canada",
    "L'ŒUVRE LÉGER",
    "L’ŒUVRE LÉGER",
    "Action Haïti-Montérégie",
    "Comité de Solidarité/Trois-Rivières",
    "Comité régional d'éducation pour le développement international de Lanaudière",
    "Développement, expertise et solidarité internationale",
    "Centre Amitié de Solidarité Internationale de la Région de l'Amiante Inc.",
    "SUCO (Solidarité - Union - Coopération)",
    "Connexion justice sociale/Social Justice Connection",
    "Association internationale pour le partenariat entreprises ONG-AIPEO/Section Canada",
    "Desarrollo – La réadaptation pour le développement",
    "Infirmières et Infirmiers Sans Frontières",
    "Équitas",
    "Equitas",
    "UPA Développement international",
    "Ben & Jerry's",
    "Fundação Açores",
    "Ελλάδα Solidarité",  # a real Greek word next to Latin ones is not a disguise
]

# (input, words the message must contain)
REFUSED = [
    ("", "is empty"),
    ("   \t ", "is empty"),
    ("x" * 10_000, "too long (10000 characters; at most 200)"),
    ("Oxfam\x00", "NUL character (U+0000)"),
    ("\x1b[31mOxfam", "escape character (U+001B)"),
    ("Oxfam\x07", "control character (U+0007)"),
    ("Oxfam\x85", "control character (U+0085)"),
    ("Oxfam \u202emaerc", "right-to-left override (U+202E); remove it"),
    ("Oxfam\u2067x", "right-to-left isolate (U+2067)"),
    ("Oxfam\u200f", "right-to-left mark (U+200F)"),
    ("Ox\u200bfam", "zero-width space (U+200B)"),
    ("Ox\u200dfam", "zero-width joiner (U+200D)"),
    ("\ufeffOxfam", "byte order mark (U+FEFF)"),
    ("Ox\u00adfam", "soft hyphen (U+00AD)"),
    ("Ox\u2060fam", "word joiner (U+2060)"),
    ("Oxfam\ue000", "private-use character (U+E000)"),
    ("Oxfam\U0010fffd", "private-use character (U+10FFFD)"),
    ("Oxfam\u0378", "unassigned character (U+0378)"),
    ("Oxfam\ud800", "lone surrogate (U+D800)"),
    ("Oxf\u0430m", "mixes Latin and Cyrillic letters in 'Oxfаm' (U+0430 CYRILLIC SMALL LETTER A)"),
    ("\u041exfam-Québec", "U+041E CYRILLIC CAPITAL LETTER O"),
    ("Equit\u03b1s", "mixes Latin and Greek letters"),
    ("Fonds \u0421\u041e\u0421", "written in Cyrillic letters that look Latin"),
    ("\uff2f\uff58\uff46\uff41\uff4d", "styled letter 'Ｏ' (U+FF2F FULLWIDTH LATIN CAPITAL LETTER O)"),
    ("\U0001d40exfam", "MATHEMATICAL BOLD CAPITAL O"),
    ("Con\ufb01ance", "type the ordinary 'fi'"),
    ("\u0301Oxfam", "accent with no letter under it (U+0301"),
    ("O" + "\u0301" * 6 + "xfam", "too many accents stacked"),
]


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_names_come_back_unchanged(name: str) -> None:
    assert clean_name(name) == name


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_refused_names_say_why(text: str, message: str) -> None:
    with pytest.raises(TextError) as caught:
        clean_name(text)
    text_of_error = str(caught.value)
    assert message in text_of_error
    assert "\n" not in text_of_error
    assert text_of_error.startswith("name ")


def test_whitespace_is_collapsed_and_nfc_applied() -> None:
    assert clean_name("  Oxfam-\u00a0  Que\u0301bec\t\n") == "Oxfam- Québec"
    assert clean_name("Mer\u3000et\u2028Monde") == "Mer et Monde"


def test_what_and_max_length_appear_in_messages() -> None:
    with pytest.raises(TextError, match=r"^borrower is too long \(11 characters; at most 10\)$"):
        clean_name("Oxfam  Qc 21", what="borrower", max_length=10)
    # Length is counted after whitespace is collapsed.
    assert clean_name(" Oxfam    Qc ", max_length=8) == "Oxfam Qc"


def test_clean_text_allows_mixed_alphabets_but_not_invisible_characters() -> None:
    memo = "Versement reçu de Oxfam; réf. Москва / Αθήνα / 東京"
    assert clean_text(memo) == memo
    assert clean_text("Oxf\u0430m reference") == "Oxf\u0430m reference"
    with pytest.raises(TextError, match=r"^memo has a right-to-left override \(U\+202E\); remove it$"):
        clean_text("paid \u202eevil")
    with pytest.raises(TextError, match=r"^reason has an escape character"):
        clean_text("\x1b]0;pwned\x07", what="reason")


def test_clean_text_empty_only_when_allowed() -> None:
    with pytest.raises(TextError, match=r"^memo is empty$"):
        clean_text("  ")
    assert clean_text("  ", allow_empty=True) == ""
    with pytest.raises(TextError, match="too long"):
        clean_text("a" * 501)
    assert len(clean_text("a" * 500)) == 500


def test_name_key_folds_case_and_space_but_keeps_accents() -> None:
    assert name_key("  OXFAM-québec ") == name_key("Oxfam-Québec")
    assert name_key("Oxfam-Que\u0301bec") == name_key("Oxfam-Québec")
    assert name_key("Mer  et\tMonde") == name_key("mer et monde")
    assert name_key("Équitas") != name_key("Equitas")
    assert name_key("L'ŒUVRE LÉGER") == "l'œuvre léger"


def test_skeleton_maps_lookalikes_to_latin() -> None:
    assert skeleton("Oxf\u0430m") == skeleton("Oxfam") == "oxfam"
    assert skeleton("\u041e\u0425FAM") == "oxfam"
    assert skeleton("\uff2f\uff58\uff46\uff41\uff4d") == "oxfam"
    assert skeleton("\u0395quit\u03b1s") == "equitas"
    assert skeleton("Paix – Caritas") == skeleton("Paix - Caritas")
    assert skeleton("L’ŒUVRE") == skeleton("L'ŒUVRE")
    assert skeleton("Équitas") != skeleton("Equitas")  # accents are not a disguise


def test_lookalike_of_finds_the_imitated_name() -> None:
    existing = ["Oxfam-Québec", "Équitas", "L'ŒUVRE LÉGER"]
    assert lookalike_of("Oxf\u0430m-Québec", existing) == "Oxfam-Québec"
    assert lookalike_of("\u041exfam-Qu\u0435\u0301bec", existing) == "Oxfam-Québec"
    assert lookalike_of("L’ŒUVRE LÉGER", existing) == "L'ŒUVRE LÉGER"
    # A plain duplicate is for the uniqueness check, not a lookalike.
    assert lookalike_of("oxfam-québec", existing) is None
    assert lookalike_of("Equitas", existing) is None
    assert lookalike_of("Inter Pares", existing) is None
    assert lookalike_of("Oxfam", []) is None


# Characters that stress the rules, mixed in with arbitrary text.
_TRICKY = st.sampled_from(
    list(" \t\n\r\x00\x1b\x85\u00a0\u00ad\u0301\u0308\u200b\u200d\u202e\u2066\ufeff\u3000")
    + list("aeoOxÉéŒ'’–-.()&/")
    + list("\u0430\u0435\u043e\u0391\u03bf\uff2f\ufb01")
)
_TEXT = st.text() | st.text(alphabet=_TRICKY) | st.lists(st.text(max_size=5) | _TRICKY).map("".join)


@settings(deadline=None)
@given(_TEXT)
def test_clean_name_refuses_or_returns_a_fixed_point(text: str) -> None:
    try:
        cleaned = clean_name(text)
    except TextError as error:
        assert "\n" not in str(error)
        return
    assert clean_name(cleaned) == cleaned
    assert cleaned == cleaned.strip() and cleaned
    assert "  " not in cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in cleaned)


@settings(deadline=None)
@given(_TEXT)
def test_clean_text_refuses_or_returns_a_fixed_point(text: str) -> None:
    try:
        cleaned = clean_text(text, allow_empty=True)
    except TextError:
        return
    assert clean_text(cleaned, allow_empty=True) == cleaned
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in cleaned)


@settings(deadline=None)
@given(_TEXT)
@example("\u0345")  # folds to Greek iota, itself a lookalike of "i"
def test_key_and_skeleton_are_stable(text: str) -> None:
    assert name_key(name_key(text)) == name_key(text)
    assert skeleton(skeleton(text)) == skeleton(text)
