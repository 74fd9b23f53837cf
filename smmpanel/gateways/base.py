"""The one interface every payment gateway adapter implements.

An adapter only translates a gateway's wire format: it never touches the database, never
decides whether money moves, and never trusts what a browser says. The use cases in
``smmpanel.usecases.payments`` do the rest: they create the payment row, call ``start``,
hand every incoming callback to ``verify``, and apply the gateway-neutral rules of
``smmpanel.domain.payments.judge`` to the ``Confirmation`` that comes back.

To add a gateway (say PayPal), write one module in this package with one subclass of
``Gateway``; ``smmpanel.gateways.registry`` finds it by its ``kind``, and the CLI and the
dashboard build their forms from its ``options``:

    class PayPalGateway(Gateway):
        kind = "paypal"
        title = "PayPal"
        options = (
            Option("client_id", "REST app client id"),
            Option("client_secret", "REST app secret", secret=True),
            Option("webhook_id", "id of the webhook registered at PayPal"),
            Option("api_base", "API base URL", default="https://api-m.paypal.com"),
        )

        async def start(self, request: PaymentRequest) -> Started:
            # POST /v2/checkout/orders for request.amount in request.currency (convert exactly:
            # smmpanel.domain.payments.to_cents / format_amount), return_url=request.return_url
            return Started(reference=order_id, redirect_url=approve_link)

        async def verify(self, incoming: Incoming) -> Confirmation:
            # incoming.source is "return" (the customer came back: capture the order) or
            # "webhook" (PAYMENT.CAPTURE.COMPLETED: call verify-webhook-signature first);
            # raise ConfirmationRefused(...) for a bad signature, Ignored(...) for other event types.
            return Confirmation(reference=order_id, amount=..., currency="USD", final=True, raw=order_json)

Amounts cross this interface as the panel's exact ``Units`` (1/100,000); converting them to
a gateway's cents or decimal strings, and refusing what cannot be converted exactly, is the
adapter's job. Currency codes are upper-case ISO 4217.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from smmpanel.domain.payments import Confirmation
from smmpanel.errors import SmmPanelError
from smmpanel.money import Units

__all__ = [
    "Confirmation",
    "ConfirmationRefused",
    "Gateway",
    "GatewayError",
    "GatewaySetup",
    "Ignored",
    "Incoming",
    "Option",
    "PaymentRequest",
    "Started",
    "Unavailable",
    "WebhookAnswer",
]


class GatewayError(SmmPanelError):
    """Base of what an adapter raises on purpose; the message is shown to the operator."""


class ConfirmationRefused(GatewayError):
    """A confirmation that must not be believed: bad or missing signature, replayed, malformed.

    Recorded as a payment event with this message as its reason; nothing is credited.
    """


class Ignored(GatewayError):
    """A genuine notification that says nothing about money arriving (another event type).

    Recorded and acknowledged so that the gateway stops resending it; nothing is credited.
    """


class Unavailable(GatewayError):
    """The gateway could not be reached or answered with an error: try again later."""


@dataclass(frozen=True, slots=True)
class Option:
    """One setting of a gateway kind, kept in ``payment_gateways.config`` under ``name``.

    The CLI offers it as ``--name-with-dashes``; ``secret`` ones are never shown back in full;
    an option with a ``default`` is optional.
    """

    name: str
    help: str
    secret: bool = False
    default: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True, slots=True)
class GatewaySetup:
    """What an adapter is built from: the operator's gateway and where this panel is reached."""

    name: str
    """The gateway's unique name; its webhook is ``webhook_path(name)``."""
    options: Mapping[str, str]
    """The kind's options as the operator set them (defaults filled in)."""
    currency: str
    """The panel's currency: every payment through this gateway is in it."""
    http_timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """Ask the gateway for ``amount`` (the amount due, fee included) for payment ``payment_id``."""

    payment_id: int
    amount: Units
    currency: str
    customer: str
    """The customer's username, for the gateway's description and the operator's search there."""
    description: str
    return_url: str
    """Absolute URL of this panel's return page for this payment: send the customer back here."""
    webhook_url: str
    """Absolute URL of this gateway's webhook on this panel (for gateways that take it per payment)."""
    payer_reference: str = ""
    """What the customer typed as their own transfer's reference (manual transfers only)."""


