"""``redact``'s quick search lets no line through that the full pattern would have changed.

Most log lines hold an ``=`` or a ``:`` and no secret; ``redact`` looks for a secret name's
ending before it runs the full pattern. Lines made of secret names (in any case, including the
characters that match ASCII letters case-insensitively), separators, quotes and other text must
come out exactly as the full pattern alone makes them.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smmpanel.logging_setup import _SECRETS, _blank, redact

NAMES = ["api_key", "apikey", "key", "password", "passwd", "new_password", "current_password", "token", "secret"]
NAMES += ["csrf_token", "KEY", "Password", "TOKEN", "SeCrEt", "\u212aey", "pa\u017f\u017fword", "monkey", "keys"]
PIECES = st.sampled_from([*NAMES, "=", ":", " : ", '"', "'", "&", " ", "x", "action=", "\u0130", "SECRETVALUE"])
LINES = st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=12).map("".join)


@given(LINES)
def test_redact_changes_what_the_full_pattern_changes_and_nothing_else(line: str) -> None:
    assert redact(line) == _SECRETS.sub(_blank, line)


def test_every_name_with_every_separator_is_judged_as_the_full_pattern_judges_it() -> None:
    for name in NAMES:
        for opening, closing in (("", "="), ("", " = "), ('"', '": '), ("'", "':"), ('"', '"  :'), ("'", "'")):
            line = f"x {opening}{name}{closing}SECRETVALUE&y=1"
            assert redact(line) == _SECRETS.sub(_blank, line), line


def test_the_request_line_passes_unchanged() -> None:
    assert redact("POST /api/v2 action=balance 200 1.2ms") == "POST /api/v2 action=balance 200 1.2ms"
