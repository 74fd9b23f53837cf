"""The login throttle's counts, on a clock the test moves by hand."""

from __future__ import annotations

from smmpanel.web.throttle import ADDRESS_FAILURES, MAX_KEYS, PAIR_FAILURES, WINDOW_SECONDS, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_guesses_from_anywhere_never_stop_an_address_with_no_failures() -> None:
    throttle = LoginThrottle(Clock())
    for attacker in range(50):
        throttle.failed(f"10.0.0.{attacker}", "boss")
    assert throttle.wait_seconds("192.0.2.1", "boss") == 0
    assert throttle.wait_seconds("192.0.2.1", "BOSS ") == 0


def test_one_address_guessing_one_account_is_stopped_for_the_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(PAIR_FAILURES):
        throttle.failed("10.0.0.1", "Boss")
    assert throttle.wait_seconds("10.0.0.1", "boss") == WINDOW_SECONDS
    assert throttle.wait_seconds("10.0.0.1", "alice") == 0  # another account: a typo elsewhere is no guess here
    clock.now += WINDOW_SECONDS
    assert throttle.wait_seconds("10.0.0.1", "boss") == 0


def test_one_address_guessing_many_accounts_is_stopped() -> None:
    throttle = LoginThrottle(Clock())
    for number in range(ADDRESS_FAILURES):
        throttle.failed("10.0.0.1", f"user{number}")
    assert throttle.wait_seconds("10.0.0.1", "someone-else") == WINDOW_SECONDS
    assert throttle.wait_seconds("10.0.0.2", "someone-else") == 0


def test_a_spread_out_guesser_is_slowed_down_and_the_slowdown_grows() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for attacker in range(5):
        throttle.failed(f"10.0.0.{attacker}", "boss")
    first = throttle.wait_seconds("10.0.0.0", "boss")
    assert 0 < first < WINDOW_SECONDS
    for attacker in range(5, 10):
        throttle.failed(f"10.0.0.{attacker}", "boss")
    assert throttle.wait_seconds("10.0.0.9", "boss") > first
    clock.now += 10_000
    assert throttle.wait_seconds("10.0.0.0", "boss") == 0


def test_a_success_clears_the_slowdown_of_the_account() -> None:
    throttle = LoginThrottle(Clock())
    for attacker in range(5):
        throttle.failed(f"10.0.0.{attacker}", "boss")
    throttle.succeeded("192.0.2.1", "boss")
    assert throttle.wait_seconds("10.0.0.0", "boss") == 0


def test_memory_is_bounded_whatever_it_is_asked_about() -> None:
    throttle = LoginThrottle(Clock(), max_keys=100)
    for number in range(10_000):
        throttle.failed(f"10.{number // 256}.{number % 256}.1", f"user{number}")
    assert throttle.keys_held() == 300
    assert LoginThrottle().keys_held() == 0 and MAX_KEYS >= 1000


def test_a_success_forgives_its_own_attempt_at_the_address() -> None:
    throttle = LoginThrottle(Clock())
    for _ in range(ADDRESS_FAILURES * 2):
        throttle.failed("10.0.0.1", "alice")  # counted before the password is checked …
        throttle.succeeded("10.0.0.1", "alice")  # … and forgiven when it was right
    assert throttle.wait_seconds("10.0.0.1", "bob") == 0
