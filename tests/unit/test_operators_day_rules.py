"""The operator's day's pure rules: CSV cells a spreadsheet cannot run, day ranges, ticket topics,
refill reasons, bulk actions, and a rejected refill's mail carrying its reason."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from smmpanel.domain.csv_cells import csv_lines, neutralised
from smmpanel.domain.orders import OrderStatus
from smmpanel.domain.periods import day_range
from smmpanel.domain.refills import RefillStatus, checked_reason
from smmpanel.domain.roles import Permission
from smmpanel.domain.tickets import checked_canned_reply, topic_subject
from smmpanel.errors import Refused
from smmpanel.notify.render import render_message
from smmpanel.usecases.bulk_orders import BulkAction, bulk_action, checked_ids


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+44", "'+44"),
        ("-1.50", "'-1.50"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("1.50", "1.50"),
        ("", ""),
        (" =1", " =1"),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_gets_a_quote(cell: str, written: str) -> None:
    assert neutralised(cell) == written


def test_csv_lines_byte_for_byte() -> None:
    rows = [["id", "note"], ["1", '=HYPERLINK("http://x")'], ["2", "\rCR"], ["3", "a,b"], ["4", "-2"], ["5", "\tT"]]
    assert csv_lines(rows).encode() == (
        b'id,note\r\n1,"\'=HYPERLINK(""http://x"")"\r\n2,"\'\rCR"\r\n3,"a,b"\r\n4,\'-2\r\n5,\'\tT\r\n'
    )


def test_day_ranges() -> None:
    days = day_range("2026-12-01", "2026-12-03")
    assert (days.since, days.until) == (datetime(2026, 12, 1), datetime(2026, 12, 4))  # the last day included
    assert day_range("", "").since is None and day_range("", "").until is None
    recent = day_range("", "", default_days=30, today=date(2026, 12, 3))
    assert (recent.first, recent.last) == (date(2026, 11, 4), date(2026, 12, 3))
    with pytest.raises(Refused, match="To: the last day comes before the first"):
        day_range("2026-12-03", "2026-12-01")
    with pytest.raises(Refused, match="From: write a date as YYYY-MM-DD"):
        day_range("03/12/2026", "")
    with pytest.raises(Refused, match="At most 3660 days"):
        day_range("2000-01-01", "2026-01-01")


def test_ticket_topics() -> None:
    assert topic_subject("Refill", 12, "ignored") == "Refill #12"
    assert topic_subject("Speed up", 7, "") == "Speed up #7"
    assert topic_subject("Other", None, "  My question ") == "My question"
    assert topic_subject("", 5, "Old form") == "Old form"  # a form without topics: the customer's own subject
    with pytest.raises(Refused, match="Please write the order ID for Cancel"):
        topic_subject("Cancel", None, "")
    with pytest.raises(Refused, match="Please choose a subject"):
        topic_subject("Refund", 3, "")
    with pytest.raises(Refused, match="Please write a subject"):
        topic_subject("Other", None, " ")
    assert checked_canned_reply("  Thanks \n for waiting ", "Body\r\n") == ("Thanks for waiting", "Body")
    with pytest.raises(Refused, match="The title is too long"):
        checked_canned_reply("x" * 65, "body")


def test_only_a_rejection_keeps_a_reason() -> None:
    assert checked_reason(RefillStatus.REJECTED, " no\n drop ") == "no drop"
    assert checked_reason(RefillStatus.REJECTED, "  ") is None
    assert checked_reason(RefillStatus.COMPLETED, "done") is None
    with pytest.raises(Refused, match="at most 500"):
        checked_reason(RefillStatus.REJECTED, "x" * 501)


def test_bulk_actions() -> None:
    assert BulkAction.PROCESSING.status is OrderStatus.PROCESSING and BulkAction.RESEND.status is None
    assert BulkAction.CANCEL.status is OrderStatus.CANCELED and BulkAction.COMPLETE.status is OrderStatus.COMPLETED
    assert BulkAction.CANCEL.permission is Permission.REFUNDS
    assert BulkAction.PENDING.permission is Permission.ORDERS_WRITE
    assert bulk_action("status:In progress") is BulkAction.IN_PROGRESS
    with pytest.raises(Refused, match="Choose what to do"):
        bulk_action("status:Completed")
    assert checked_ids([5, 3, 5, 1]) == [1, 3, 5]
    with pytest.raises(Refused, match="Tick at least one order"):
        checked_ids([])
    with pytest.raises(Refused, match="At most 500 orders"):
        checked_ids(list(range(1, 502)))


def test_the_refill_mail_says_why_it_was_rejected() -> None:
    values = {"username": "alice", "refill_id": 3, "order_id": 9, "status": "Rejected", "reason": "No drop <yet>"}
    message = render_message("refill_finished", "alice@example.com", values)
    assert message.subject == "Refill #3 Rejected"
    assert message.text.endswith("finished: Rejected.\n\nReason: No drop <yet>\n")
    assert message.html is not None and "<p>Reason: No drop &lt;yet&gt;</p>" in message.html
    before = render_message("refill_finished", "a@example.com", {k: v for k, v in values.items() if k != "reason"})
    assert "Reason" not in before.text  # a mail queued before reasons existed still renders
