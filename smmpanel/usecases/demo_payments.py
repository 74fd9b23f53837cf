"""The demo's payment methods: a card gateway on localstripe, and a manual bank transfer.

localstripe gets a new port on every start, so the card gateway is pointed at it each time
``serve --demo`` runs; everything else about both gateways is left as the operator set it.
"""

from __future__ import annotations

from smmpanel.db.unit_of_work import Database
from smmpanel.money import parse_amount
from smmpanel.usecases.gateways import GatewayChanges, add_gateway, update_gateway

CARD = "card"
BANK = "bank"
WEBHOOK_SECRET = "whsec_smmpanel_demo"
"""The demo's webhook signing secret: localstripe signs with it, the card gateway checks it."""

_BANK_INSTRUCTIONS = "Transfer to IBAN XX00 DEMO 0000 0000 and type the transfer's reference below."


async def load_demo_gateways(db: Database, *, stripe_api: str | None, stripe_js: str | None) -> None:
    """Create (or re-point) the demo's card gateway, and create its bank transfer once."""
    async with db.read() as repos:
        card = await repos.gateways.by_name(CARD)
        bank = await repos.gateways.by_name(BANK)
    if stripe_api is not None and stripe_js is not None:
        where = {"api_base": stripe_api, "js_url": stripe_js}
        if card is None:
            options = {
                "secret_key": "sk_test_smmpanel_demo",
                "publishable_key": "pk_test_smmpanel_demo",
                "webhook_secret": WEBHOOK_SECRET,
                **where,
            }
            changes = GatewayChanges(
                display_name="Card (test: 4242 4242 4242 4242)",
                min_amount=parse_amount("1"),
                max_amount=parse_amount("1000"),
                bonus_percent=parse_amount("5"),
                bonus_from=parse_amount("50"),
            )
            await add_gateway(db, "stripe", CARD, options=options, changes=changes)
        else:
            await update_gateway(db, CARD, GatewayChanges(options=where))
    if bank is None:
        changes = GatewayChanges(
            display_name="Bank transfer", min_amount=parse_amount("10"), instructions=_BANK_INSTRUCTIONS
        )
        await add_gateway(db, "manual", BANK, options={}, changes=changes)
