"""Stripe (cards): a PaymentIntent per payment, paid with Stripe.js on the panel's page.

The flow: ``start`` creates the PaymentIntent (in cents: an amount that is not whole cents is
refused, never rounded). The payment page loads Stripe.js, turns the card into a token and
posts it to the panel, which attaches it to the PaymentIntent and confirms it (``submit``);
a card that needs 3-D Secure is then authenticated by Stripe.js. The money is believed only
from the ``payment_intent.succeeded`` webhook, verified with the ``Stripe-Signature`` header by
``stripe.Webhook.construct_event``; even then the amount and status credited are those of the
PaymentIntent retrieved from Stripe, not the webhook's copy.

``api_base`` and ``js_url`` point the adapter at another Stripe: the tests and the demo use
localstripe (``smmpanel.simulators.localstripe``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stripe library takes over a second to import: only payments load it (``_stripe``)
    import stripe
    from stripe.params import PaymentIntentCreateParams

from smmpanel.domain.payments import CENT, from_cents, to_cents
from smmpanel.errors import Refused
from smmpanel.gateways.base import (
    Confirmation,
    ConfirmationRefused,
    Gateway,
    Ignored,
    Incoming,
    Option,
    PaymentRequest,
    Started,
    Unavailable,
)

DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_JS_URL = "https://js.stripe.com/v3/"
SUCCEEDED = "payment_intent.succeeded"
CANCELED = "payment_intent.canceled"
EVENTS = (SUCCEEDED, CANCELED)
"""The events to send to the panel's webhook; any other is acknowledged and ignored."""


def _stripe() -> ModuleType:
    """The stripe library, imported on first use so that every CLI command does not pay for it."""
    import stripe

    return stripe


class StripeGateway(Gateway):
    kind = "stripe"
    title = "Card (Stripe)"
    minor_unit = CENT
    options = (
        Option("secret_key", "secret API key (sk_live_… or sk_test_…)", secret=True),
        Option("publishable_key", "publishable key (pk_live_… or pk_test_…), used by Stripe.js"),
        Option("webhook_secret", "signing secret of the webhook endpoint (whsec_…)", secret=True),
        Option("api_base", "Stripe API base URL", default=DEFAULT_API_BASE),
        Option("js_url", "Stripe.js URL", default=DEFAULT_JS_URL),
    )

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[stripe.StripeClient]:
        lib = _stripe()
        http = lib.HTTPXClient(timeout=self.setup.http_timeout)
        try:
            yield lib.StripeClient(
                self.option("secret_key"),
                base_addresses={"api": self.option("api_base").rstrip("/")},
                http_client=http,
                max_network_retries=2,
            )
        finally:
            await http.close_async()

    async def start(self, request: PaymentRequest) -> Started:
        params: PaymentIntentCreateParams = {
            "amount": to_cents(request.amount),
            "currency": request.currency.lower(),
            "metadata": {"payment": str(request.payment_id), "customer": request.customer},
        }
        try:
            async with self._client() as client:
                intent = await client.v1.payment_intents.create_async(params=params)
        except _stripe().StripeError as error:
            raise Unavailable(f"Stripe did not create the PaymentIntent: {error.user_message or error}") from error
        client_data = {
            "client_secret": str(intent.client_secret),
            "publishable_key": self.option("publishable_key"),
            "js_url": self.option("js_url"),
        }
        return Started(reference=intent.id, client=client_data)

    async def submit(self, reference: str, fields: Mapping[str, str]) -> Mapping[str, str]:
        """Attach the card Stripe.js tokenised (``token``) and confirm the PaymentIntent.

        Answers the PaymentIntent's ``status``; with ``requires_action`` the page lets Stripe.js
        authenticate the card (``client_secret``).
        """
        token_id = fields.get("token", "")
        if not token_id.startswith("tok_"):
            raise Refused("The card was not read: please enter it again")
        try:
            async with self._client() as client:
                token = await client.v1.tokens.retrieve_async(token_id)
                intents = client.v1.payment_intents
                card = token.card.id if token.card else ""
                await intents.update_async(reference, params={"payment_method": card})
                intent = await intents.confirm_async(reference)
        except _stripe().CardError as error:
            raise Refused(error.user_message or "Your card was declined") from None
        except _stripe().StripeError as error:
            raise Refused("The card payment could not be made; please try again") from error
        return {"status": str(intent.status), "client_secret": str(intent.client_secret)}

    async def verify(self, incoming: Incoming) -> Confirmation:
        if incoming.source != "webhook":
            raise Ignored("Stripe payments are confirmed by their webhook only")
        signature = incoming.headers.get("stripe-signature")
        try:
            event = _stripe().Webhook.construct_event(incoming.body, signature, self.option("webhook_secret"))
        except _stripe().SignatureVerificationError as error:
            raise ConfirmationRefused(f"bad Stripe-Signature: {error.user_message or error}") from None
        except ValueError:
            raise ConfirmationRefused("the body is not a Stripe event") from None
        if event.type not in EVENTS:
            raise Ignored(f"event {event.type} is not about money arriving")
        intent = json.loads(incoming.body).get("data", {}).get("object", {})
        reference = intent.get("id") if isinstance(intent, dict) else None
        if not isinstance(reference, str):
            raise ConfirmationRefused(f"the {event.type} event names no PaymentIntent")
        confirmation = await self.fetch(reference)
        if confirmation is None:
            raise ConfirmationRefused(f"Stripe has no PaymentIntent {reference!r}")
        return confirmation

    async def fetch(self, reference: str) -> Confirmation | None:
        """The PaymentIntent as Stripe has it: what is credited comes from here."""
        if not reference.startswith("pi_"):
            return None
        try:
            async with self._client() as client:
                intent = await client.v1.payment_intents.retrieve_async(reference)
        except _stripe().InvalidRequestError:
            return None
        except _stripe().StripeError as error:
            raise Unavailable(f"Stripe did not answer: {error.user_message or error}") from error
        record = intent.to_dict(for_json=True)
        succeeded = intent.status == "succeeded"
        received = record.get("amount_received")  # what Stripe took; localstripe leaves it out
        cents = int(received if succeeded and received is not None else record["amount"])
        return Confirmation(
            reference=intent.id,
            amount=from_cents(cents),
            currency=str(intent.currency).upper(),
            final=succeeded,
            failed=intent.status == "canceled",
            raw=record,
        )
