"""The capital campaign's rules: commitments from prospect to paid, and progress figures.

Pure data and functions: no database, no terminal. A commitment is a party's pledge of
capital in one instrument. It moves through stages:

    prospect (hoped for) -> in-principle (agreed in principle) -> signed -> paid
                                        \\-> cancelled (with a reason)

Prospects and in-principle pledges live in the pipeline only. Signing, each payment and the
cancellation of a signed, unpaid rest post the entries of DESIGN.md (`drafts_for`). What
happened to a commitment is a list of events; its state is their fold (`fold`), skipping
events whose entry was reversed, so the state always agrees with the ledger.

Invariant 5 (DESIGN.md): per commitment, 0 <= paid <= signed - cancelled.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from fisiq import accounts as chart
from fisiq.entries import EntryDraft, Posting
from fisiq.errors import FisiqError
from fisiq.money import DEFAULT_CURRENCY

PROSPECT = "prospect"
IN_PRINCIPLE = "in-principle"
SIGNED = "signed"
PAID = "paid"
CANCELLED = "cancelled"
STAGES = (PROSPECT, IN_PRINCIPLE, SIGNED, PAID, CANCELLED)
# Not a stage one records: a commitment whose every entry was reversed (`fisiq entry reverse`).
VOID = "void"
INITIAL_STAGES = (PROSPECT, IN_PRINCIPLE, SIGNED)

# Event kinds as stored in commitment_event.kind.
PAYMENT = "payment"
EVENT_KINDS = (PROSPECT, IN_PRINCIPLE, SIGNED, PAYMENT, CANCELLED)

INSTRUMENTS: dict[str, str] = {
    "equity": chart.PAID_IN_CAPITAL,
    "debt": chart.INVESTOR_LOANS,
    "grant": chart.CONTRIBUTIONS,
}
DEFAULT_INSTRUMENT = "equity"

CATEGORIES = ("member", "labour-fund", "government", "other")
TOTAL = "total"
TARGET_CATEGORIES = (*CATEGORIES, TOTAL)
# Party kind -> investor category. Borrowers make no commitments.
KIND_CATEGORY: dict[str, str] = {
    "member": "member",
    "labour-fund": "labour-fund",
    "government": "government",
    "foundation": "other",
    "investor": "other",
}

ENTRY_KINDS = {SIGNED: "commitment-signed", PAYMENT: "commitment-payment", CANCELLED: "commitment-cancelled"}
CURRENCY = DEFAULT_CURRENCY  # the campaign is counted in CAD


class CommitmentError(FisiqError):
    """A move the commitment rules refuse; the message says why and what to do instead.

    `column` names the field at fault (amount, date, ...), for errors reported per CSV cell.
    """

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


def check_stage(text: str, allowed: Sequence[str] = STAGES) -> str:
    value = text.strip().lower()
    if value not in allowed:
        raise CommitmentError(f"unknown stage {text!r}; use {'|'.join(allowed)}")
    return value


def check_instrument(text: str) -> str:
    value = text.strip().lower()
    if value not in INSTRUMENTS:
        raise CommitmentError(f"unknown instrument {text!r}; use {'|'.join(INSTRUMENTS)}")
    return value


def check_category(text: str) -> str:
    value = text.strip().lower()
    if value not in TARGET_CATEGORIES:
        raise CommitmentError(f"unknown category {text!r}; use {'|'.join(TARGET_CATEGORIES)}")
    return value


def category_of(party_kind: str) -> str:
    """The investor category of a party kind; a borrower is refused."""
    if party_kind not in KIND_CATEGORY:
        raise CommitmentError(f"a {party_kind} makes no commitments; commitments come from investors")
    return KIND_CATEGORY[party_kind]


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to a commitment. `amount` is None where none applies."""

    kind: str
    date: date
    amount: Decimal | None = None
    entry_id: int | None = None
    reason: str | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class State:
    """A commitment folded from its events (events whose entry was reversed are skipped)."""

    stage: str
    pledged: Decimal  # the amount hoped for, agreed or signed: what the pipeline counts
    signed: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")
    cancelled: Decimal = Decimal("0.00")  # the signed, unpaid rest that was cancelled
    first_date: date | None = None
    last_date: date | None = None
    signed_on: date | None = None
    cancelled_on: date | None = None
    reason: str | None = None

    @property
    def rest(self) -> Decimal:
        """Signed and not yet paid nor cancelled: what a payment may still bring."""
        return self.signed - self.paid - self.cancelled

    def holds(self) -> bool:
        """Invariant 5: 0 <= paid <= signed - cancelled (and nothing negative)."""
        return Decimal(0) <= self.paid <= self.signed - self.cancelled and self.cancelled >= 0


