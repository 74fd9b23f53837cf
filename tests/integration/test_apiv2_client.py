"""The API v2 client over real HTTP: against our own panel in both styles, and against a broken provider.

Every failure must land in exactly one class (refused / unreachable / ambiguous),
because the engine decides from the class alone whether an order may be resent.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from smmpanel.domain import messages as msg
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.orders import OrderStatus
from smmpanel.domain.refills import RefillStatus
from smmpanel.providers.apiv2_client import (
    ApiV2Client,
    UpstreamAmbiguous,
    UpstreamError,
    UpstreamOrderStatus,
    UpstreamRefused,
    UpstreamService,
    UpstreamUnreachable,
)
from smmpanel.providers.transport import KeptAliveTransport
from tests.support.misbehaving import MisbehavingProvider
from tests.support.panel import Panel
from tests.support.server import LiveServer

pytestmark = pytest.mark.anyio

KEY = "Sup3r-Secret_Key-0123456789abcdef"
"""The key used against the misbehaving provider; it must never show in an error."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def assert_clean(error: UpstreamError, kind: type[UpstreamError], key: str = KEY) -> None:
    """Exactly the expected class, and the key nowhere in what a log could print."""
    assert type(error) is kind
    for text in (str(error), repr(error), *map(str, error.args)):
        assert key not in text
    assert error.__cause__ is None


# --- against a real smmpanel server, in both response styles -------------------------------


@dataclass
class Upstream:
    panel: Panel
    key: str
    url: str

    def client(self) -> ApiV2Client:
        return ApiV2Client(self.url, self.key)

    # The operator's side runs its own event loop (Panel.run), so it gets a thread of its own.
    async def service(self, **terms: Any) -> int:
        return await asyncio.to_thread(self.panel.service, **terms)

    async def update_order(self, order_id: int, status: str) -> None:
        await asyncio.to_thread(self.panel.update_order, order_id, status)


@pytest.fixture(params=["perfectpanel", "viralhub"])
def upstream(
    request: pytest.FixtureRequest, database_url: str, start_server: Callable[..., LiveServer]
) -> Iterator[Upstream]:
    server = start_server(api_style=request.param)
    panel = Panel(database_url, server.api_url)
    yield Upstream(panel, panel.customer(balance="100"), server.api_url)
    panel.close()


async def test_services_and_balance(upstream: Upstream) -> None:
    followers = await upstream.service(name="Followers", rate="0.90", min=50, max=10000, description="Real")
    package = await upstream.service(
        name="Likes pack",
        category="TikTok",
        type=ServiceType.PACKAGE,
        rate="1.23456",
        min=1,
        max=1,
        refill=False,
        cancel=False,
    )
    async with upstream.client() as client:
        services = {service.id: service for service in await client.services()}
        balance = await client.balance()
    assert services == {
        followers: UpstreamService(
            followers, "Followers", "Default", "Instagram", 90_000, 50, 10000, True, True, "Real"
        ),
        package: UpstreamService(package, "Likes pack", "Package", "TikTok", 123_456, 1, 1, False, False, ""),
    }
    assert balance == (10_000_000, "USD")


async def test_order_lifecycle(upstream: Upstream) -> None:
    service = await upstream.service(rate="0.90")
    async with upstream.client() as client:
        first = await client.add({"service": str(service), "link": "https://x.test/a", "quantity": "1000"})
        drip = {"service": str(service), "link": "https://x.test/b", "quantity": "100", "runs": "2", "interval": "30"}
        second = await client.add(drip)
        assert await client.statuses([first, second, 999_999, first]) == {
            first: UpstreamOrderStatus(OrderStatus.PENDING, 90_000, 0, 1000, "USD"),
            second: UpstreamOrderStatus(OrderStatus.PENDING, 18_000, 0, 200, "USD"),
            999_999: msg.INCORRECT_ORDER,
        }
        assert await client.balance() == (9_892_000, "USD")

        await upstream.update_order(first, "Completed")
        assert (await client.statuses([first]))[first] == UpstreamOrderStatus(
            OrderStatus.COMPLETED, 90_000, 0, 0, "USD"
        )
        refill = await client.refill(first)
        assert await client.refill_statuses([refill, 999_999]) == {
            refill: RefillStatus.PENDING,
            999_999: msg.REFILL_NOT_FOUND,
        }
        assert await client.cancel([second, first, 999_999]) == {
            second: None,
            first: msg.CANCEL_NOT_AVAILABLE_FOR_ORDER,
            999_999: msg.INCORRECT_ORDER,
        }
        canceled = (await client.statuses([second]))[second]
        assert isinstance(canceled, UpstreamOrderStatus) and canceled.status is OrderStatus.CANCELED
    assert await asyncio.to_thread(upstream.panel.ledger_ok)


