"""The commitment rules, pure: stages, refusals, entries per event, the fold, invariant 5.

A Hypothesis state machine walks the lifecycle (add, agree, sign, pay, cancel, reverse a
payment) on the rules and on a tiny independent model, and at every step also tries the
moves the rules must refuse.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from fisiq import accounts as chart
from fisiq import commitments as rules
from fisiq.commitments import CommitmentError, Event, Figures
from fisiq.entries import imbalances, validate_entry

D0 = date(2018, 3, 31)
C = Decimal


def e(kind: str, amount: str | None = None, day: date = D0, entry_id: int | None = None, reason: str | None = None) -> Event:
    return Event(kind, day, None if amount is None else C(amount), entry_id, reason)


def run(*events: Event) -> rules.State:
    state = None
    for event in events:
        event = rules.complete(state, event)
        rules.check(state, event)
        state = rules.step(state, event)
    assert state is not None
    return state


def test_lifecycle_to_paid_in_two_payments() -> None:
    s = run(e("prospect", "1000.00"), e("in-principle"), e("signed"), e("payment", "400.00"), e("payment", "600.00"))
    assert (s.stage, s.signed, s.paid, s.rest) == ("paid", C("1000.00"), C("1000.00"), C("0.00"))
    assert s.holds()


def test_signing_defaults_to_the_pledge_and_can_change_it() -> None:
    assert run(e("in-principle", "4000000.00"), e("signed")).signed == C("4000000.00")
    assert run(e("in-principle", "4000000.00"), e("signed", "3500000.00")).signed == C("3500000.00")


@pytest.mark.parametrize(
    ("events", "move", "fragment"),
    [
        ([e("prospect", "10")], e("payment", "1"), "only a prospect"),
        ([e("in-principle", "10")], e("payment", "1"), "only agreed in principle"),
        ([e("signed", "10")], e("signed"), "already signed"),
        ([e("signed", "10")], e("payment", "11"), "more than the signed, unpaid rest"),
        ([e("signed", "10"), e("payment", "10")], e("payment", "1"), "fully paid"),
        ([e("signed", "10", day=D0)], e("payment", "1", day=D0 - timedelta(days=1)), "before commitment 1 was signed"),
        ([e("signed", "10"), e("payment", "10")], e("cancelled", reason="x"), "reverse its entry first"),
        ([e("prospect", "10"), e("cancelled", reason="x")], e("signed"), "was cancelled"),
        ([e("prospect", "10")], e("cancelled", reason=""), "needs a reason"),
        ([e("signed", "10")], e("in-principle"), "cannot go back"),
        ([e("in-principle", "10")], e("in-principle"), "already agreed"),
        ([e("prospect", "10")], e("signed", "0"), "more than zero"),
        ([e("prospect", "10", day=D0)], e("signed", day=D0 - timedelta(days=3)), "date order"),
    ],
)
def test_refused_moves(events: list[Event], move: Event, fragment: str) -> None:
    state = run(*events)
    with pytest.raises(CommitmentError, match=fragment):
        rules.check(state, rules.complete(state, move), "commitment 1")


def test_a_new_commitment_starts_at_an_initial_stage_with_an_amount() -> None:
    with pytest.raises(CommitmentError, match="starts as"):
        rules.check(None, e("payment", "1"))
    with pytest.raises(CommitmentError, match="needs an amount"):
        rules.check(None, e("signed"))
    with pytest.raises(CommitmentError, match="more than zero"):
        rules.check(None, e("prospect", "-5"))


def test_each_event_posts_the_entries_of_design_md() -> None:
    def legs(event: Event, instrument: str = "equity") -> dict[tuple[str, str | None], Decimal]:
        (draft,) = rules.drafts_for(event, commitment_id=7, party="MRIF", instrument=instrument)
        validate_entry(draft, [a.name for a in chart.STANDARD_CHART])
        assert not imbalances(draft.postings) and draft.link == "commitment:7"
        return {(p.account, p.party): p.amount for p in draft.postings}

    assert legs(e("signed", "100.00")) == {
        (chart.COMMITMENTS_RECEIVABLE, "MRIF"): C("100.00"), (chart.COMMITMENTS_SUBSCRIBED, "MRIF"): C("-100.00")}
    for instrument, account in rules.INSTRUMENTS.items():
        assert legs(e("payment", "40.00"), instrument) == {
            (chart.CASH, None): C("40.00"), (chart.COMMITMENTS_SUBSCRIBED, "MRIF"): C("40.00"),
            (chart.COMMITMENTS_RECEIVABLE, "MRIF"): C("-40.00"), (account, "MRIF"): C("-40.00")}
    assert legs(e("cancelled", "60.00", reason="x")) == {
        (chart.COMMITMENTS_SUBSCRIBED, "MRIF"): C("60.00"), (chart.COMMITMENTS_RECEIVABLE, "MRIF"): C("-60.00")}
    assert rules.drafts_for(e("prospect", "5"), commitment_id=1, party="x", instrument="equity") == ()
    assert rules.drafts_for(e("cancelled", None, reason="x"), commitment_id=1, party="x", instrument="equity") == ()


def test_fold_skips_events_whose_entry_was_reversed() -> None:
    events = [e("signed", "100.00", entry_id=1), e("payment", "100.00", entry_id=2)]
    assert rules.fold(events).stage == "paid"  # type: ignore[union-attr]
    after = rules.fold(events, {2})
    assert after is not None and after.stage == "signed" and after.rest == C("100.00")
    cancel = rules.complete(after, e("cancelled", reason="board"))
    rules.check(after, cancel)
    assert cancel.amount == C("100.00")


def test_categories_and_progress_figures() -> None:
    assert rules.category_of("foundation") == rules.category_of("investor") == "other"
    with pytest.raises(CommitmentError, match="borrower makes no commitments"):
        rules.category_of("borrower")
    people = [
        Figures("A", "member", paid=C("100.00"), signed_unpaid=C("365000.00")),
        Figures("B", "member", prospect=C("5.00")),
        Figures("MRIF", "government", paid=C("75000.00")),
    ]
    p = rules.progress(people, {"member": C("1000000.00")})
    member = p.categories[0]
    assert (member.signed, member.share_signed, member.share_paid, member.gap) == (
        C("365100.00"), C("36.5"), C("0.0"), C("634900.00"))
    assert p.categories[2].target is None and p.categories[2].share_paid is None
    assert p.total.signed == C("440100.00") and p.total.target is None
    doc = rules.progress_json(p, D0)
    assert [c["category"] for c in doc["categories"]] == ["member", "labour-fund", "government", "other"]  # type: ignore[index]
    keys = {"category", "target", "paid", "signed", "in_principle", "prospect"}
    assert all(keys <= set(c) for c in doc["categories"])  # type: ignore[attr-defined]


amounts = st.integers(min_value=1, max_value=10_000_000).map(lambda n: C(n).scaleb(-2))
gaps = st.integers(min_value=0, max_value=40).map(lambda n: timedelta(days=n))


class Lifecycle(RuleBasedStateMachine):
    """One commitment, driven by the rules and by a dict model kept beside them."""

    @initialize(stage=st.sampled_from(rules.INITIAL_STAGES), amount=amounts)
    def start(self, stage: str, amount: Decimal) -> None:
        self.day = D0
        self.next_entry = 1
        self.events: list[Event] = []
        self.reversed: set[int] = set()
        self.model = {"stage": stage, "pledged": amount, "signed": C(0), "paid": C(0), "cancelled": C(0)}
        self._do(Event(stage, self.day, amount))
        if stage == "signed":
            self.model["signed"] = amount

    @property
    def state(self) -> rules.State:
        s = rules.fold(self.events, self.reversed)
        assert s is not None
        return s

    def _do(self, event: Event) -> Event:
        state = rules.fold(self.events, self.reversed)
        event = rules.complete(state, event)
        rules.check(state, event, "commitment 1")
        if rules.drafts_for(event, commitment_id=1, party="P", instrument="equity"):
            event = Event(event.kind, event.date, event.amount, self.next_entry, event.reason)
            self.next_entry += 1
        self.events.append(event)
        return event

    def _refused(self, event: Event) -> None:
        before = self.state
        with pytest.raises(CommitmentError):
            rules.check(before, rules.complete(before, event), "commitment 1")
        assert self.state == before

    def _later(self, gap: timedelta) -> date:
        self.day += gap
        return self.day

    @rule(gap=gaps)
    def agree(self, gap: timedelta) -> None:
        if self.model["stage"] == "prospect":
            self._do(Event("in-principle", self._later(gap)))
            self.model["stage"] = "in-principle"
        else:
            self._refused(Event("in-principle", self._later(gap)))

    @rule(gap=gaps, amount=st.none() | amounts)
    def sign(self, gap: timedelta, amount: Decimal | None) -> None:
        event = Event("signed", self._later(gap), amount)
        if self.model["stage"] in ("prospect", "in-principle"):
            self._do(event)
            self.model["signed"] = amount if amount is not None else self.model["pledged"]
            self.model["stage"] = "signed"
        else:
            self._refused(event)

    @rule(gap=gaps, data=st.data())
    def pay(self, gap: timedelta, data: st.DataObject) -> None:
        rest = self.model["signed"] - self.model["paid"] - self.model["cancelled"]
        day = self._later(gap)
        if self.model["stage"] == "signed" and rest > 0:
            amount = data.draw(st.integers(1, int(rest * 100)).map(lambda n: C(n).scaleb(-2)))
            self._do(Event("payment", day, amount))
            self.model["paid"] += amount
            if self.model["paid"] == self.model["signed"]:
                self.model["stage"] = "paid"
            # Paying more than the rest is refused, whatever the stage.
        self._refused(Event("payment", day, rest + C("0.01")))

    @rule(gap=gaps)
    def cancel(self, gap: timedelta) -> None:
        event = Event("cancelled", self._later(gap), reason="board decision")
        if self.model["stage"] in ("prospect", "in-principle", "signed"):
            self._do(event)
            if self.model["signed"]:
                self.model["cancelled"] = self.model["signed"] - self.model["paid"]
            self.model["stage"] = "cancelled"
        else:
            self._refused(event)

    @precondition(lambda self: any(ev.kind == "payment" and ev.entry_id not in self.reversed for ev in self.events))
    @rule(data=st.data())
    def reverse_a_payment(self, data: st.DataObject) -> None:
        if self.model["stage"] == "cancelled":
            return  # a cancelled commitment's payments stay; the machine keeps it simple
        payments = [ev for ev in self.events if ev.kind == "payment" and ev.entry_id not in self.reversed]
        chosen = data.draw(st.sampled_from(payments))
        assert chosen.entry_id is not None
        self.reversed.add(chosen.entry_id)
        self.model["paid"] -= chosen.amount or 0
        self.model["stage"] = "signed"

    @rule()
    def refused_always(self) -> None:
        self._refused(Event("prospect", self.day, C(1)))
        self._refused(Event("payment", self.day, C("-1.00")))
        if self.events:
            last = self.state.last_date
            assert last is not None
            self._refused(Event("signed", last - timedelta(days=1), C(1))
                          if self.model["stage"] in ("prospect", "in-principle") else Event("signed", self.day, C(1)))

    @invariant()
    def agrees_with_the_model(self) -> None:
        if not hasattr(self, "model"):
            return
        s = self.state
        assert s.stage == self.model["stage"]
        assert (s.signed, s.paid, s.cancelled) == (self.model["signed"], self.model["paid"], self.model["cancelled"])

    @invariant()
    def invariant_5(self) -> None:
        if hasattr(self, "model"):
            s = self.state
            assert C(0) <= s.paid <= s.signed - s.cancelled
            assert s.holds()


TestLifecycle = Lifecycle.TestCase
# Fewer, longer runs than the profile (3/4 of its examples), scaling with HYPOTHESIS_PROFILE.
TestLifecycle.settings = settings(max_examples=max(1, settings.default.max_examples * 3 // 4), stateful_step_count=20,
                                  deadline=None)
