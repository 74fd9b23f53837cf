"""Amounts to and from the gateways' decimal strings: exact both ways, refused rather than rounded."""

from __future__ import annotations

import pytest

from smmpanel.errors import Refused
from smmpanel.gateways.paypal import paypal_value
from smmpanel.gateways.wire import decimal_text, parse_decimal
from smmpanel.money import AmountError, parse_amount


@pytest.mark.parametrize(
    ("amount", "places", "text"),
    [
        ("0.01", 2, "0.01"),
        ("10", 2, "10.00"),
        ("12.5", 2, "12.50"),
        ("99.99", 2, "99.99"),
        ("1000000", 2, "1000000.00"),
        ("9999999999999.99", 2, "9999999999999.99"),
        ("1000", 0, "1000"),
        ("1", 0, "1"),
    ],
)
def test_amounts_are_written_with_the_gateways_decimals(amount: str, places: int, text: str) -> None:
    assert decimal_text(parse_amount(amount), places) == text
    assert parse_decimal(text) == parse_amount(amount)


@pytest.mark.parametrize(("amount", "places"), [("0.005", 2), ("10.00001", 2), ("12.34567", 2), ("1.5", 0), ("0", 2)])
def test_an_amount_the_gateway_cannot_take_exactly_is_refused(amount: str, places: int) -> None:
    with pytest.raises(Refused, match="cannot be paid here"):
        decimal_text(parse_amount(amount), places)


def test_paypal_takes_cents_except_in_zero_decimal_currencies() -> None:
    assert paypal_value(parse_amount("10.01"), "USD") == "10.01"
    assert paypal_value(parse_amount("500"), "JPY") == "500"
    with pytest.raises(Refused):
        paypal_value(parse_amount("500.50"), "JPY")


@pytest.mark.parametrize(
    ("text", "units"),
    [("15.50000000", 1_550_000), ("0.00001000", 1), ("3", 300_000), ("12.34567", 1_234_567)],
)
def test_a_gateways_long_decimals_are_read_exactly(text: str, units: int) -> None:
    assert parse_decimal(text) == units


@pytest.mark.parametrize("text", ["12.345671", "0.000001", "1e3", "-5.00", " 5", "5,00", "", "١٢", None, 5])
def test_a_gateway_figure_the_panel_would_have_to_round_or_guess_is_not_believed(text: object) -> None:
    with pytest.raises(AmountError):
        parse_decimal(text)