def step(state: State | None, event: Event) -> State:
    """The state after one event, without checks (see `check` for the rules)."""
    amount = event.amount if event.amount is not None else Decimal("0.00")
    if state is None:
        state = State(stage=PROSPECT, pledged=amount, first_date=event.date)
    state = replace(state, last_date=event.date)
    if event.kind == PROSPECT:
        return replace(state, stage=PROSPECT, pledged=amount)
    if event.kind == IN_PRINCIPLE:
        return replace(state, stage=IN_PRINCIPLE, pledged=amount or state.pledged)
    if event.kind == SIGNED:
        return _paid_stage(replace(state, pledged=amount, signed=amount, signed_on=event.date))
    if event.kind == PAYMENT:
        return _paid_stage(replace(state, paid=state.paid + amount))
    if event.kind == CANCELLED:
        return replace(state, stage=CANCELLED, cancelled=state.cancelled + amount, cancelled_on=event.date,
                       reason=event.reason)
    raise CommitmentError(f"unknown commitment event {event.kind!r}")


def _paid_stage(state: State) -> State:
    if state.stage == CANCELLED:
        return state
    return replace(state, stage=PAID if state.signed > 0 and state.paid >= state.signed else SIGNED)


def fold(events: Iterable[Event], reversed_entries: Collection[int] = ()) -> State | None:
    """A commitment's state from its events in order; None when it has none.

    An event whose entry was reversed counts as not having happened: the ledger is the
    truth, and this keeps the pipeline and the balances in agreement.
    """
    state: State | None = None
    for event in events:
        if event.entry_id is not None and event.entry_id in reversed_entries:
            continue
        state = step(state, event)
    return state


def complete(state: State | None, event: Event) -> Event:
    """Fill in what the event leaves implicit: a signing's amount (the pledge), a
    cancellation's amount (the signed, unpaid rest it releases)."""
    if state is None:
        return event
    if event.kind in (SIGNED, IN_PRINCIPLE) and event.amount is None:
        return replace(event, amount=state.pledged)
    if event.kind == CANCELLED:
        rest = state.rest if state.signed > 0 else None
        return replace(event, amount=rest if rest else None)
    return event


def _money(amount: Decimal) -> str:
    from fisiq.money import to_str

    return to_str(amount, CURRENCY)


