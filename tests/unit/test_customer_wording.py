"""What customers read: ledger notes in their words, a provider's markup as text, schedules of posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smmpanel.domain.ledger import EntryKind, customer_note
from smmpanel.domain.orders import Order, OrderStatus
from smmpanel.domain.subscriptions import posts_limit, remaining_posts
from smmpanel.web.plain_text import plain_text

NOW = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def order(**changes: object) -> Order:
    values: dict[str, object] = {
        "id": 6,
        "user_id": 1,
        "service_id": 1,
        "link": "https://x",
        "quantity": 1000,
        "runs": None,
        "interval": None,
        "runs_done": 0,
        "details": {},
        "charge": 100000,
        "refunded": 0,
        "status": OrderStatus.IN_PROGRESS,
        "start_count": 0,
        "remains": 1000,
        "cancel_requested": False,
        "created_at": NOW,
        "finished_at": None,
        **changes,
    }
    return Order(**values)  # type: ignore[arg-type]


def test_an_orders_entries_are_worded_from_the_order_never_from_the_internal_note() -> None:
    partial = order(status=OrderStatus.PARTIAL, remains=300)
    assert customer_note(EntryKind.REFUND, 6, "order 6 partial upstream", NOW, partial, False) == (
        "Refund for order 6 (partial: 300 not delivered)"
    )
    canceled = order(status=OrderStatus.CANCELED)
    assert customer_note(EntryKind.REFUND, 6, "order 6 canceled (no provider took it)", NOW, canceled, False) == (
        "Refund for order 6 (canceled)"
    )
    assert customer_note(EntryKind.REFUND, 6, "order 6 canceled upstream", NOW, None, False) == "Refund for order 6"
    assert customer_note(EntryKind.CHARGE, 6, "order 6", NOW, partial, False) == "Order 6"
    assert customer_note(EntryKind.CHARGE, 6, "order 6 post of 250 (upstream)", NOW, None, True) == (
        "Charge for a delivered post of order 6"
    )


def test_a_stopped_drip_feeds_refunds_tell_the_stop_from_the_end() -> None:
    stopped = order(runs=5, runs_done=2, stopped_at=NOW, status=OrderStatus.PARTIAL, remains=40)
    at_stop = customer_note(EntryKind.REFUND, 6, "order 6 drip-feed stopped", NOW, stopped, False)
    assert at_stop == "Refund for order 6 (drip-feed stopped: 3 runs not placed)"
    later = customer_note(
        EntryKind.REFUND, 6, "order 6 partial (drip-feed)", NOW + timedelta(seconds=1), stopped, False
    )
    assert later == "Refund for order 6 (partial: 40 not delivered)"


def test_entries_of_no_order_keep_their_note() -> None:
    for kind in (EntryKind.TOPUP, EntryKind.ADJUSTMENT, EntryKind.COUPON, EntryKind.PAYMENT_REFUND):
        assert customer_note(kind, None, "payment #5 via Stripe", NOW, None, False) == "payment #5 via Stripe"


def test_markup_reads_as_its_words() -> None:
    page = (
        "HTTP 502: <html><head><title>502 Bad Gateway</title><style>p{}</style><script>x()</script></head>"
        "<body><h1>Bad&nbsp;&amp;\n  <b>Gateway</b></h1><script>alert(1)</script></body></html>"
    )
    assert plain_text(page) == "HTTP 502: 502 Bad Gateway Bad & Gateway"
    assert plain_text("a < b and 3 > 2") == "a < b and 3 > 2"
    assert plain_text(None) == plain_text("") == ""


def test_a_subscriptions_posts_are_its_runs() -> None:
    limited = order(details={"username": "u", "min": 1, "max": 2, "delay": 0, "posts": 5, "old_posts": 2}, runs_done=3)
    assert (posts_limit(limited), remaining_posts(limited)) == (7, 4)
    unlimited = order(details={"username": "u", "min": 1, "max": 2, "delay": 0}, runs_done=3)
    assert (posts_limit(unlimited), remaining_posts(unlimited)) == (None, None)
    ended = order(details=limited.details, status=OrderStatus.COMPLETED)
    assert remaining_posts(ended) == 0
