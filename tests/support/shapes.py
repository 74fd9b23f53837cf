"""Compare a live API answer with a documented example by structure and JSON types.

Two answers have the same shape when every object has the same keys in the same
order, every array has as many items, and every value has the same JSON type
(``"50"`` is not ``50``, ``1`` is not ``1.0``, ``true`` is not ``1``). Values
themselves are not compared: tests assert those separately where the data allows.
"""

from __future__ import annotations

import json
from typing import Any


def json_type(value: object) -> str:
    """The JSON type of a decoded value; integers and fractions are told apart."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "fraction"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a decoded JSON value: {value!r}")


def shape_differences(expected: object, actual: object, path: str = "$") -> list[str]:
    """Every place where ``actual`` departs from the shape of ``expected``; empty when none."""
    expected_type, actual_type = json_type(expected), json_type(actual)
    if expected_type != actual_type:
        return [f"{path}: expected {expected_type} like {expected!r}, got {actual_type} {actual!r}"]
    differences: list[str] = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        if list(expected) != list(actual):
            differences.append(f"{path}: expected keys {list(expected)}, got {list(actual)}")
        for name in expected:
            if name in actual:
                differences += shape_differences(expected[name], actual[name], f"{path}.{name}")
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            differences.append(f"{path}: expected {len(expected)} items, got {len(actual)}")
        for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
            differences += shape_differences(want, got, f"{path}[{index}]")
    return differences


def assert_same_shape(expected: object, actual: object) -> None:
    differences = shape_differences(expected, actual)
    assert not differences, "answer differs from the documented example:\n" + "\n".join(differences)


def example(text: str) -> Any:
    """A documented example response, parsed from its text exactly as printed (key order kept)."""
    return json.loads(text)