def check(state: State | None, event: Event, label: str = "the commitment") -> None:
    """Raise CommitmentError unless `event` may happen to a commitment in `state`.

    `event` is as `complete` returns it. `label` names the commitment in messages.
    """
    if event.amount is not None and event.amount <= 0 and event.kind != CANCELLED:
        raise CommitmentError(f"the amount must be more than zero, not {_money(event.amount)}", "amount")
    if state is None:
        if event.kind not in INITIAL_STAGES:
            raise CommitmentError(f"a new commitment starts as {'|'.join(INITIAL_STAGES)}, not {event.kind}")
        if event.amount is None:
            raise CommitmentError("a new commitment needs an amount", "amount")
        return
    if event.kind == PROSPECT:
        raise CommitmentError(f"{label} is already recorded ({state.stage})")
    if state.stage == CANCELLED:
        raise CommitmentError(f"{label} was cancelled on {state.cancelled_on}; nothing more can happen to it")
    if state.last_date is not None and event.date < state.last_date:
        if event.kind == PAYMENT and state.signed_on is not None and event.date < state.signed_on:
            raise CommitmentError(
                f"a payment dated {event.date} is before {label} was signed ({state.signed_on})", "date"
            )
        raise CommitmentError(
            f"{event.date} is before the last event of {label} ({state.last_date}); record its events in date order", "date"
        )
    if event.kind == IN_PRINCIPLE:
        if state.stage == IN_PRINCIPLE:
            raise CommitmentError(f"{label} is already agreed in principle")
        if state.stage != PROSPECT:
            raise CommitmentError(f"{label} is already {state.stage}; it cannot go back to in principle")
    elif event.kind == SIGNED:
        if state.stage in (SIGNED, PAID):
            raise CommitmentError(f"{label} is already signed (on {state.signed_on}); a commitment is signed once")
    elif event.kind == PAYMENT:
        if state.stage == PROSPECT:
            raise CommitmentError(f"{label} is only a prospect; sign it before recording a payment")
        if state.stage == IN_PRINCIPLE:
            raise CommitmentError(f"{label} is only agreed in principle; sign it before recording a payment")
        assert event.amount is not None
        if state.stage == PAID:
            raise CommitmentError(f"{label} is fully paid ({_money(state.paid)}); nothing is left to pay")
        if event.amount > state.rest:
            raise CommitmentError(
                f"a payment of {_money(event.amount)} is more than the signed, unpaid rest of {label} "
                f"({_money(state.rest)})", "amount"
            )
    elif event.kind == CANCELLED:
        if not (event.reason and event.reason.strip()):
            raise CommitmentError("a cancellation needs a reason", "reason")
        if state.stage == PAID:
            raise CommitmentError(
                f"{label} is fully paid; nothing is left to cancel. To undo a payment, reverse its entry "
                "first (`fisiq entry reverse N`)"
            )
    else:
        raise CommitmentError(f"unknown commitment event {event.kind!r}")


def drafts_for(
    event: Event, *, commitment_id: int, party: str, instrument: str, memo_party: str | None = None
) -> tuple[EntryDraft, ...]:
    """The entries an event posts (DESIGN.md, "Events and their entries"); none for the pipeline.

    `party` is the party's recorded name (postings name it); `event` is completed.
    """
    if event.kind not in ENTRY_KINDS or not event.amount:
        return ()
    amount, cur = event.amount, CURRENCY
    who = memo_party or party
    postings: tuple[Posting, ...]
    receivable, subscribed = chart.COMMITMENTS_RECEIVABLE, chart.COMMITMENTS_SUBSCRIBED
    if event.kind == SIGNED:
        memo = f"Commitment {commitment_id} signed ({instrument}): {who}"
        postings = (Posting(receivable, amount, cur, party), Posting(subscribed, -amount, cur, party))
    elif event.kind == PAYMENT:
        memo = f"Commitment {commitment_id} payment ({instrument}): {who}"
        postings = (
            Posting(chart.CASH, amount, cur, None),
            Posting(subscribed, amount, cur, party),
            Posting(receivable, -amount, cur, party),
            Posting(INSTRUMENTS[instrument], -amount, cur, party),
        )
    else:
        memo = f"Commitment {commitment_id} cancelled, unpaid rest released: {who}"
        postings = (Posting(subscribed, amount, cur, party), Posting(receivable, -amount, cur, party))
    return (EntryDraft(event.date, memo[:500], postings, kind=ENTRY_KINDS[event.kind], ref=event.ref,
                       link=link_of(commitment_id)),)


def link_of(commitment_id: int) -> str:
    return f"commitment:{commitment_id}"


def balances_by_events(state: State | None, instrument: str) -> dict[str, Decimal]:
    """What the entries of a commitment must sum to per account, given its events (`fisiq
    audit verify`): the signed, unpaid rest receivable (and subscribed, contra), the paid
    amount credited to its instrument's account. A commitment with no event that counts
    (every entry reversed) owes nothing."""
    zero = Decimal("0.00")
    rest, paid = (state.rest, state.paid) if state is not None else (zero, zero)
    return {chart.COMMITMENTS_RECEIVABLE: rest, chart.COMMITMENTS_SUBSCRIBED: -rest, INSTRUMENTS[instrument]: -paid}


