"""The reports' two languages say the same things.

A word missing from one language is a KeyError for every reader of that language, and a
placeholder missing from a translation drops a figure from the report without a word.
"""

from __future__ import annotations

import string

import pytest

from fisiq import render, render_board, render_campaign, render_loans

BILINGUAL = {
    "render.WORDS": render.WORDS,
    "render_board.LABELS": render_board.LABELS,
    "render_campaign.LABELS": render_campaign.LABELS,
    "render_campaign.SHOW_WORDS": render_campaign.SHOW_WORDS,
    "render_loans.LABELS": render_loans.LABELS,
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("name", sorted(BILINGUAL))
def test_both_languages_have_every_word_with_the_same_placeholders(name: str) -> None:
    words = BILINGUAL[name]
    assert set(words) == {"en", "fr"}
    assert set(words["en"]) == set(words["fr"]), set(words["en"]) ^ set(words["fr"])
    differ = {key: (words["en"][key], words["fr"][key]) for key in words["en"]
              if placeholders(words["en"][key]) != placeholders(words["fr"][key])}
    assert not differ, differ


def test_every_value_fisiq_stores_has_its_french_word() -> None:
    from fisiq import commitments, loans_db, schedule

    assert set(loans_db.STATUSES) <= set(render_loans.STATUS_FR)
    assert set(loans_db.LOAN_EVENT_KINDS) <= set(render_loans.EVENT_FR)
    assert set(schedule.METHODS) <= set(render_loans.METHOD_FR)
    assert set(schedule.FREQUENCIES) <= set(render_loans.FREQUENCY_FR)
    assert set(commitments.EVENT_KINDS) <= set(render_campaign.EVENTS_FR)
    assert {*commitments.STAGES, commitments.VOID} <= set(render_campaign.VALUES_FR)
    assert set(commitments.INSTRUMENTS) <= set(render_campaign.VALUES_FR)
    assert set(commitments.CATEGORIES) <= set(render_campaign.VALUES_FR)
