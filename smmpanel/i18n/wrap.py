"""Wraps every text a template still shows untranslated in ``{{ _("…") }}``: ``make wrap-templates``.

A run ``Order #{{ order.id }} placed`` becomes ``{{ _("Order #%(order_id)s placed", order_id=order.id) }}``:
one msgid per sentence, its values as named placeholders (``%`` doubled, whitespace folded to one space,
the markup around it untouched). Review the diff: a run cut by a tag (``<strong>``) becomes two msgids.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from smmpanel.i18n.texts import Run, Value, is_markup, untranslated

_SIMPLE = re.compile(r"^[A-Za-z_][\w.]*(\|[A-Za-z_]\w*)*$")
_GENERIC = {"id", "name", "count", "code", "value", "status", "amount", "total"}


def _placeholder(expression: str, taken: dict[str, str]) -> str:
    """A name for the value's placeholder: ``order.id`` → ``order_id``, ``user.balance|money`` → ``balance``."""
    path = expression.split("|")[0].strip()
    words = re.findall(r"[A-Za-z_]\w*", path) if _SIMPLE.match(expression) else []
    if not words:
        base = "value"
    elif words[-1] in _GENERIC and len(words) > 1:
        base = f"{words[-2]}_{words[-1]}"
    else:
        base = words[-1]
    name, number = base, 1
    while name in taken and taken[name] != expression:
        number += 1
        name = f"{base}{number}"
    taken[name] = expression
    return name


def _literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def wrapped(run: Run, source: str) -> tuple[int, int, str]:
    """The span of ``run`` to replace (its surrounding whitespace kept) and the ``_()`` call for it."""
    parts = list(run.parts)
    first, last = parts[0], parts[-1]
    start = first.start if isinstance(first, Value) else first[0] + _lead(source[first[0] : first[1]])
    end = last.end if isinstance(last, Value) else last[1] - _trail(source[last[0] : last[1]])
    message, taken, arguments = "", dict[str, str](), list[str]()
    for part in parts:
        if isinstance(part, Value):
            name = _placeholder(part.expression, taken)
            message += f"%({name})s"
            expression = part.expression if _SIMPLE.match(part.expression) else f"({part.expression})"
            if f"{name}=" not in "".join(arguments):
                arguments.append(f", {name}={expression}")
        else:
            message += source[max(part[0], start) : min(part[1], end)].replace("%", "%%")
    message = " ".join(message.split())
    return start, end, '{{ _("' + _literal(message) + '"' + "".join(arguments) + ") }}"


def _lead(text: str) -> int:
    return len(text) - len(text.lstrip())


def _trail(text: str) -> int:
    return len(text) - len(text.rstrip())


def wrap_file(path: Path) -> int:
    """Rewrites ``path`` in place; how many runs it wrapped."""
    source = path.read_text(encoding="utf-8")
    found = untranslated(path)
    for run in sorted(found, key=lambda run: -_span_start(run)):
        start, end, call = wrapped(run, source)
        if not is_markup(path) or run.in_attribute:
            call = call.replace("\n", " ")
        source = source[:start] + call + source[end:]
    path.write_text(source, encoding="utf-8")
    return len(found)


def _span_start(run: Run) -> int:
    first = run.parts[0]
    return first.start if isinstance(first, Value) else first[0]


def main(arguments: list[str]) -> int:
    for name in arguments:
        count = wrap_file(Path(name))
        if count:
            print(f"{name}: {count} texts wrapped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