# --- progress ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """Campaign figures of one investor, one category or the whole fund (CAD).

    `paid` and `signed_unpaid` come from ledger balances; `in_principle` and `prospect`
    from the pipeline. `signed` is everything signed and not cancelled, paid or not.
    """

    label: str
    category: str
    target: Decimal | None = None
    paid: Decimal = Decimal("0.00")
    signed_unpaid: Decimal = Decimal("0.00")
    in_principle: Decimal = Decimal("0.00")
    prospect: Decimal = Decimal("0.00")
    party_id: int | None = None

    @property
    def signed(self) -> Decimal:
        return self.paid + self.signed_unpaid

    @property
    def share_paid(self) -> Decimal | None:
        return _share(self.paid, self.target)

    @property
    def share_signed(self) -> Decimal | None:
        return _share(self.signed, self.target)

    @property
    def gap(self) -> Decimal | None:
        """What remains to be signed to reach the target (negative: beyond it)."""
        return None if self.target is None else self.target - self.signed

    def __add__(self, other: Figures) -> Figures:
        return replace(
            self,
            paid=self.paid + other.paid,
            signed_unpaid=self.signed_unpaid + other.signed_unpaid,
            in_principle=self.in_principle + other.in_principle,
            prospect=self.prospect + other.prospect,
        )


def _share(part: Decimal, target: Decimal | None) -> Decimal | None:
    """Percent of the target, one decimal (half to even)."""
    if not target:
        return None
    return (part * 100 / target).quantize(Decimal("0.1"))


@dataclass(frozen=True, slots=True)
class Progress:
    categories: tuple[Figures, ...]
    total: Figures
    investors: tuple[Figures, ...] = field(default_factory=tuple)


def progress(investors: Iterable[Figures], targets: Mapping[str, Decimal]) -> Progress:
    """Sum investors' figures per category and in total, beside the targets in force.

    The total's target is the whole fund's (category "total") when one is set; the
    categories' targets are not summed into it, since the report may set some and not others.
    """
    people = tuple(sorted(investors, key=lambda f: (CATEGORIES.index(f.category), f.label.casefold())))
    rows = []
    for category in CATEGORIES:
        row = Figures(category, category, targets.get(category))
        for person in people:
            if person.category == category:
                row = row + person
        rows.append(row)
    total = Figures(TOTAL, TOTAL, targets.get(TOTAL))
    for row in rows:
        total = total + row
    return Progress(tuple(rows), total, people)


def figures_json(f: Figures, *, investor: bool = False) -> dict[str, object]:
    from fisiq.money import to_str

    def m(x: Decimal | None) -> str | None:
        return None if x is None else to_str(x, CURRENCY)

    doc: dict[str, object] = {"party": f.label} if investor else {}
    doc |= {
        "category": f.category,
        "target": m(f.target),
        "paid": m(f.paid),
        "signed": m(f.signed),
        "signed_unpaid": m(f.signed_unpaid),
        "in_principle": m(f.in_principle),
        "prospect": m(f.prospect),
        "share_paid": None if f.share_paid is None else str(f.share_paid),
        "share_signed": None if f.share_signed is None else str(f.share_signed),
        "gap": m(f.gap),
    }
    if investor:
        for key in ("target", "share_paid", "share_signed", "gap"):
            del doc[key]
    return doc


def progress_json(p: Progress, as_of: date | None, *, by_investor: bool = False) -> dict[str, object]:
    doc: dict[str, object] = {
        "as_of": as_of.isoformat() if as_of else None,
        "currency": CURRENCY,
        "categories": [figures_json(f) for f in p.categories],
        "total": figures_json(p.total),
    }
    if by_investor:
        doc["investors"] = [figures_json(f, investor=True) for f in p.investors]
    return doc
