"""Languages over real HTTP: each person's choice, the browser's, the operator's default; the API stays English."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from smmpanel import i18n
from smmpanel.clock import utcnow
from smmpanel.db.tables import mail_queue
from smmpanel.db.unit_of_work import Database
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, audit, languages, notifications
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.visitor import Visitor

PASSWORD = "correct horse"


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> tuple[Panel, LiveServer]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    for name in ("alice", "bob", "omar"):
        panel.run(lambda db, name=name: accounts.create_customer(db, name, parse_amount("100"), password=PASSWORD))
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    return panel, server


def html_tag(page: httpx.Response) -> tuple[str, str]:
    found = re.search(r'<html lang="([a-z]+)" dir="(ltr|rtl)"[ >]', page.text)
    assert found is not None, page.text[:300]
    return found.group(1), found.group(2)


def user_id(panel: Panel, username: str) -> int:
    async def find(db: Database) -> int:
        return next(c.id for c in await accounts.list_customers(db) if c.username == username)

    return panel.run(find)


def visitor(server: LiveServer, accept_language: str = "en-US,en;q=0.9") -> Visitor:
    person = Visitor(server.base_url)
    person.http.headers["Accept-Language"] = accept_language
    return person


def pick(person: Visitor, page: str, code: str) -> httpx.Response:
    answer = person.submit(page, "/language", language=code)
    assert answer.status_code == 303
    return answer


def test_a_customer_s_choice_is_kept_in_their_account_and_follows_them_to_another_browser(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, server = site
    alice = visitor(server)
    alice.log_in("alice", PASSWORD)
    assert html_tag(alice.get("/orders")) == ("en", "ltr")
    pick(alice, "/orders", "ru")
    orders = alice.get("/orders")
    assert html_tag(orders) == ("ru", "ltr")
    assert ">Заказы</a>" in orders.text and ">Orders</a>" not in orders.text
    assert panel.run(lambda db: languages.language_of(db, user_id(panel, "alice"))) == "ru"
    elsewhere = visitor(server, "tr-TR")  # another browser asking for Turkish: her own choice wins
    elsewhere.log_in("alice", PASSWORD)
    assert html_tag(elsewhere.get("/funds")) == ("ru", "ltr")
    for person in (alice, elsewhere):
        person.close()


def test_a_visitor_s_choice_is_a_cookie_then_the_browser_then_the_operator_s_default(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, server = site
    german = visitor(server, "de-DE,de;q=0.9")  # a language the panel does not speak
    assert html_tag(german.get("/login")) == ("en", "ltr")
    panel.run(lambda db: languages.set_default_language(db, "tr", audit=None))
    assert html_tag(german.get("/login")) == ("tr", "ltr")  # no restart
    assert html_tag(visitor(server, "ar,en;q=0.5").get("/login")) == ("ar", "rtl")
    pick(german, "/login", "ru")
    login = german.get("/login")
    assert html_tag(login) == ("ru", "ltr")
    assert "Войти" in login.text
    assert german.http.cookies.get(i18n.COOKIE) == "ru"
    german.close()


def test_an_unknown_language_is_refused_by_the_operator_s_form_and_ignored_by_the_picker(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, server = site
    with pytest.raises(Exception, match="not available"):
        panel.run(lambda db: languages.set_default_language(db, "xx", audit=None))
    person = visitor(server)
    pick(person, "/login", "xx")
    assert html_tag(person.get("/login")) == ("en", "ltr")
    person.close()


def test_two_customers_served_at_the_same_time_each_read_their_own_language(
    site: tuple[Panel, LiveServer],
) -> None:
    _panel, server = site
    people = {"alice": "ru", "bob": "tr", "omar": "ar"}
    browsers = {}
    for name, code in people.items():
        browsers[name] = visitor(server)
        browsers[name].log_in(name, PASSWORD)
        pick(browsers[name], "/orders", code)

    def read(name: str) -> tuple[str, str]:
        return name, html_tag(browsers[name].get("/orders"))[0]

    with ThreadPoolExecutor(max_workers=6) as pool:
        seen = list(pool.map(read, [name for _ in range(12) for name in people]))
    assert len(seen) == 36
    assert all(code == people[name] for name, code in seen), seen
    for browser in browsers.values():
        browser.close()


def test_the_api_answers_byte_exact_english_whatever_the_customer_s_language(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, server = site
    key = panel.customer("reseller")
    reseller = user_id(panel, "reseller")
    panel.run(lambda db: languages.choose_language(db, reseller, "ar"))
    panel.run(lambda db: languages.set_default_language(db, "ru", audit=None))
    answer = httpx.post(
        server.api_url,
        data={"key": key, "action": "add", "service": "999", "link": "https://x", "quantity": "100"},
        headers={"Accept-Language": "ar"},
    )
    assert answer.content == b'{"error":"Incorrect service ID"}'


def test_a_refusal_shows_in_the_customer_s_language_on_the_dashboard(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service(min=50)
    alice = visitor(server)
    alice.log_in("alice", PASSWORD)
    pick(alice, "/orders/new", "ru")
    page = alice.submit("/orders/new", "/orders/new", service=str(service), link="https://x", quantity="10")
    assert page.status_code == 400
    assert "Количество меньше минимального: 50" in page.text
    assert 'value="https://x"' in page.text  # what was typed stays
    alice.close()


def test_the_operator_sets_the_default_language_on_the_settings_page_and_it_is_audited(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, server = site
    boss = visitor(server)
    boss.log_in("boss", PASSWORD)
    settings = boss.get("/admin/settings")
    assert 'action="/admin/settings/language"' in settings.text
    assert re.search(r'<option value="en" lang="en" selected>English</option>', settings.text)
    answer = boss.submit("/admin/settings", "/admin/settings/language", default_language="ar")
    assert (answer.status_code, answer.headers["location"]) == (303, "/admin/settings")
    saved = boss.get("/admin/settings")
    assert "Default language saved: العربية." in saved.text  # the operator's own page stays in their language
    assert re.search(r'<option value="ar" lang="ar" selected>', saved.text)
    assert html_tag(visitor(server, "de").get("/login")) == ("ar", "rtl")
    entry = panel.run(lambda db: audit.audit_page(db, limit=10)).items[0]
    assert (entry.actor, entry.action, entry.target) == ("boss", "setting.update", "setting default_language")
    assert (entry.before, entry.after) == ({"value": None}, {"value": "ar"})
    boss.close()


def test_mail_to_a_customer_is_in_their_language_and_to_the_operator_in_the_default(
    site: tuple[Panel, LiveServer],
) -> None:
    panel, _server = site
    alice, bob = user_id(panel, "alice"), user_id(panel, "bob")
    panel.run(lambda db: languages.choose_language(db, alice, "ru"))
    panel.run(lambda db: languages.set_default_language(db, "tr", audit=None))

    async def answer_both(db: Database) -> list[tuple[str, str, str]]:
        async with db.write() as repos:
            for user, email in ((alice, "alice@example.com"), (bob, "bob@example.com")):
                await repos.notify.emails.set(user, email, utcnow())
                await notifications.ticket_answered(repos, user, 7, "Speed", "Soon.", utcnow())
        async with db.engine.connect() as conn:
            rows = await conn.execute(sa.select(mail_queue).order_by(mail_queue.c.id))
            return [(row.recipient, row.subject, row.body_html or "") for row in rows]

    (to_alice, subject_ru, html_ru), (to_bob, subject_tr, html_tr) = panel.run(answer_both)
    assert (to_alice, subject_ru) == ("alice@example.com", "Ответ на тикет #7: Speed")
    assert '<html lang="ru" dir="ltr">' in html_ru and "Отправлено вашей SMM-панелью." in html_ru
    assert (to_bob, subject_tr) == ("bob@example.com", "#7 numaralı talep yanıtlandı: Speed")  # bob chose none
    assert '<html lang="tr" dir="ltr">' in html_tr
