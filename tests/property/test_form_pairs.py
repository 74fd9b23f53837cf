"""A form body with no escape is split exactly as ``parse_qsl`` splits it (``smmpanel.api.params``)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from smmpanel.api.params import _plain_pairs, _urlencoded

PIECES = st.sampled_from(["key", "action", "orders[]", "=", "&", ";", "", "1", "ä", " ", "==", "&&"])
PLAIN = st.lists(st.one_of(PIECES, st.text(st.characters(blacklist_characters="%+"), max_size=4)), max_size=10)


@given(PLAIN.map("".join))
def test_a_body_without_escapes_splits_as_parse_qsl_splits_it(text: str) -> None:
    assert _plain_pairs(text) == parse_qsl(text, keep_blank_values=True)


def test_an_escaped_body_is_still_decoded() -> None:
    assert _urlencoded(b"link=https%3A%2F%2Fx.test%2Fa+b&action=add") == {"link": "https://x.test/a b", "action": "add"}
