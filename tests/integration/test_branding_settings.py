"""The settings page's branding, images, invites and signup modes, over HTTP on both back ends.

An upload is judged by its bytes, never by its name or the content type the browser sends;
a refused form comes back with the message and what was typed; every change is audited.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Iterator

import pytest

from smmpanel.usecases import accounts, audit, signup
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, Browser

# A 1×1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_PAGE = b"<!doctype html><html><script>alert(1)</script></html>"
PANEL_FIELDS = {
    "name": "Boost Hub",
    "primary": "#0f766e",
    "accent": "#f59e0b",
    "theme": "dark",
    "signup": "open",
    "time_zone": "Europe/Berlin",
    "contact": "Write to help@boost.example",
    "terms": "Be nice.",
}


@pytest.fixture
def operator(start_server: Callable[..., LiveServer], database_url: str) -> Iterator[tuple[Browser, Panel]]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    browser = Browser(server.base_url)
    assert browser.log_in("boss").status_code == 303
    browser.get("/admin/settings")
    yield browser, panel
    browser.close()
    panel.close()


def upload(browser: Browser, kind: str, data: bytes, filename: str, content_type: str) -> tuple[int, str]:
    answer = browser.http.post(
        "/admin/settings/images",
        data={"csrf_token": browser.token, "kind": kind},
        files={"image": (filename, data, content_type)},
    )
    return answer.status_code, answer.text


@pytest.mark.parametrize(
    ("data", "filename"),
    [(SVG, "logo.png"), (HTML_PAGE, "logo.png"), (SVG, "logo.svg")],
    ids=["svg", "html", "plain-svg"],
)
def test_an_image_that_is_not_png_jpeg_webp_or_ico_is_refused_whatever_it_claims(
    operator: tuple[Browser, Panel], data: bytes, filename: str
) -> None:
    browser, _ = operator
    status, text = upload(browser, "logo", data, filename, "image/png")
    assert status == 400
    assert "Logo: upload a PNG, JPEG, WebP or ICO image" in text
    assert browser.http.get("/brand/logo").status_code == 404


def test_a_too_large_image_is_refused(operator: tuple[Browser, Panel]) -> None:
    browser, _ = operator
    status, text = upload(browser, "favicon", PNG + b"\0" * (64 * 1024), "icon.png", "image/png")
    assert status == 400
    assert "Favicon is too large (at most 64 KB)" in text
    assert browser.http.get("/favicon.ico").headers["content-type"] == "image/x-icon"  # still the built-in one


def test_an_uploaded_logo_and_favicon_are_served_with_their_sniffed_type(operator: tuple[Browser, Panel]) -> None:
    browser, panel = operator
    default = browser.http.get("/favicon.ico")
    assert default.status_code == 200 and default.content.startswith(b"\0\0\1\0")
    assert upload(browser, "logo", PNG, "logo.bin", "application/octet-stream")[0] == 303
    assert upload(browser, "favicon", PNG, "favicon.ico", "image/x-icon")[0] == 303
    page = browser.get("/admin/settings").text
    version = page.split('src="/brand/logo?v=')[1].split('"')[0]
    logo = browser.http.get(f"/brand/logo?v={version}")
    assert (logo.status_code, logo.content, logo.headers["content-type"]) == (200, PNG, "image/png")
    assert logo.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert logo.headers["x-content-type-options"] == "nosniff"
    icon = browser.http.get("/favicon.ico")
    assert (icon.content, icon.headers["content-type"]) == (PNG, "image/png")
    assert f'<link rel="icon" href="/favicon.ico?v={version}">' in page
    entries = panel.run(lambda db: audit.audit_page(db)).items
    assert {(entry.target, entry.after["type"]) for entry in entries if entry.after} >= {  # type: ignore[index]
        ("setting logo", "image/png"),
        ("setting favicon", "image/png"),
    }
    assert browser.post("/admin/settings/images/remove", kind="logo").status_code == 303
    assert browser.http.get("/brand/logo").status_code == 404


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("primary", "#12345g", "Primary colour: write a colour as #rrggbb, e.g. #4f46e5"),
        ("accent", "red;}body{display:none", "Accent colour: write a colour as #rrggbb, e.g. #4f46e5"),
        ("time_zone", "Mars/Olympus_Mons", "Unknown time zone &#39;Mars/Olympus_Mons&#39;"),
    ],
)
def test_a_bad_setting_shows_the_form_again_with_the_message_and_what_was_typed(
    operator: tuple[Browser, Panel], field: str, typed: str, message: str
) -> None:
    browser, _ = operator
    answer = browser.post("/admin/settings/panel", **{**PANEL_FIELDS, field: typed})
    assert answer.status_code == 400
    assert message in answer.text
    assert html.escape(typed) in answer.text
    assert 'value="Boost Hub"' in answer.text  # the rest of what was typed too
    assert "Boost Hub" not in browser.http.get("/contact").text  # nothing stored


def test_good_settings_are_stored_audited_and_shown(operator: tuple[Browser, Panel]) -> None:
    browser, panel = operator
    assert browser.post("/admin/settings/panel", **PANEL_FIELDS).status_code == 303
    contact = browser.http.get("/contact").text
    assert "<title>Contact · Boost Hub</title>" in contact
    assert "<p>Write to help@boost.example</p>" in contact
    theme = browser.http.get("/theme.css?v=0f766ef59e0bd").text
    assert "--brand: #0f766e;" in theme and "--accent: #f59e0b;" in theme and "color-scheme: dark" in theme
    entries = panel.run(lambda db: audit.audit_page(db)).items
    changed = {entry.target: entry.after for entry in entries if entry.action == "setting.update"}
    assert changed["setting brand_primary"] == {"value": "#0f766e"}
    assert changed["setting time_zone"] == {"value": "Europe/Berlin"}


def test_operator_text_is_shown_escaped(operator: tuple[Browser, Panel]) -> None:
    browser, _ = operator
    fields = {**PANEL_FIELDS, "terms": "<script>alert(1)</script>\n\nSecond paragraph"}
    assert browser.post("/admin/settings/panel", **fields).status_code == 303
    terms = browser.http.get("/terms").text
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in terms and "<p>Second paragraph</p>" in terms


def sign_up(browser: Browser, username: str, invite: str = "") -> tuple[int, str]:
    browser.get("/login")  # a form token for this visitor
    fields = {"username": username, "password": PASSWORD, "password_again": PASSWORD, "invite": invite}
    answer = browser.post("/signup", **fields)
    return answer.status_code, answer.text


def test_a_closed_panel_refuses_the_sign_up_form_itself(operator: tuple[Browser, Panel]) -> None:
    browser, panel = operator
    assert browser.post("/admin/settings/panel", **{**PANEL_FIELDS, "signup": "closed"}).status_code == 303
    visitor = Browser(str(browser.http.base_url))
    status, text = sign_up(visitor, "mallory")
    assert (status, "Sign-up is closed on this panel." in text) == (400, True)
    assert visitor.http.get("/signup").status_code == 403
    assert "mallory" not in {user.username for user in panel.run(accounts.list_customers)}
    visitor.close()


def test_an_invite_opens_one_account_and_a_withdrawn_one_none(operator: tuple[Browser, Panel]) -> None:
    browser, panel = operator
    assert browser.post("/admin/settings/panel", **{**PANEL_FIELDS, "signup": "invite"}).status_code == 303
    links = []
    for note in ("first", "second"):
        made = browser.follow(browser.post("/admin/settings/invites", note=note))
        found = re.search(r"/signup\?invite=([\w-]+)", made.text)
        assert found is not None
        links.append(found.group(1))
    visitor = Browser(str(browser.http.base_url))
    assert sign_up(visitor, "nobody")[0] == 400  # no invite at all
    assert sign_up(visitor, "carol", links[0])[0] == 303
    visitor.close()
    again = Browser(str(browser.http.base_url))
    status, text = sign_up(again, "dave", links[0])
    assert status == 400 and "This invite link is not valid any more" in text
    invites = panel.run(signup.list_invites)
    second = next(invite for invite in invites if invite.note == "second")
    assert browser.post(f"/admin/settings/invites/{second.id}/revoke").status_code == 303
    assert sign_up(again, "dave", links[1])[0] == 400
    again.close()
    assert {user.username for user in panel.run(accounts.list_customers)} == {"boss", "carol"}
    actions = [entry.action for entry in panel.run(lambda db: audit.audit_page(db)).items]
    assert actions.count("invite.create") == 2 and actions.count("invite.revoke") == 1