@dataclass(frozen=True, slots=True)
class Started:
    """Where the customer goes next, and the gateway's own id for the payment.

    ``reference`` must be what later confirmations carry (unique per gateway). Redirect
    gateways give ``redirect_url``; form gateways (Perfect Money's SCI) give ``redirect_url``
    as the form's action and ``form_fields`` to post there; in-page gateways (Stripe.js) give
    ``client`` data for the page's script (a client secret, a publishable key) and no URL.
    """

    reference: str
    redirect_url: str | None = None
    form_fields: Mapping[str, str] = field(default_factory=dict)
    client: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Incoming:
    """An HTTP request from the gateway (a webhook) or from the customer coming back (a return).

    ``headers`` have lower-case names; ``body`` is the raw bytes as received (signatures are
    computed over them, so never re-encode); ``query`` is the parsed query string; ``form`` is
    the parsed body when it was ``application/x-www-form-urlencoded``.
    """

    source: Literal["webhook", "return"]
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """The HTTP answer a gateway expects to its webhook."""

    status: int
    body: str = ""
    content_type: str = "text/plain"


class Gateway(ABC):
    """One gateway kind. Subclasses set the class variables and implement ``start`` and ``verify``."""

    kind: ClassVar[str]
    """Stored in ``payment_gateways.kind`` and typed after ``smmpanel gateway add``."""
    title: ClassVar[str]
    """Shown to the operator: ``Stripe (cards)``."""
    options: ClassVar[tuple[Option, ...]] = ()
    needs_review: ClassVar[bool] = False
    """True for gateways whose payments an operator approves by hand (manual transfer): their
    ``start`` makes no call, and their reference is the customer's ``payer_reference``."""

    minor_unit: ClassVar[Units] = 1
    """The smallest step the gateway charges in (``domain.payments.CENT`` for card gateways): an
    amount due that is not a whole number of these is refused before any payment is created."""
    verifies_returns: ClassVar[bool] = False
    """True when the customer's return itself is a confirmation to verify (PayPal captures the
    order on return): the return page then hands its request to ``verify`` with source "return"."""

    def __init__(self, setup: GatewaySetup) -> None:
        self.setup = setup

    def option(self, name: str) -> str:
        """The operator's value of an option, or its default; '' when neither is set."""
        value = self.setup.options.get(name)
        if value:
            return value
        declared = next((option for option in self.options if option.name == name), None)
        return (declared.default if declared else None) or ""

    @property
    def payee(self) -> str | None:
        """The account a confirmation must name as paid into, or None when the gateway names none."""
        return None

    @abstractmethod
    async def start(self, request: PaymentRequest) -> Started:
        """Create the payment at the gateway. Raise ``Unavailable`` if it cannot be reached,
        ``smmpanel.errors.Refused`` for an amount it cannot take (e.g. not whole cents)."""

    @abstractmethod
    async def verify(self, incoming: Incoming) -> Confirmation:
        """Turn a webhook or a return into a verified ``Confirmation`` — or raise ``ConfirmationRefused``
        (do not believe it), ``Ignored`` (not about money) or ``Unavailable`` (ask again later).

        Verify the signature over ``incoming.body`` first. Where the gateway offers it, take the
        amount from the gateway's own record (``fetch``), not from the callback. Replays of a
        genuine confirmation may be returned as they are: the use case credits a payment once.
        """

    async def submit(self, reference: str, fields: Mapping[str, str]) -> Mapping[str, str]:
        """For in-page gateways: what the page's script produced (Stripe.js's card token) goes to
        the gateway; returns what the script needs next. Never a confirmation: money is only
        believed from ``verify``. Raise ``smmpanel.errors.Refused`` with the customer's words."""
        raise NotImplementedError(f"{self.kind} payments are not completed in the page")

    async def fetch(self, reference: str) -> Confirmation | None:
        """The gateway's own current record of a payment, where the gateway offers one (else None)."""
        return None

    def answer(self, credited_or_recorded: bool) -> WebhookAnswer:
        """The answer to a webhook: 200 once it is recorded (credited or not); 400 when refused, so
        that a gateway that signs retries and its dashboard shows the failure."""
        return WebhookAnswer(200, "ok") if credited_or_recorded else WebhookAnswer(400, "refused")
