"""Pieces every CLI module shares: the parser that fails cleanly, results, argument types."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from smmpanel.money import AmountError, parse_amount

Output = dict[str, Any]


class CliError(Exception):
    """A mistake in the command line itself."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(message)


@dataclass(frozen=True)
class Result:
    """What a command produced: the JSON object, and the lines a person reads instead."""

    data: Output
    text: str


def table(rows: list[Output], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[str(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(widths[i]) for i, column in enumerate(columns))]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in cells]
    return "\n".join(lines)


def amount_arg(text: str) -> int:
    try:
        return parse_amount(text)
    except AmountError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def count_arg(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


def enum_arg(kind: type[Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        for member in kind:
            if member.value.lower() == text.lower():
                return member
        choices = ", ".join(member.value for member in kind)
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: choose one of {choices}")

    return convert
