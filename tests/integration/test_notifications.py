"""Each notification, received by a real SMTP server (and a Telegram fake); the switches; SMTP outages."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import notifications as events
from smmpanel.domain.refills import RefillStatus
from smmpanel.money import parse_amount
from smmpanel.simulators.telegram import FakeTelegram
from smmpanel.usecases import accounts, notification_prefs, notifications, outbox, providers, refills, tickets
from tests.support.engine import order_of, refusing_address, run_passes, wait_for
from tests.support.mail_panel import MAIL_SETTINGS, PASSWORD, MailPanel, mail_panel
from tests.support.misbehaving import MisbehavingProvider
from tests.support.panel import Panel
from tests.support.server import LiveServer, ThreadedServer
from tests.support.smtp import SmtpServer, html_of, smtp, text_of
from tests.support.visitor import Visitor

__all__ = ["mail_panel", "smtp"]  # fixtures

OPERATOR = "boss@panel.example"
ALICE = "alice@example.com"
LINK = "https://instagram.com/p/abc"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def shop(mail_panel: MailPanel) -> MailPanel:
    """Alice (verified, 100.00) and an operator who reads their mail at ``OPERATOR``."""
    mail_panel.customer("alice", ALICE)
    mail_panel.panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    mail_panel.configure(operator_email=OPERATOR)
    return mail_panel


def _order(shop: MailPanel, key: str, service: int, quantity: int = 1000) -> int:
    answer = shop.panel.call(key, "add", service=service, link=LINK, quantity=str(quantity))
    order_id: int = answer["order"]
    return order_id


def _alice_key(shop: MailPanel) -> str:
    return shop.panel.run(lambda db: accounts.rotate_key(db, "alice")).api_key


def test_a_customer_hears_of_tickets_orders_refills_payments_and_a_low_balance(shop: MailPanel) -> None:
    panel, smtp_server, alice = shop.panel, shop.smtp, shop.user_id("alice")
    boss = shop.user_id("boss")
    key = _alice_key(shop)

    ticket_id = panel.run(lambda db: tickets.open_ticket(db, alice, "Where is my order?", "It has not <started>."))
    opened = smtp_server.wait_for(OPERATOR, f"New ticket #{ticket_id} from alice")
    assert "It has not <started>." in text_of(opened)
    panel.run(lambda db: tickets.reply_as_operator(db, boss, ticket_id, "It starts <today>."))
    answered = smtp_server.wait_for(ALICE, f"Ticket #{ticket_id} answered: Where is my order?")
    assert "It starts <today>." in text_of(answered)
    assert "It starts &lt;today&gt;." in html_of(answered)

    service = panel.service(rate="1.23456")
    partial = _order(shop, key, service)
    panel.update_order(partial, "Partial", remains=333)
    finished = smtp_server.wait_for(ALICE, f"Order #{partial} Partial")
    # 1.23456 charged; 333 of 1000 undelivered: 1.23456 × 333 / 1000 = 0.41110848…, down to 0.4111 back.
    assert "Refunded to your balance: 0.4111. Refunded for this order in all: 0.4111." in text_of(finished)
    canceled = _order(shop, key, service)
    panel.update_order(canceled, "Canceled")
    assert "Refunded to your balance: 1.23456." in text_of(smtp_server.wait_for(ALICE, f"Order #{canceled} Canceled"))

    done = _order(shop, key, service)
    panel.update_order(done, "Completed")
    refill_id = panel.run(lambda db: refills.request_refills(db, alice, [done]))[done]
    assert isinstance(refill_id, int)
    panel.run(lambda db: refills.update_refill(db, refill_id, RefillStatus.COMPLETED))
    refilled = smtp_server.wait_for(ALICE, f"Refill #{refill_id} Completed")
    assert f"of your order #{done} finished: Completed" in text_of(refilled)

    async def credit(db: Database) -> None:
        async with db.write() as repos:
            await notifications.payment_credited(
                repos, alice, parse_amount("25"), parse_amount("123.4"), "PayPal 9X", utcnow()
            )

    panel.run(credit)
    paid = smtp_server.wait_for(ALICE, "Payment received: 25.00")
    assert "We credited 25.00 to your balance (PayPal 9X). Your balance is now 123.40." in text_of(paid)

    customer = Visitor(shop.base_url)
    customer.log_in("alice", PASSWORD)
    on = {f"on_{name}": "1" for name in events.CUSTOMER_EVENTS}
    saved = customer.submit("/account/notifications", "/account/notifications", low_balance_below="97.5", **on)
    assert saved.status_code == 303
    assert panel.balance("alice") == "97.94198"  # 100 - 1.23456 + 0.4111 - 1.23456 + 1.23456 - 1.23456
    _order(shop, key, service)
    low = smtp_server.wait_for(ALICE, "Your balance is low: 96.70742")
    assert "under the 97.50 you asked to be told about" in text_of(low)
    _order(shop, key, service)  # still under: told once, not at every order
    assert len([m for m in shop.queue() if m["event"] == events.LOW_BALANCE]) == 1
    assert panel.ledger_ok()


def test_the_operator_hears_of_attention_providers_and_deposits(shop: MailPanel) -> None:
    panel, smtp_server = shop.panel, shop.smtp
    key = _alice_key(shop)
    service = panel.service()
    order_id = _order(shop, key, service)

    async def abandon(db: Database) -> None:  # a worker died mid-send: its lease ran out
        async with db.write() as repos:
            await repos.orders.update(
                order_id, {"dispatch": "sending", "next_attempt_at": utcnow() - timedelta(seconds=1)}, utcnow()
            )

    panel.run(abandon)
    attention = smtp_server.wait_for(OPERATOR, f"Order #{order_id} needs your attention")
    assert "a worker stopped while sending it" in text_of(attention)
    assert "a worker stopped while sending it" in html_of(attention)

    low = MisbehavingProvider().start()
    try:
        low.answer('{"balance": "3.25", "currency": "USD"}')
        panel.run(lambda db: providers.add_provider(db, "cheap", low.api_url, "k" * 32))
        alert = smtp_server.wait_for(OPERATOR, "Provider cheap: balance 3.25")
        assert "under your warning level of 10.00" in text_of(alert)
    finally:
        low.stop()
    with refusing_address() as nowhere:
        panel.run(lambda db: providers.add_provider(db, "gone", nowhere, "k" * 32))
        down = smtp_server.wait_for(OPERATOR, "Provider gone unreachable")
    assert "did not answer a balance check" in text_of(down)

    alice = shop.user_id("alice")

    async def deposit(db: Database) -> None:
        async with db.write() as repos:
            await notifications.deposit_to_review(repos, alice, parse_amount("500"), "bank transfer #77", utcnow())

    panel.run(deposit)
    review = smtp_server.wait_for(OPERATOR, "Deposit to review: 500.00 from alice")
    assert "(bank transfer #77)" in text_of(review)


def test_the_operator_and_each_customer_can_turn_a_notification_off(shop: MailPanel) -> None:
    panel, smtp_server = shop.panel, shop.smtp
    shop.customer("bob", "bob@example.com")
    alice, bob, boss = shop.user_id("alice"), shop.user_id("bob"), shop.user_id("boss")
    service = panel.service()
    alice_key, bob_key = _alice_key(shop), panel.run(lambda db: accounts.rotate_key(db, "bob")).api_key

    customer = Visitor(shop.base_url)
    customer.log_in("alice", PASSWORD)
    keep = {f"on_{name}": "1" for name in events.CUSTOMER_EVENTS if name != events.ORDER_FINISHED}
    customer.submit("/account/notifications", "/account/notifications", **keep)
    page = customer.get("/account/notifications")
    assert (
        'name="on_order_finished" value="1">' in page.text
        and 'name="on_ticket_answered" value="1" checked>' in page.text
    )

    for key in (alice_key, bob_key):
        panel.update_order(_order(shop, key, service), "Canceled")
    smtp_server.wait_for("bob@example.com", "Canceled")  # bob kept it on

    shop.configure(off=frozenset({events.TICKET_ANSWERED, events.NEW_TICKET}))
    for user_id in (alice, bob):
        ticket_id = panel.run(lambda db, user_id=user_id: tickets.open_ticket(db, user_id, "Hi", "Hello"))
        panel.run(lambda db, ticket_id=ticket_id: tickets.reply_as_operator(db, boss, ticket_id, "Hello back"))
    wait_for(lambda: shop.queue() and all(m["status"] == "sent" for m in shop.queue()), "the queue sent")
    sent = {(m["recipient"], m["event"]) for m in shop.queue()}
    assert (ALICE, events.ORDER_FINISHED) not in sent
    assert ("bob@example.com", events.ORDER_FINISHED) in sent
    assert not {events.TICKET_ANSWERED, events.NEW_TICKET} & {event for _, event in sent}


def test_mail_waits_while_smtp_is_down_and_goes_once_it_is_back(shop: MailPanel) -> None:
    panel, smtp_server = shop.panel, shop.smtp
    smtp_server.stop()
    alice = shop.user_id("alice")
    visitor = Visitor(shop.base_url)
    answer = visitor.sign_up("carol", PASSWORD, "carol@example.com")
    assert answer.status_code == 303  # the request queued its mail: it never waits for a mail server
    panel.run(lambda db: tickets.open_ticket(db, alice, "Down?", "Is mail down?"))

    def retried() -> bool:
        unsent = [m for m in shop.queue() if m["status"] != "sent"]
        return len(unsent) == 2 and all(m["status"] == "queued" and m["attempts"] >= 2 for m in unsent)

    wait_for(retried, "two failed attempts of each message")
    assert all("Connection refused" in m["last_error"] for m in shop.queue() if m["status"] != "sent")

    smtp_server.start()
    smtp_server.wait_for("carol@example.com", "Confirm your email address")
    smtp_server.wait_for(OPERATOR, "New ticket")
    wait_for(lambda: all(m["status"] == "sent" for m in shop.queue()), "every message sent")
    time.sleep(0.5)  # a few more engine passes: nothing is sent twice
    assert len(smtp_server.inbox.messages("carol@example.com")) == 1
    assert len(smtp_server.inbox.messages(OPERATOR)) == 1


def test_a_claimed_message_is_attempted_by_one_worker_only(database_url: str) -> None:
    env = Settings(database_url=database_url)

    async def work() -> tuple[int, int, int]:
        first, second = Database(database_url, cache_seconds=0), Database(database_url, cache_seconds=0)
        try:
            async with first.write() as repos:
                for n in range(5):
                    await notifications.enqueue(
                        repos,
                        "email",
                        f"u{n}@example.com",
                        "low_balance",
                        {"username": "u", "balance": 1, "threshold": 2},
                        utcnow(),
                    )
            claims = await asyncio.gather(outbox.claim_due(first, env), outbox.claim_due(second, env))
            again = await outbox.claim_due(second, env)
            ids = [m.id for claim in claims for m in claim.messages]
            return len(ids), len(set(ids)), len(again.messages)
        finally:
            await first.close()
            await second.close()

    total, distinct, again = asyncio.run(work())
    assert total == distinct == 5  # every message claimed once, by one of the two workers
    assert again == 0  # the claims hold: nobody else attempts them meanwhile


@pytest.fixture
def telegram() -> Iterator[tuple[FakeTelegram, ThreadedServer]]:
    fake = FakeTelegram(TOKEN)
    server = ThreadedServer(fake.app(), lifespan="off").start()
    yield fake, server
    server.stop()


def test_telegram_messages_reach_the_bot_api_for_the_operator_and_a_customer(
    database_url: str,
    start_server: Callable[..., LiveServer],
    smtp: SmtpServer,
    telegram: tuple[FakeTelegram, ThreadedServer],
) -> None:
    fake, bot_api = telegram
    server = start_server(**MAIL_SETTINGS, telegram_api_url=bot_api.base_url)
    panel = Panel(database_url, server.api_url)
    shop = MailPanel(panel, server, smtp, Settings(database_url=database_url))
    try:
        panel.run(lambda db: accounts.create_customer(db, "alice", password=PASSWORD))
        panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
        alice, boss = shop.user_id("alice"), shop.user_id("boss")
        shop.configure(telegram_token="987:wrong", telegram_chat_id="-1001")
        panel.run(lambda db: tickets.open_ticket(db, alice, "Wrong token", "first"))
        wait_for(lambda: any("401" in (m["last_error"] or "") for m in shop.queue()), "a 401 from the Bot API")
        assert "Unauthorized" in shop.queue()[0]["last_error"] and "wrong" not in shop.queue()[0]["last_error"]

        shop.configure(telegram_token=TOKEN)
        wait_for(lambda: fake.messages_to("-1001"), "the operator's Telegram message")
        assert fake.messages_to("-1001") == [
            "New ticket #1 from alice: Wrong token\n\nalice opened ticket #1 (Wrong token):\n\nfirst\n"
        ]

        customer = Visitor(server.base_url)
        customer.log_in("alice", PASSWORD)
        on = {f"on_{name}": "1" for name in events.CUSTOMER_EVENTS}
        bad = customer.submit("/account/notifications", "/account/notifications", telegram_chat_id="not a chat", **on)
        assert bad.status_code == 400 and 'value="not a chat"' in bad.text
        customer.submit("/account/notifications", "/account/notifications", telegram_chat_id="424242", **on)
        panel.run(lambda db: tickets.reply_as_operator(db, boss, 1, "Fixed."))
        wait_for(lambda: fake.messages_to("424242"), "alice's Telegram message")
        assert fake.messages_to("424242")[0].startswith("Ticket #1 answered: Wrong token\n\nHello alice,")
        assert [m["status"] for m in shop.queue()] == ["sent", "sent"]  # alice has no email: Telegram only
    finally:
        panel.close()


def test_the_telegram_fake_speaks_the_bot_api(telegram: tuple[FakeTelegram, ThreadedServer]) -> None:
    _, bot_api = telegram
    with httpx.Client(base_url=bot_api.base_url) as http:
        sent = http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": 5, "text": "hi"}).json()
        assert sent["ok"] is True and sent["result"]["chat"]["id"] == 5 and sent["result"]["text"] == "hi"
        assert sent["result"]["from"]["id"] == 123456789 and sent["result"]["from"]["is_bot"] is True
        wrong = http.post("/bot1:nope/sendMessage", json={"chat_id": 5, "text": "hi"})
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        empty = http.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": "5", "text": ""})
        assert empty.json() == {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}


def test_the_engine_tells_of_an_upstream_partial_and_a_refill_it_synced(
    database_url: str, start_server: Callable[..., LiveServer], smtp: SmtpServer
) -> None:
    server = start_server()  # its engine is off: the passes run here, one step each
    panel = Panel(database_url, server.api_url)
    shop = MailPanel(panel, server, smtp, Settings(database_url=database_url, **smtp.settings))
    upstream = MisbehavingProvider().start()
    try:
        key = shop.customer("alice", ALICE, verified=False)
        run_passes(panel, **smtp.settings)
        shop.verify(ALICE)
        service = panel.service(rate="1.23456")
        panel.run(lambda db: providers.add_provider(db, "up", upstream.api_url, "k"))
        panel.run(lambda db: providers.link_service(db, service, "up", 11, 0))
        upstream.answer('{"order": 501}')
        order_id = _order(shop, key, service)
        run_passes(panel, **smtp.settings)
        upstream.answer('{"501": {"charge": "1", "start_count": "0", "status": "Partial", "remains": "250"}}')
        run_passes(panel, **smtp.settings)
        partial = smtp.wait_for(ALICE, f"Order #{order_id} Partial")
        assert "Refunded to your balance: 0.30864." in text_of(partial)  # 1.23456 × 250 / 1000

        refill_id = panel.run(lambda db: refills.request_refills(db, shop.user_id("alice"), [order_id]))[order_id]
        upstream.answer('{"refill": 9}')
        run_passes(panel, **smtp.settings)
        upstream.answer('{"status": "Completed"}')
        run_passes(panel, **smtp.settings)
        refilled = smtp.wait_for(ALICE, f"Refill #{refill_id} Completed")
        assert f"of your order #{order_id} finished: Completed" in text_of(refilled)
        assert panel.ledger_ok()
    finally:
        upstream.stop()
        panel.close()


def test_a_mail_server_that_never_answers_holds_up_no_order(
    database_url: str, start_server: Callable[..., LiveServer]
) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        mail = {"smtp_host": "127.0.0.1", "smtp_port": silent.getsockname()[1], "smtp_timeout": 300}
        server = start_server(**MAIL_SETTINGS, **mail)
        panel = Panel(database_url, server.api_url)
        shop = MailPanel(panel, server, SmtpServer(), Settings(database_url=database_url, **mail))
        upstream = MisbehavingProvider().start()
        try:
            key = shop.customer("alice", ALICE, verified=False)
            wait_for(lambda: [m["status"] for m in shop.queue()] == ["sending"], "the verification mail's attempt")
            service = panel.service()
            panel.run(lambda db: providers.add_provider(db, "up", upstream.api_url, "k"))
            panel.run(lambda db: providers.link_service(db, service, "up", 11, 0))
            upstream.answer('{"order": 501}')
            order_id = _order(shop, key, service)
            wait_for(lambda: order_of(panel, order_id).provider_order_id == "501", "the order forwarded")
            assert [m["status"] for m in shop.queue()] == ["sending"]  # the mail attempt still hangs meanwhile
        finally:
            upstream.stop()
            panel.close()


_REFUSE_MAIL = {
    "sqlite": ["CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_queue BEGIN SELECT RAISE(ABORT, 'no mail'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse_mail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no mail'; END $$",
        "CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_queue FOR EACH ROW EXECUTE FUNCTION refuse_mail()",
    ],
}
_ACCEPT_MAIL = {
    "sqlite": ["DROP TRIGGER refuse_mail"],
    "postgresql": ["DROP TRIGGER refuse_mail ON mail_queue", "DROP FUNCTION refuse_mail()"],
}


def _run_sql(panel: Panel, statements: dict[str, list[str]]) -> str:
    """Run the statements of the panel database's dialect; the dialect's name."""

    async def work(db: Database) -> str:
        async with db.engine.begin() as conn:
            for statement in statements[conn.dialect.name]:
                await conn.execute(sa.text(statement))
            return conn.dialect.name

    return panel.run(work)


def test_an_order_whose_low_balance_alert_cannot_be_queued_answers_what_happened_to_it(shop: MailPanel) -> None:
    """The answer to ``add`` and the state agree when the alert after the charge fails (a broken
    mail queue, here a trigger that refuses every row).

    On PostgreSQL the charge, the order and its entry commit in one statement of their own, so the
    order stands: its answer is its id, since a reseller's client that saw an error would place it
    again. On SQLite the alert is in the order's transaction: the order is undone with it and the
    answer is an error, with the balance as it was.
    """
    panel, alice = shop.panel, shop.user_id("alice")
    key = _alice_key(shop)
    service = panel.service(rate="10")
    everything = set(events.CUSTOMER_EVENTS)
    panel.run(
        lambda db: notification_prefs.save_prefs(
            db, alice, on=everything, low_balance_below=parse_amount("95"), telegram_chat_id=""
        )
    )
    dialect = _run_sql(panel, _REFUSE_MAIL)
    try:
        answer = panel.post(key=key, action="add", service=service, link=LINK, quantity="1000")
    finally:
        _run_sql(panel, _ACCEPT_MAIL)
    if dialect == "postgresql":
        assert answer.status_code == 200
        order_id = answer.json()["order"]
        assert panel.call(key, "status", order=str(order_id))["charge"] == "10.00"
        assert panel.balance("alice") == "90.00"
    else:
        assert answer.status_code == 503  # the panel's answer to an unexpected error: try again later
        assert set(answer.json()) == {"error"}
        assert panel.balance("alice") == "100.00"
    assert not [m for m in shop.queue() if m["event"] == events.LOW_BALANCE]
    assert panel.ledger_ok()
