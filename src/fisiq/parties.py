"""Parties: the investors and borrowers postings are about. Pure rules, no database.

A party has a kind (who it is to the fund), a name unique after normalization (see
`fisiq.names`: accents kept, lookalikes and control characters refused) and an optional
acronym; either finds it. Borrowers also carry where they work (ISO 3166 country, region),
their sector and whether they are led by women or by young people. Members of the
association carry their membership (regular or sympathizing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fisiq.errors import FisiqError
from fisiq.names import TextError, clean_name, clean_text, name_key, skeleton

KINDS = ("member", "labour-fund", "government", "foundation", "investor", "borrower")
INVESTOR_KINDS = ("member", "labour-fund", "government", "foundation", "investor")
MEMBERSHIPS = ("regular", "sympathizing")
# The regions the member organizations name; others are accepted (the list is open).
REGIONS = ("Africa", "Latin America", "Haiti", "Asia", "Middle East", "Caribbean", "Europe", "North America")

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 - a block of codes reads better than 249 quoted strings
)


class PartyError(FisiqError):
    """A party that fisiq refuses: a bad kind, country, or a name already taken.

    `field` names what is wrong (name, kind, country...), for an import to point at its column.
    """

    def __init__(self, message: str, field: str = "name") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class PartyDraft:
    """A party as a person describes it, cleaned and checked by `make_party`."""

    name: str
    kind: str
    acronym: str | None = None
    country: str | None = None
    region: str | None = None
    sector: str | None = None
    women_led: bool = False
    youth_led: bool = False
    membership: str | None = None

    @property
    def name_key(self) -> str:
        return name_key(self.name)

    @property
    def skeleton(self) -> str:
        return skeleton(self.name)

    @property
    def acronym_key(self) -> str | None:
        return name_key(self.acronym) if self.acronym else None


def check_kind(kind: str) -> str:
    value = kind.strip().lower()
    if not value:
        raise PartyError(f"no kind given; use {'|'.join(KINDS)} (in a CSV file: a kind column, or --kind)", "kind")
    if value not in KINDS:
        raise PartyError(f"unknown party kind {kind!r}; use {'|'.join(KINDS)}", "kind")
    return value


def _cleaned(clean: Callable[..., str], text: str | None, field: str, max_length: int) -> str | None:
    """An optional text field cleaned, or a PartyError naming the field."""
    if not text:
        return None
    try:
        return clean(text, what=field, max_length=max_length)
    except TextError as exc:
        raise PartyError(str(exc), field) from None


def make_party(
    name: str,
    kind: str,
    *,
    acronym: str | None = None,
    country: str | None = None,
    region: str | None = None,
    sector: str | None = None,
    women_led: bool = False,
    youth_led: bool = False,
    membership: str | None = None,
) -> PartyDraft:
    """Clean and check what a person typed; raise PartyError / TextError saying what is wrong."""
    kind = check_kind(kind)
    clean = clean_name(name)
    short = _cleaned(clean_name, acronym, "acronym", 20)
    place = _cleaned(clean_name, region, "region", 40)
    activity = _cleaned(clean_text, sector, "sector", 80)
    if kind != "borrower":
        given = [opt for opt, v in (("--country", country), ("--region", region), ("--sector", sector),
                                    ("--women-led", women_led), ("--youth-led", youth_led)) if v]
        if given:
            verb = "describes" if len(given) == 1 else "describe"
            raise PartyError(f"{', '.join(given)} {verb} borrowers; {clean!r} is a {kind}",
                             given[0].removeprefix("--").replace("-", "_"))
    code = None
    if country:
        code = country.strip()
        if code.upper() in COUNTRIES and code != code.upper():
            raise PartyError(f"country code {country!r} must be upper case: {code.upper()}", "country")
        if code not in COUNTRIES:
            raise PartyError(f"unknown country code {country!r}; use an ISO 3166 code such as HT, SN, BO", "country")
    member = None
    if membership:
        member = membership.strip().lower()
        if kind != "member":
            raise PartyError(f"membership applies to members; {clean!r} is a {kind}", "membership")
        if member not in MEMBERSHIPS:
            raise PartyError(f"unknown membership {membership!r}; use {'|'.join(MEMBERSHIPS)}", "membership")
    return PartyDraft(
        name=clean,
        kind=kind,
        acronym=short,
        country=code,
        region=place,
        sector=activity,
        women_led=women_led,
        youth_led=youth_led,
        membership=member,
    )