async def test_refusals(upstream: Upstream) -> None:
    service = await upstream.service(rate="0.90", min=50)
    async with upstream.client() as client:
        link = {"link": "https://x.test/a"}
        order = await client.add({**link, "service": str(service), "quantity": "50"})
        cases: list[tuple[Callable[[], Awaitable[object]], str]] = [
            (lambda: client.add({**link, "service": str(service), "quantity": "10"}), "Quantity less than minimal 50"),
            (lambda: client.add({**link, "service": "999", "quantity": "100"}), msg.INCORRECT_SERVICE),
            (lambda: client.refill(order), msg.REFILL_NOT_AVAILABLE_FOR_ORDER),
            (lambda: client.refill(999_999), msg.INCORRECT_ORDER),
        ]
        for call, message in cases:
            with pytest.raises(UpstreamRefused) as caught:
                await call()
            assert_clean(caught.value, UpstreamRefused, upstream.key)
            assert caught.value.message == message
    async with ApiV2Client(upstream.url, KEY) as stranger:
        with pytest.raises(UpstreamRefused) as caught:
            await stranger.balance()
        assert caught.value.message == msg.INVALID_KEY


# --- against a provider that misbehaves --------------------------------------------------


@pytest.fixture
def provider() -> Iterator[MisbehavingProvider]:
    server = MisbehavingProvider().start()
    yield server
    server.stop()


@pytest.fixture(params=["httpx", "kept-alive"])
async def client(provider: MisbehavingProvider, request: pytest.FixtureRequest) -> AsyncIterator[ApiV2Client]:
    """httpx, and the engine's lean transport (``smmpanel.providers.transport``): every failure
    below must land in the same class through either."""
    # 1 s for the whole exchange (under a loaded machine's scheduling), well below a 2 s delay.
    lent = KeptAliveTransport(4) if request.param == "kept-alive" else None
    async with ApiV2Client(provider.api_url, KEY, timeout=1.0, connect_timeout=0.5, client=lent) as client:
        yield client
    if lent is not None:
        await lent.aclose()


async def test_requests_are_form_posts_with_the_key(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    provider.answer('{"1": {"status": "Pending"}}')
    await client.statuses([1, 2, 1, 3])
    provider.answer('{"order": 5}')
    await client.add({"service": "3", "link": "https://x.test/a", "comments": "one\ntwo"})
    first, second = provider.received
    assert (first.method, first.content_type) == ("POST", "application/x-www-form-urlencoded")
    assert first.form == {"orders": "1,2,3", "key": KEY, "action": "status"}
    assert second.form == {
        "service": "3",
        "link": "https://x.test/a",
        "comments": "one\ntwo",
        "key": KEY,
        "action": "add",
    }


@pytest.mark.parametrize(
    ("body", "status", "content_type"),
    [
        (f"<html><body>Oops for {KEY}</body></html>", 200, "text/html"),
        ('{"order": 12}', 500, "application/json"),
        ('{"error": "Service Unavailable"}', 503, "application/json"),
        ('{"order": 12}', 302, "application/json"),
        ("", 200, "application/json"),
        ('{"order": 12', 200, "application/json"),
        ('{"order": NaN}', 200, "application/json"),
        (b'{"order": "\xff"}', 200, "application/json"),
    ],
    ids=["html-200", "http-500", "http-503-json-error", "redirect", "empty", "truncated-json", "nan", "not-utf8"],
)
async def test_unreadable_answers_are_ambiguous(
    provider: MisbehavingProvider, client: ApiV2Client, body: str | bytes, status: int, content_type: str
) -> None:
    provider.answer(body, status=status, content_type=content_type)
    with pytest.raises(UpstreamAmbiguous) as caught:
        await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"})
    assert_clean(caught.value, UpstreamAmbiguous)
    assert caught.value.reason.startswith("add: ")


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("balance", "[]"),
        ("balance", '{"balance": 12.5}x'),
        ("balance", '{"balance": "lots", "currency": "USD"}'),
        ("balance", '{"currency": "USD"}'),
        ("add", '[{"order": 1}]'),
        ("add", '{"order": "abc"}'),
        ("add", '{"order": 0}'),
        ("add", "{}"),
        ("add", '{"error": {"code": 7}}'),
        ("services", '{"1": {"name": "x"}}'),
        ("services", '[{"service": 1, "name": "x", "rate": "-1", "min": 1, "max": 2}]'),
        ("services", '[{"service": 1, "name": "x", "rate": "1", "min": "ten", "max": 2}]'),
        ("statuses", '[{"status": "Pending"}]'),
        ("statuses", '{"1": "Pending"}'),
        ("statuses", '{"1": {"status": "Frozen", "charge": "1"}}'),
        ("refill", '{"refill": true}'),
        ("refill", '[{"order": 1, "refill": 1}]'),
        ("refill_statuses", '[{"refill": 1, "status": "Paused"}]'),
        ("cancel", '[{"order": 1, "cancel": 0}]'),
        ("cancel", '{"1": {"cancel": 1}}'),
    ],
)
async def test_wrong_shapes_are_ambiguous(
    provider: MisbehavingProvider, client: ApiV2Client, action: str, body: str
) -> None:
    provider.answer(body)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "balance": client.balance,
        "add": lambda: client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"}),
        "services": client.services,
        "statuses": lambda: client.statuses([1]),
        "refill": lambda: client.refill(1),
        "refill_statuses": lambda: client.refill_statuses([1]),
        "cancel": lambda: client.cancel([1]),
    }
    with pytest.raises(UpstreamAmbiguous) as caught:
        await calls[action]()
    assert_clean(caught.value, UpstreamAmbiguous)


