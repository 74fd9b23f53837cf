"""Manual / bank transfer: the customer pays outside the panel and an operator approves.

There is nothing to call and no callback to verify: the customer names the transfer's
reference, which becomes the payment's reference (unique per gateway, so one transfer cannot
be claimed twice), and the payment waits on the operator's "Deposits to review" list.
"""

from __future__ import annotations

from smmpanel.errors import Refused
from smmpanel.gateways.base import Confirmation, ConfirmationRefused, Gateway, Incoming, PaymentRequest, Started

MAX_REFERENCE = 120


class ManualGateway(Gateway):
    kind = "manual"
    title = "Manual / bank transfer"
    needs_review = True

    async def start(self, request: PaymentRequest) -> Started:
        reference = " ".join(request.payer_reference.split())
        if not reference:
            raise Refused("Enter the reference of your transfer")
        if len(reference) > MAX_REFERENCE:
            raise Refused("The reference is longer than %(max_reference)s characters", max_reference=MAX_REFERENCE)
        return Started(reference=reference)

    async def verify(self, incoming: Incoming) -> Confirmation:
        raise ConfirmationRefused("manual transfers have no webhook: an operator approves them")
