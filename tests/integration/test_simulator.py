"""The provider simulator over real HTTP: the upstream the demo, the tests and the benchmarks lean on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from smmpanel.domain.catalog import ServiceType
from smmpanel.money import format_amount, parse_amount, per_thousand_charge, proportional_refund
from smmpanel.providers.simulator import SimulatorSettings, create_simulator_app
from tests.support.simulator import LiveSimulator, live_simulator

LINK = "https://x.test/post"
SLOW = 600.0
"""A step so long that nothing moves on its own during a test."""
DEFAULT, PACKAGE, COMMENTS, POLL = 1, 2, 3, 7
SERVICE_FIELDS = ["service", "name", "type", "category", "rate", "min", "max", "refill", "cancel", "description"]


@pytest.fixture
def slow() -> Iterator[LiveSimulator]:
    with live_simulator(seconds_per_step=SLOW, balance="10.00", seed=1) as simulator:
        yield simulator


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until ``check`` answers something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting for the simulator"
        time.sleep(0.02)


def status_when(simulator: LiveSimulator, order: int, wanted: set[str]) -> Any:
    def check() -> Any:
        answer = simulator.call("status", order=order)
        return answer if answer["status"] in wanted else None

    return wait_for(check)


def balance(simulator: LiveSimulator) -> str:
    return str(simulator.call("balance")["balance"])


# catalog


@pytest.mark.parametrize("style", ["perfectpanel", "viralhub"])
def test_services_offer_every_type_in_the_style_asked(style: str) -> None:
    with live_simulator(style=style) as simulator:
        services = simulator.call("services")
    assert [item["type"] for item in services] == [kind.value for kind in ServiceType]
    count = str if style == "perfectpanel" else int
    for item in services:
        assert list(item) == SERVICE_FIELDS
        assert type(item["service"]) is int
        assert format_amount(parse_amount(item["rate"])) == item["rate"]
        assert type(item["min"]) is count and type(item["max"]) is count
        assert int(item["min"]) <= int(item["max"])
        assert item["description"]
    default = services[0]
    assert (default["refill"], default["cancel"]) == (True, True)


# add, charge, balance


def test_add_charges_exactly_and_the_balance_follows(slow: LiveSimulator) -> None:
    assert slow.call("add", service=DEFAULT, link=LINK, quantity=1234) == {"order": 1}
    assert slow.call("add", service=PACKAGE, link=LINK) == {"order": 2}
    assert slow.call("add", service=COMMENTS, link=LINK, comments="nice\r\ngreat\n\n  wow  ") == {"order": 3}
    assert slow.call("status", order=1) == {
        "charge": "1.1106",
        "start_count": "0",
        "status": "Pending",
        "remains": "1234",
        "currency": "USD",
    }
    assert slow.call("status", order=3)["charge"] == "0.036"
    # 10.00 - 1.1106 - 2.50 - 0.036
    assert balance(slow) == "6.3534"
    stats = slow.stats()
    assert (stats["add_calls"], stats["orders_total"], stats["charged"]) == (3, 3, "3.6466")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"service": DEFAULT, "link": LINK, "quantity": 10}, "Quantity less than minimal 50"),
        ({"service": DEFAULT, "link": LINK, "quantity": 100_001}, "Quantity more than maximum 100000"),
        ({"service": DEFAULT, "link": LINK, "quantity": "12.5"}, "Incorrect quantity"),
        ({"service": DEFAULT, "quantity": 100}, "Incorrect link"),
        ({"service": 99, "link": LINK, "quantity": 100}, "Incorrect service ID"),
        ({"service": DEFAULT, "link": LINK, "quantity": 100, "runs": 0, "interval": 5}, "Incorrect runs"),
        ({"service": POLL, "link": LINK, "quantity": 100}, "Incorrect answer number"),
        ({"service": DEFAULT, "link": LINK, "quantity": 20_000}, "Not enough funds on balance"),
    ],
)
def test_add_refuses_like_the_server_and_moves_no_money(
    slow: LiveSimulator, params: dict[str, Any], error: str
) -> None:
    assert slow.call("add", **params) == {"error": error}
    assert balance(slow) == "10.00"
    assert slow.stats()["orders_total"] == 0


def test_refuse_rate_one_refuses_every_add() -> None:
    with live_simulator(refuse_rate=1.0, balance="50.00") as simulator:
        for _ in range(5):
            assert simulator.call("add", service=DEFAULT, link=LINK, quantity=100) == {
                "error": "Not enough funds on balance"
            }
        assert balance(simulator) == "50.00"
        stats = simulator.stats()
    assert (stats["add_calls"], stats["orders_total"], stats["charged"]) == (5, 0, "0.00")


def test_error_rate_one_answers_html_500() -> None:
    with live_simulator(error_rate=1.0) as simulator:
        for action in ("balance", "add", "services"):
            response = simulator.post(key=simulator.settings.api_key, action=action, service=DEFAULT, link=LINK)
            assert response.status_code == 500
            assert response.headers["content-type"].startswith("text/html")
            assert "Internal Server Error" in response.text
        stats = simulator.stats()
    assert (stats["errors_served"], stats["add_calls"], stats["orders_total"]) == (3, 1, 0)


def test_wrong_key_and_unknown_action() -> None:
    with live_simulator(api_key="right") as simulator:
        assert simulator.call("balance", key="wrong") == {"error": "Invalid API key"}
        assert simulator.call("add", key="", service=DEFAULT, link=LINK, quantity=100) == {"error": "Invalid API key"}
        assert simulator.call("fly") == {"error": "Incorrect request"}
        assert simulator.stats()["orders_total"] == 0


# progress


def test_orders_progress_to_completed_on_their_own() -> None:
    with live_simulator(seconds_per_step=0.05) as simulator:
        order = simulator.call("add", service=DEFAULT, link=LINK, quantity=1000)["order"]
        seen: list[str] = []

        def completed() -> Any:
            answer = simulator.call("status", order=order)
            if not seen or seen[-1] != answer["status"]:
                seen.append(answer["status"])
            return answer if answer["status"] == "Completed" else None

        final = wait_for(completed)
        assert balance(simulator) == "99999.10"
    assert final["remains"] == "0" and final["charge"] == "0.90"
    assert seen == [status for status in ("Pending", "In progress", "Completed") if status in seen]


def test_timeline_steps_exactly_with_the_clock() -> None:
    """Pending for one step, In progress with start count and falling remains for one, then done."""
    now = [0]
    app = create_simulator_app(SimulatorSettings(seconds_per_step=1.0, seed=3))
    simulator = app.state.simulator
    simulator.clock = lambda: now[0]
    simulator.handle({"key": "simulator-key", "action": "add", "service": "1", "link": LINK, "quantity": "1000"}, 0)

    def status_at(moment: int) -> Any:
        return simulator.handle({"key": "simulator-key", "action": "status", "order": "1"}, moment)

    assert status_at(999_999_999) == {
        "charge": "0.90",
        "start_count": "0",
        "status": "Pending",
        "remains": "1000",
        "currency": "USD",
    }
    early, late = status_at(1_250_000_000), status_at(1_750_000_000)
    assert early["status"] == late["status"] == "In progress"
    assert (early["remains"], late["remains"]) == ("750", "250")
    assert early["start_count"] == late["start_count"] != "0"
    assert status_at(2_000_000_000)["status"] == "Completed"
    assert status_at(2_000_000_000)["remains"] == "0"


def test_zero_step_finishes_on_the_next_read() -> None:
    with live_simulator(seconds_per_step=0) as simulator:
        simulator.call("add", service=DEFAULT, link=LINK, quantity=100)
        assert simulator.call("status", order=1)["status"] == "Completed"


def test_partial_refunds_exactly_what_remains() -> None:
    with live_simulator(seconds_per_step=0.05, partial_rate=1.0, balance="10.00", seed=11) as simulator:
        simulator.call("add", service=DEFAULT, link=LINK, quantity=777)
        final = status_when(simulator, 1, {"Partial", "Completed"})
        assert final["status"] == "Partial"
        remains = int(final["remains"])
        assert 0 < remains < 777
        charge = per_thousand_charge(parse_amount("0.90"), 777)
        assert final["charge"] == format_amount(charge)
        refund = proportional_refund(charge, remains, 777)
        assert balance(simulator) == format_amount(parse_amount("10.00") - charge + refund)
        stats = simulator.stats()
    assert stats["orders"]["Partial"] == 1
    assert stats["refunded"] == format_amount(refund)


def test_the_same_seed_tells_the_same_story() -> None:
    def story() -> list[Any]:
        with live_simulator(seconds_per_step=0, partial_rate=0.5, refuse_rate=0.2, seed=42) as simulator:
            answers = [simulator.call("add", service=DEFAULT, link=LINK, quantity=500) for _ in range(8)]
            orders = ",".join(str(answer["order"]) for answer in answers if "order" in answer)
            return [answers, simulator.call("status", orders=orders), balance(simulator)]

    assert story() == story()


# status


def test_status_of_many_orders(slow: LiveSimulator) -> None:
    slow.call("add", service=DEFAULT, link=LINK, quantity=100)
    answer = slow.call("status", orders="1, 9,abc,1")
    assert list(answer) == ["1", "9", "abc"]
    assert answer["1"]["status"] == "Pending"
    assert answer["9"] == answer["abc"] == {"error": "Incorrect order ID"}
    assert slow.call("status", order=9) == {"error": "Incorrect order ID"}
    assert slow.call("status", orders=",".join(map(str, range(1, 102)))) == {"error": "Too many ids (max 100)"}


def test_viralhub_status_counts_are_numbers() -> None:
    with live_simulator(style="viralhub", seconds_per_step=SLOW) as simulator:
        simulator.call("add", service=DEFAULT, link=LINK, quantity=100)
        assert simulator.call("status", order=1) == {
            "charge": "0.09",
            "start_count": 0,
            "status": "Pending",
            "remains": 100,
            "currency": "USD",
        }


# cancel


def test_cancel_before_delivery_refunds_everything(slow: LiveSimulator) -> None:
    slow.call("add", service=DEFAULT, link=LINK, quantity=1000)
    slow.call("add", service=PACKAGE, link=LINK)
    assert slow.call("cancel", orders="1,2,5") == [
        {"order": 1, "cancel": 1},
        {"order": 2, "cancel": {"error": "Cancel not available for this service"}},
        {"order": 5, "cancel": {"error": "Incorrect order ID"}},
    ]
    assert slow.call("status", order=1)["status"] == "Canceled"
    assert slow.call("status", order=1)["remains"] == "1000"
    assert balance(slow) == "7.50"
    assert slow.call("cancel", order=1) == [{"order": 1, "cancel": {"error": "Cancel not available for this order"}}]
    assert balance(slow) == "7.50"


def test_cancel_during_delivery_ends_partial_with_its_refund(slow: LiveSimulator) -> None:
    slow.call("add", service=DEFAULT, link=LINK, quantity=1000)
    assert slow.force(1, status="In progress", start_count=50, remains=333).status_code == 200
    assert slow.call("cancel", orders="1") == [{"order": 1, "cancel": 1}]
    assert slow.call("status", order=1) == {
        "charge": "0.90",
        "start_count": "50",
        "status": "Partial",
        "remains": "333",
        "currency": "USD",
    }
    # 10.00 - 0.90 + 0.90 × 333 / 1000 rounded down (0.2997)
    assert balance(slow) == "9.3997"


def test_viralhub_cancel_success_shape() -> None:
    with live_simulator(style="viralhub", seconds_per_step=SLOW) as simulator:
        simulator.call("add", service=DEFAULT, link=LINK, quantity=100)
        assert simulator.call("cancel", order=1) == [{"order": 1, "cancel": {"status": "success"}}]


# refill


def test_refill_and_its_status() -> None:
    with live_simulator(seconds_per_step=0.05) as simulator:
        simulator.call("add", service=DEFAULT, link=LINK, quantity=100)
        simulator.call("add", service=PACKAGE, link=LINK)
        assert simulator.call("refill", order=1) == {"error": "Refill not available for this order"}
        status_when(simulator, 1, {"Completed"})
        assert simulator.call("refill", order=1) == {"refill": "1"}
        assert simulator.call("refill", order=1) == {"refill": "1"}  # still open: the same refill
        assert simulator.call("refill", order=2) == {"error": "Refill not available for this service"}
        assert simulator.call("refill", order=7) == {"error": "Incorrect order ID"}
        wait_for(lambda: simulator.call("refill_status", refill=1) == {"status": "Completed"})
        assert simulator.call("refill", orders="1,2,7") == [
            {"order": 1, "refill": 2},
            {"order": 2, "refill": {"error": "Refill not available for this service"}},
            {"order": 7, "refill": {"error": "Incorrect order ID"}},
        ]
        assert simulator.call("refill_status", refill=9) == {"error": "Refill not found"}
        answer = simulator.call("refill_status", refills="1,9")
    assert answer == [{"refill": 1, "status": "Completed"}, {"refill": 9, "status": {"error": "Refill not found"}}]


def test_viralhub_single_refill_is_a_number() -> None:
    with live_simulator(style="viralhub", seconds_per_step=0) as simulator:
        simulator.call("add", service=DEFAULT, link=LINK, quantity=100)
        assert simulator.call("refill", order=1) == {"refill": 1}


# test-only control


def test_forcing_scripts_exact_outcomes(slow: LiveSimulator) -> None:
    slow.call("add", service=DEFAULT, link=LINK, quantity=1000)
    slow.call("add", service=DEFAULT, link=LINK, quantity=500)
    assert slow.force(1, status="Partial", start_count=42, remains=250).json() == {
        "charge": "0.90",
        "start_count": "42",
        "status": "Partial",
        "remains": "250",
        "currency": "USD",
    }
    assert slow.force(2, status="Completed").json()["remains"] == "0"
    # 10.00 - 0.90 - 0.45 + 0.225
    assert balance(slow) == "8.875"
    refused = slow.force(1, status="Completed")
    assert (refused.status_code, refused.json()) == (400, {"error": "Order is already Partial"})
    assert slow.force(1, remains=1001).status_code == 400
    assert slow.force(1, status="Lost").status_code == 400
    assert slow.force(9, status="Completed").status_code == 404
    assert balance(slow) == "8.875"
    stats = slow.stats()
    assert stats["orders"] == {
        "Pending": 0,
        "In progress": 0,
        "Processing": 0,
        "Completed": 1,
        "Partial": 1,
        "Canceled": 0,
    }
    assert (stats["charged"], stats["refunded"], stats["balance"]) == ("1.35", "0.225", "8.875")


def test_stats_count_every_add_call_once(slow: LiveSimulator) -> None:
    slow.call("add", service=DEFAULT, link=LINK, quantity=100)
    slow.call("add", service=DEFAULT, link=LINK, quantity=1)
    slow.call("status", order=1)
    stats = slow.stats()
    assert (stats["add_calls"], stats["orders_total"], stats["calls"]) == (2, 1, {"add": 2, "status": 1})


def test_concurrent_adds_charge_each_order_exactly_once() -> None:
    with live_simulator(seconds_per_step=SLOW, balance="1.00") as simulator:

        def add(_: int) -> Any:
            return simulator.call("add", service=DEFAULT, link=LINK, quantity=100)  # 0.09 each

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(add, range(20)))
        placed = sorted(answer["order"] for answer in answers if "order" in answer)
        assert placed == list(range(1, 12))  # 11 × 0.09 = 0.99 fits, the twelfth does not
        assert answers.count({"error": "Not enough funds on balance"}) == 9
        assert balance(simulator) == "0.01"


def test_order_and_refill_ids_survive_a_restart_with_a_state_file(tmp_path: Path) -> None:
    """The demo's provider never gives an id twice: the panel would hold the second order for the operator."""
    state = tmp_path / "simulator.json"
    with live_simulator(seconds_per_step=0, state_file=str(state)) as simulator:
        assert simulator.call("add", service=DEFAULT, link=LINK, quantity=100) == {"order": 1}
        assert simulator.call("add", service=DEFAULT, link=LINK, quantity=100) == {"order": 2}
        assert simulator.call("refill", order=1) == {"refill": "1"}
    with live_simulator(seconds_per_step=0, state_file=str(state)) as restarted:
        assert restarted.call("add", service=DEFAULT, link=LINK, quantity=100) == {"order": 3}
        assert restarted.call("refill", order=3) == {"refill": "2"}
        assert restarted.call("status", order=1) == {"error": "Incorrect order ID"}  # its orders are gone, not reused
    with live_simulator(seconds_per_step=0) as without_a_file:  # tests and benchmarks: from 1 every run
        assert without_a_file.call("add", service=DEFAULT, link=LINK, quantity=100) == {"order": 1}
