"""Display currencies: the operator's list (add, change, remove, the default) and a customer's choice.

Nothing here touches money: amounts are converted only when a page shows them
(``smmpanel.domain.currencies``). The list is read on every dashboard page, so it comes from the
process's cache (topic ``currencies``, cleared by every write to the table).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from smmpanel.db.cache import CURRENCIES
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.currencies import DisplayCurrency, check_currency, format_rate, parse_rate
from smmpanel.errors import NotFound, Refused
from smmpanel.usecases.audit import Audit, audited

MAX_CURRENCIES = 50
"""A bound on the picker's length (and on what every page reads)."""


@dataclass(frozen=True)
class CurrencyMenu:
    """The currencies a page may show amounts in: the panel's own first, then the operator's."""

    panel: DisplayCurrency
    others: tuple[DisplayCurrency, ...]

    @property
    def choices(self) -> tuple[DisplayCurrency, ...]:
        return (self.panel, *self.others)

    @property
    def default(self) -> DisplayCurrency:
        return next((currency for currency in self.others if currency.is_default), self.panel)

    def pick(self, code: str | None) -> DisplayCurrency:
        """The currency of that code; the default for none, or for a code no longer offered."""
        return next((currency for currency in self.choices if currency.code == code), self.default)


def panel_currency(code: str) -> DisplayCurrency:
    """The panel's own currency (``SMMPANEL_CURRENCY``): rate 1, amounts shown exactly."""
    return DisplayCurrency(code, "", 5, Decimal(1), is_panel=True)


def _facts(currency: DisplayCurrency) -> dict[str, object]:
    return {"symbol": currency.symbol, "decimals": currency.decimals, "rate": format_rate(currency.rate)}


def _normal(code: str) -> str:
    return code.strip().upper()


def _checked(code: str, symbol: str, decimals: int, rate_text: str) -> DisplayCurrency:
    problem = check_currency(code, symbol, decimals)
    if problem:
        raise Refused(problem)
    try:
        rate = parse_rate(rate_text)
    except ValueError as error:
        raise Refused(str(error)) from None
    return DisplayCurrency(code, symbol, decimals, rate)


async def currency_menu(db: Database, panel_code: str) -> CurrencyMenu:
    """What every page offers, from the process's cache."""

    async def load() -> tuple[DisplayCurrency, ...]:
        async with db.read() as repos:
            return tuple(await repos.currencies.all())

    others = await db.cached(CURRENCIES).fetch("all", load, db.cache_seconds)
    return CurrencyMenu(panel_currency(panel_code), others)


async def list_currencies(db: Database) -> list[DisplayCurrency]:
    async with db.read() as repos:
        return await repos.currencies.all()


async def _existing(repos: Repositories, code: str) -> DisplayCurrency:
    found = await repos.currencies.get(code)
    if found is None:
        raise NotFound(f"no display currency {code!r}")
    return found


async def add_currency(
    db: Database, code: str, *, symbol: str, decimals: int, rate: str, panel_code: str, audit: Audit | None = None
) -> DisplayCurrency:
    """Offer one more display currency; ``rate`` is exact decimal text (units of it per panel unit)."""
    currency = _checked(_normal(code), symbol.strip(), decimals, rate)
    if currency.code == panel_code:
        raise Refused("%(panel_code)s is the panel's own currency: it is always offered", panel_code=panel_code)
    async with db.write() as repos:
        if await repos.currencies.get(currency.code) is not None:
            raise Refused("currency %(currency_code)s already exists: update it instead", currency_code=currency.code)
        if len(await repos.currencies.all()) >= MAX_CURRENCIES:
            raise Refused("at most %(max_currencies)s display currencies", max_currencies=MAX_CURRENCIES)
        await repos.currencies.add(currency)
        await audited(repos, audit, "currency.add", f"currency {currency.code}", None, _facts(currency))
    return currency


async def update_currency(
    db: Database,
    code: str,
    *,
    symbol: str | None = None,
    decimals: int | None = None,
    rate: str | None = None,
    audit: Audit | None = None,
) -> DisplayCurrency:
    """Change a currency's symbol, decimals or rate; what is not given stays."""
    async with db.write() as repos:
        current = await _existing(repos, _normal(code))
        changed = _checked(
            current.code,
            current.symbol if symbol is None else symbol.strip(),
            current.decimals if decimals is None else decimals,
            current.rate_text if rate is None else rate,
        )
        changed = replace(changed, is_default=current.is_default)
        if changed != current:
            await repos.currencies.update(changed)
            await audited(repos, audit, "currency.update", f"currency {current.code}", _facts(current), _facts(changed))
    return changed


async def remove_currency(db: Database, code: str, *, audit: Audit | None = None) -> None:
    """Stop offering a currency; customers who had picked it see the default (the panel's own, if it was it)."""
    async with db.write() as repos:
        current = await _existing(repos, _normal(code))
        await repos.currencies.remove(current.code)
        before = {**_facts(current), "default": current.is_default}
        await audited(repos, audit, "currency.remove", f"currency {current.code}", before, None)


async def set_default(db: Database, code: str, *, panel_code: str, audit: Audit | None = None) -> None:
    """The currency visitors and customers who never picked one read prices in."""
    code = _normal(code)
    async with db.write() as repos:
        before = next((c.code for c in await repos.currencies.all() if c.is_default), panel_code)
        if code != panel_code:
            await _existing(repos, code)
        await repos.currencies.set_default(None if code == panel_code else code)
        if before != code:
            await audited(repos, audit, "currency.default", "display currency", {"code": before}, {"code": code})


async def choose_currency(db: Database, user_id: int, code: str, menu: CurrencyMenu) -> DisplayCurrency:
    """A customer's pick, kept on their account; a code not offered is refused."""
    chosen = next((currency for currency in menu.choices if currency.code == _normal(code)), None)
    if chosen is None:
        raise Refused("This currency is not offered")
    async with db.write() as repos:
        await repos.currencies.choose_for_user(user_id, chosen.code)
    return chosen