async def test_unknown_status_text_is_ambiguous(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    provider.answer('{"1": {"status": "Completed"}, "2": {"status": "On hold"}}')
    with pytest.raises(UpstreamAmbiguous) as caught:
        await client.statuses([1, 2])
    assert_clean(caught.value, UpstreamAmbiguous)
    assert "'On hold'" in caught.value.reason


async def test_slow_answer_is_ambiguous(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    provider.answer('{"order": 1}', delay=2.0)
    started = time.monotonic()
    with pytest.raises(UpstreamAmbiguous) as caught:
        await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"})
    assert time.monotonic() - started < 1.5
    assert_clean(caught.value, UpstreamAmbiguous)
    assert len(provider.received) == 1  # it arrived: the provider may well have placed the order


async def test_hang_up_is_ambiguous(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    provider.hang_up()
    with pytest.raises(UpstreamAmbiguous) as caught:
        await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"})
    assert_clean(caught.value, UpstreamAmbiguous)
    assert "RemoteProtocolError" in caught.value.reason
    assert len(provider.received) == 1


@pytest.mark.parametrize(
    "body",
    [
        '{"error": "Not enough funds on balance"}',
        '{"error": "Not enough funds on balance", "code": 402}',
    ],
)
async def test_error_answer_is_refused(provider: MisbehavingProvider, client: ApiV2Client, body: str) -> None:
    provider.answer(body)
    with pytest.raises(UpstreamRefused) as caught:
        await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"})
    assert_clean(caught.value, UpstreamRefused)
    assert caught.value.message == "Not enough funds on balance"


async def test_refusals_never_repeat_the_key(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    provider.answer(f'{{"error": "Invalid API key {KEY}"}}')
    with pytest.raises(UpstreamRefused) as caught:
        await client.balance()
    assert_clean(caught.value, UpstreamRefused)
    assert caught.value.message == "Invalid API key ***"
    provider.answer(f'{{"refill": {{"error": "no refill for {KEY}"}}}}')
    with pytest.raises(UpstreamRefused) as caught:
        await client.refill(1)
    assert_clean(caught.value, UpstreamRefused)
    assert caught.value.message == "no refill for ***"


async def test_refused_connection_is_unreachable() -> None:
    with socket.socket() as taken:  # bound but not listening: connecting is refused at once
        taken.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{taken.getsockname()[1]}/api/v2"
        async with ApiV2Client(url, KEY, timeout=0.5, connect_timeout=0.5) as client:
            with pytest.raises(UpstreamUnreachable) as caught:
                await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"})
    assert_clean(caught.value, UpstreamUnreachable)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/api/v2", "127.0.0.1/api/v2", "http://[::1/api/v2"])
async def test_unusable_address_is_unreachable(url: str) -> None:
    async with ApiV2Client(url, KEY) as client:
        with pytest.raises(UpstreamUnreachable) as caught:
            await client.balance()
    assert_clean(caught.value, UpstreamUnreachable)


@pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux dropping SYNs to a full accept queue")
@contextmanager
def never_accepting() -> Iterator[str]:
    """An API URL whose listener's accept queue is full: Linux drops further SYNs, so connecting hangs."""
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        address = full.getsockname()
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(address)
        try:
            yield f"http://127.0.0.1:{address[1]}/api/v2"
        finally:
            for filler in fillers:
                filler.close()


async def test_connect_timeout_is_unreachable() -> None:
    with never_accepting() as url:
        async with ApiV2Client(url, KEY, connect_timeout=0.3) as client:
            with pytest.raises(UpstreamUnreachable) as caught:
                await client.balance()
    assert_clean(caught.value, UpstreamUnreachable)
    assert "could not connect in time" in caught.value.reason


async def test_an_answer_trickling_a_byte_a_second_ends_at_the_overall_deadline_as_ambiguous(
    provider: MisbehavingProvider,
) -> None:
    """httpx's timeout is per read: bytes every 0.1 s never trip its 1 s; the deadline does.
    The stream never ends by itself: without the deadline, the guard below fails the test."""
    provider.trickle(every=0.1)
    async with ApiV2Client(provider.api_url, KEY, timeout=1.0, connect_timeout=0.5) as client, asyncio.timeout(60):
        with pytest.raises(UpstreamAmbiguous) as caught:
            await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"})
    assert_clean(caught.value, UpstreamAmbiguous)
    assert caught.value.reason == "add: no answer in time after the request was sent"


async def test_an_answer_past_its_size_limit_is_refused_unread(provider: MisbehavingProvider) -> None:
    provider.flood(2 * 1024 * 1024)  # valid JSON, if it were read whole
    async with ApiV2Client(provider.api_url, KEY, answer_limit=65_536, catalog_limit=4 * 1024 * 1024) as client:
        with pytest.raises(UpstreamAmbiguous) as caught:
            await client.statuses([1])
        assert caught.value.reason == "status: an answer larger than 65,536 bytes, refused"
        with pytest.raises(UpstreamAmbiguous) as caught:  # read whole (the catalog's limit), not a service list
            await client.services()
        assert "expected a list for the service list" in caught.value.reason


@pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux dropping SYNs to a full accept queue")
async def test_the_deadline_ending_a_connect_is_unreachable() -> None:
    """Nothing was written before the deadline ended the exchange: certainly unsent."""
    with never_accepting() as url:
        async with ApiV2Client(url, KEY, timeout=0.3, connect_timeout=30) as client:
            with pytest.raises(UpstreamUnreachable) as caught:
                await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"})
    assert caught.value.reason == "add: could not connect in time"


# --- what real panels send, read tolerantly -----------------------------------------------


async def test_amounts_are_exact_whatever_their_json_type(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    provider.answer(
        '[{"service": 1, "name": "A", "rate": 0.1, "min": 10, "max": 1000, "refill": 1, "cancel": 0, "dripfeed": true},'
        ' {"service": "2", "name": "B", "type": "Package", "category": "C", "rate": "0.123451", "min": "1",'
        ' "max": "1", "refill": "false", "cancel": true, "description": null},'
        ' {"service": 3, "name": "C", "rate": 1.5e-05, "min": 1.0, "max": 5}]'
    )
    assert await client.services() == [
        UpstreamService(1, "A", "Default", "", 10_000, 10, 1000, True, False, ""),
        UpstreamService(2, "B", "Package", "C", 12_346, 1, 1, False, True, ""),  # a rate rounds up
        UpstreamService(3, "C", "Default", "", 2, 1, 5, False, False, ""),
    ]
    provider.answer('{"balance": 0.1, "currency": "EUR", "extra": [1, 2]}')
    assert await client.balance() == (10_000, "EUR")
    provider.answer('{"balance": "-3.000005"}')
    assert await client.balance() == (-300_001, "")
    provider.answer(
        '{"1": {"charge": 0.1, "start_count": 3572, "status": "Partial", "remains": "157", "currency": "USD"},'
        ' "2": {"charge": "0.123454", "status": "Pending"}, "3": {"charge": 0.123455, "status": "Pending",'
        ' "start_count": "", "remains": null}, "x": 5}'
    )
    assert await client.statuses([1, 2, 3]) == {
        1: UpstreamOrderStatus(OrderStatus.PARTIAL, 10_000, 3572, 157, "USD"),
        2: UpstreamOrderStatus(OrderStatus.PENDING, 12_345, None, None, None),  # a charge rounds half-up
        3: UpstreamOrderStatus(OrderStatus.PENDING, 12_346, None, None, None),
    }


async def test_status_spellings(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    spellings = {
        "Cancelled": OrderStatus.CANCELED,
        "canceled": OrderStatus.CANCELED,
        "In Progress": OrderStatus.IN_PROGRESS,
        "in_progress": OrderStatus.IN_PROGRESS,
        " PROCESSING ": OrderStatus.PROCESSING,
        "completed": OrderStatus.COMPLETED,
    }
    body = ", ".join(f'"{n}": {{"status": "{text}"}}' for n, text in enumerate(spellings, start=1))
    provider.answer(f'{{{body}, "99": {{"error": "Incorrect order ID"}}}}')
    answer = await client.statuses([*range(1, len(spellings) + 1), 99, 100])
    assert {n: s.status for n, s in answer.items() if isinstance(s, UpstreamOrderStatus)} == dict(
        enumerate(spellings.values(), start=1)
    )
    assert answer[99] == "Incorrect order ID"
    assert 100 not in answer  # not mentioned by the provider: nothing to say about it
    provider.answer('{"charge": "0.5", "status": "Completed", "remains": 0}')  # one id, single-order shape
    assert await client.statuses([7]) == {7: UpstreamOrderStatus(OrderStatus.COMPLETED, 50_000, None, 0, None)}


@pytest.mark.parametrize("body", ['{"order": 23501}', '{"order": "23501"}', '\ufeff{"order": 23501, "note": "ok"}'])
async def test_order_id_shapes(provider: MisbehavingProvider, client: ApiV2Client, body: str) -> None:
    provider.answer(body)
    assert await client.add({"service": "1", "link": "https://x.test/a", "quantity": "100"}) == 23501


@pytest.mark.parametrize("body", ['{"refill": "1178"}', '{"refill": 1178}'])
async def test_refill_id_shapes(provider: MisbehavingProvider, client: ApiV2Client, body: str) -> None:
    provider.answer(body)
    assert await client.refill(5) == 1178
    assert provider.received[-1].form == {"order": "5", "key": KEY, "action": "refill"}


async def test_refill_status_shapes(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    provider.answer(
        '[{"refill": 1, "status": "Completed"}, {"refill": "2", "status": "rejected"},'
        ' {"refill": 3, "status": {"error": "Refill not found"}}, {"refill": 4, "status": "In Progress"}]'
    )
    assert await client.refill_statuses([1, 2, 3, 4]) == {
        1: RefillStatus.COMPLETED,
        2: RefillStatus.REJECTED,
        3: "Refill not found",
        4: RefillStatus.IN_PROGRESS,
    }
    provider.answer('{"1": {"status": "Pending"}, "2": "Completed", "3": {"error": "Refill not found"}}')
    assert await client.refill_statuses([1, 2, 3]) == {
        1: RefillStatus.PENDING,
        2: RefillStatus.COMPLETED,
        3: "Refill not found",
    }
    provider.answer('{"status": "Completed"}')
    assert await client.refill_statuses([9]) == {9: RefillStatus.COMPLETED}


async def test_cancel_shapes(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    provider.answer(
        '[{"order": 1, "cancel": 1}, {"order": "2", "cancel": {"status": "success"}},'
        ' {"order": 3, "cancel": {"error": "Incorrect order ID"}},'
        ' {"order": 4, "error": "Cancel not available for this service"}, {"order": 5, "cancel": "1"}]'
    )
    assert await client.cancel([1, 2, 3, 4, 5]) == {
        1: None,
        2: None,
        3: "Incorrect order ID",
        4: "Cancel not available for this service",
        5: None,
    }
    provider.answer('{"error": "Cancel not available for this service"}')
    with pytest.raises(UpstreamRefused):
        await client.cancel([1])


async def test_id_lists_are_checked_before_sending(provider: MisbehavingProvider, client: ApiV2Client) -> None:
    with pytest.raises(ValueError):
        await client.statuses(list(range(1, 102)))
    for bad in ([0], [-1], [True]):
        with pytest.raises(ValueError):
            await client.cancel(bad)
    with pytest.raises(ValueError):
        await client.add({"service": "1", "key": "other"})
    assert await client.statuses([]) == {}
    assert await client.cancel([]) == {}
    assert provider.received == []
    provider.answer("{}")
    assert await client.statuses(list(range(1, 101)) * 2) == {}
    assert provider.received[0].form["orders"] == ",".join(map(str, range(1, 101)))


async def test_repr_hides_the_key_and_a_lent_pool_stays_open(provider: MisbehavingProvider) -> None:
    async with httpx.AsyncClient() as pool:
        client = ApiV2Client(provider.api_url, KEY, client=pool)
        assert KEY not in repr(client)
        assert provider.api_url in repr(client)
        await client.aclose()
        assert not pool.is_closed
        provider.answer('{"balance": "1.00", "currency": "USD"}')
        assert await client.balance() == (100_000, "USD")
