"""Portfolio figures as of several dates, with PAR30/PAR90 computed by hand.

Three loans at 0 % (so only principal moves), all disbursed on 2018-04-01:
  L1  Coopérative A (Africa, SN, Agriculture, women-led)  1,000.00 = 4 x 250.00 monthly from 2018-05-01
  L2  Jeunes B      (Haiti, HT, Crafts, youth-led)       2,000.00 = 4 x 500.00 monthly from 2018-05-01
  L3  Coopérative A                                        500.00 = 2 x 250.00 monthly from 2018-06-01
L1 pays 250.00 on 05-01 then stops; L2 never pays; L3 pays 250.00 on 06-01 and 07-01 (closed).
L1 is rescheduled on 08-20 (750.00 = 3 x 250.00 from 09-20); L2 is written off on 11-01.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Engine

from _loans_support import D, add_capital, add_party
from fisiq import db, loans_db
from fisiq.schedule import LoanTerms

Run = Callable[..., Any]


def _terms(amount: str, term: int, first_due: date) -> LoanTerms:
    return LoanTerms(D(amount), "CAD", D("0"), term, first_due, method="equal-principal")


def _build(engine: Engine) -> None:
    add_capital(engine, D("100000.00"))
    loans_db.set_limits(engine, max_share=D("100"))
    add_party(engine, "Coopérative A", country="SN", region="Africa", sector="Agriculture", women_led=True)
    add_party(engine, "Jeunes B", country="HT", region="Haiti", sector="Crafts", youth_led=True)
    approved = date(2018, 3, 31)
    l1, _ = loans_db.add_loan(engine, "Coopérative A", _terms("1000.00", 4, date(2018, 5, 1)), approved_on=approved)
    l2, _ = loans_db.add_loan(engine, "Jeunes B", _terms("2000.00", 4, date(2018, 5, 1)), approved_on=approved)
    l3, _ = loans_db.add_loan(engine, "Coopérative A", _terms("500.00", 2, date(2018, 6, 1)), approved_on=approved)
    for loan in (l1, l2, l3):
        loans_db.disburse(engine, loan.id, date(2018, 4, 1))
    loans_db.repay(engine, l1.id, D("250.00"), date(2018, 5, 1))
    loans_db.repay(engine, l3.id, D("250.00"), date(2018, 6, 1))
    loans_db.repay(engine, l3.id, D("250.00"), date(2018, 7, 1))
    loans_db.reschedule(engine, l1.id, date(2018, 8, 20), term=3, first_due=date(2018, 9, 20))
    loans_db.write_off(engine, l2.id, date(2018, 11, 1), "activity stopped")


def test_portfolio_as_of_several_dates(target: str, fisiq: Run) -> None:
    engine = db.open_ledger(target)
    try:
        _build(engine)
    finally:
        engine.dispose()

    def at(day: str) -> dict[str, Any]:
        result = fisiq("portfolio", "--as-of", day, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    before = at("2018-03-31")
    assert (before["loans_disbursed"], before["outstanding"], before["par30"]) == (0, "0.00", "0.0000")

    # 06-15: L1 750.00 (06-01 unpaid: 14 days), L2 2,000.00 (05-01 unpaid: 45 days), L3 250.00 (current).
    # gross 3,000.00; PAR30 = 2,000 / 3,000 = 0.6667; PAR90 = 0.
    p = at("2018-06-15")
    assert (p["loans_disbursed"], p["loans_outstanding"], p["borrowers"]) == (3, 3, 2)
    assert (p["disbursed"], p["outstanding"], p["average_loan"]) == ("3500.00", "3000.00", "1166.67")
    assert (p["par30"], p["at_risk30"], p["par90"]) == ("0.6667", "2000.00", "0.0000")
    assert p["largest_exposure"] == {"borrower": "Jeunes B", "outstanding": "2000.00", "share": "0.6667"}
    # Women-led: Coopérative A, 1 of 2 borrowers, 750 + 250 = 1,000 of 3,000; youth-led: Jeunes B, 2,000.
    assert p["women_led"] == {"borrowers": 1, "by_count": "0.5000", "outstanding": "1000.00", "by_amount": "0.3333"}
    assert p["youth_led"] == {"borrowers": 1, "by_count": "0.5000", "outstanding": "2000.00", "by_amount": "0.6667"}
    assert [(g["key"], g["loans"], g["outstanding"]) for g in p["by_region"]] == [
        ("Haiti", 1, "2000.00"), ("Africa", 2, "1000.00")]
    assert [g["key"] for g in p["by_country"]] == ["HT", "SN"]
    assert [g["key"] for g in p["by_sector"]] == ["Crafts", "Agriculture"]

    # 08-15: L3 closed. L1 06-01 unpaid: 75 days; L2 05-01 unpaid: 106 days. gross 2,750.00.
    # PAR30 = 2,750 / 2,750 = 1; PAR90 = 2,000 / 2,750 = 0.72727... -> 0.7273.
    p = at("2018-08-15")
    assert (p["loans_outstanding"], p["outstanding"], p["par30"], p["par90"]) == (2, "2750.00", "1.0000", "0.7273")
    assert p["restructured"]["loans"] == 0

    # 09-01: L1 rescheduled on 08-20; its new first due date is 09-20, so it is current.
    # PAR30 = PAR90 = 2,000 / 2,750 = 0.7273; restructured 750 / 2,750 = 0.2727.
    p = at("2018-09-01")
    assert (p["par30"], p["par90"]) == ("0.7273", "0.7273")
    assert p["restructured"] == {"loans": 1, "outstanding": "750.00", "share": "0.2727", "par30": "0.0000"}

    # 10-31: L1's 09-20 installment unpaid: 41 days, so the restructured loan is in PAR30 too;
    # L2 05-01 unpaid: 183 days. PAR30 = 1; PAR90 = 0.7273; restructured PAR30 = 0.2727.
    p = at("2018-10-31")
    assert (p["par30"], p["par90"]) == ("1.0000", "0.7273")
    assert p["restructured"] == {"loans": 1, "outstanding": "750.00", "share": "0.2727", "par30": "0.2727"}

    # 11-30: L2 written off on 11-01; L1 alone: 09-20 unpaid, 71 days: PAR30 = 1, PAR90 = 0.
    p = at("2018-11-30")
    assert (p["loans_disbursed"], p["loans_outstanding"], p["borrowers"], p["outstanding"]) == (3, 1, 1, "750.00")
    assert (p["par30"], p["par90"]) == ("1.0000", "0.0000")
    assert p["write_offs"] == {"loans": 1, "principal": "2000.00", "interest": "0.00", "recovered": "0.00"}
    assert p["largest_exposure"]["borrower"] == "Coopérative A"
    # The figures of a past date do not change when later events are recorded.
    assert at("2018-06-15")["par30"] == "0.6667"
