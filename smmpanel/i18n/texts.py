"""Finds the texts a person reads in a template that no ``_()`` wraps yet.

The template is cut by Jinja2's own lexer (so ``{{ }}``, ``{% %}`` and comments are never mistaken for
text); what is left is HTML, read with a small state machine: text between tags, and the values of the
attributes people read (``placeholder``, ``title``, ``aria-label``, ``alt``, ``data-confirm``). A *run* is
what a sentence is made of: text and ``{{ values }}`` up to the next tag or ``{% block %}``. The guard test
fails on every run with letters; ``smmpanel.i18n.wrap`` rewrites each into one ``{{ _("…", name=value) }}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

READ_ATTRIBUTES = frozenset({"placeholder", "title", "aria-label", "alt", "data-confirm"})
ALLOWED = frozenset({"smmpanel", "smm", "panel"})  # the brand, not a word to translate
# Addresses and sample values: a colour (#4f46e5), a currency code (EUR), a time zone (Europe/Berlin).
_NOT_WORDS = re.compile(r"://|^[\w-]+(\.[\w-]+)+$|^\d+:[A-Z-]+…$|^#[0-9a-fA-F]{6}$|^[A-Z]{3}$|^[A-Z][a-z]+/[A-Za-z_]+$")
TRANSLATING_CALLS = ("_(", "gettext(", "ngettext(", "translate(")
RAW_ELEMENTS = ("script", "style", "pre", "code")  # code and samples: never translated
_ENTITY = re.compile(r"&#?\w+;")
_lexer = jinja2.Environment(extensions=["jinja2.ext.i18n"], keep_trailing_newline=True)


@dataclass(frozen=True, slots=True)
class Value:
    """A ``{{ expression }}`` inside a run: its place in the source and its expression's text."""

    start: int
    end: int
    expression: str


@dataclass
class Run:
    """Text and values read together; ``parts`` hold (start, end) spans of text and ``Value``s, in order."""

    line: int
    in_attribute: bool
    parts: list[tuple[int, int] | Value] = field(default_factory=list)

    def text(self, source: str) -> str:
        return "".join(source[part[0] : part[1]] for part in self.parts if isinstance(part, tuple))

    def needs_translation(self, source: str) -> bool:
        words = _ENTITY.sub("", self.text(source)).strip()
        if _NOT_WORDS.search(words) or re.sub(r"\W", "", words) in ALLOWED:
            return False
        return any(char.isalpha() for char in words)


@dataclass(frozen=True, slots=True)
class _Unit:
    kind: str  # "data", "value", "block", "other"
    start: int
    end: int
    line: int
    detail: str = ""  # a value's expression, a block's tag name


def _units(source: str, name: str) -> Iterator[_Unit]:
    """The template as data and whole Jinja constructs, each with its offsets in ``source``."""
    offset, opened, opened_at, line_at, inner = 0, "", 0, 1, []
    for line, token, text in _lexer.lexer.tokeniter(source, name):
        start, offset = offset, offset + len(text)
        if opened:
            inner.append((token, text))
            if token in {"variable_end", "block_end", "comment_end", "raw_end"}:
                words = [value for kind, value in inner if kind == "name"]
                if opened == "variable_begin":
                    body = "".join(value for _, value in inner[:-1]).strip()
                    yield _Unit("value", opened_at, offset, line_at, body)
                elif opened == "block_begin":
                    yield _Unit("block", opened_at, offset, line_at, words[0] if words else "")
                else:
                    yield _Unit("other", opened_at, offset, line_at)
                opened, inner = "", []
        elif token in {"variable_begin", "block_begin", "comment_begin", "raw_begin"}:
            opened, opened_at, line_at = token, start, line
        elif token == "data":
            yield _Unit("data", start, offset, line)
        else:
            yield _Unit("other", start, offset, line)


class _Reader:
    """The HTML state machine: collects runs of text and of read attributes' values."""

    def __init__(self, source: str, *, markup: bool) -> None:
        self.source, self.markup = source, markup
        self.runs: list[Run] = []
        self.run: Run | None = None
        self.in_tag = False
        self.tag = ""  # the tag being read: its text so far
        self.quote = ""  # inside a quoted attribute value
        self.attribute = ""
        self.raw_until = ""  # inside <script>/<style>: the closing tag

    def close(self) -> None:
        if self.run is not None and self.run.parts:
            self.runs.append(self.run)
        self.run = None

    def _add(self, part: tuple[int, int] | Value, line: int, *, in_attribute: bool) -> None:
        if self.run is None:
            self.run = Run(line, in_attribute)
        last = self.run.parts[-1] if self.run.parts else None
        if isinstance(part, tuple) and isinstance(last, tuple) and last[1] == part[0]:
            self.run.parts[-1] = (last[0], part[1])
        else:
            self.run.parts.append(part)

    def value(self, unit: _Unit) -> None:
        translated = unit.detail.startswith(TRANSLATING_CALLS)
        if self.raw_until or translated:
            self.close()
            return
        if not self.in_tag:
            self._add(Value(unit.start, unit.end, unit.detail), unit.line, in_attribute=False)
        elif self.quote and self.attribute in READ_ATTRIBUTES:
            self._add(Value(unit.start, unit.end, unit.detail), unit.line, in_attribute=True)
        else:
            self.tag += "{{}}"

    def data(self, unit: _Unit) -> None:
        line = unit.line
        for index in range(unit.start, unit.end):
            char = self.source[index]
            if self.raw_until:
                self.tag = (self.tag + char)[-len(self.raw_until) :]
                if self.tag.lower() == self.raw_until:
                    self.raw_until, self.tag = "", ""
            elif self.in_tag:
                self._tag_char(char, index, line)
            elif self.markup and char == "<" and self._starts_tag(index):
                self.close()
                self.in_tag, self.tag, self.attribute = True, "", ""
            elif not self.markup and char == "\n":
                self.close()
            else:
                self._add((index, index + 1), line, in_attribute=False)
            line += char == "\n"

    def _starts_tag(self, index: int) -> bool:
        following = self.source[index + 1 : index + 2]
        return following.isalpha() or following in {"/", "!"}

    def _tag_char(self, char: str, index: int, line: int) -> None:
        if self.quote:
            if char == self.quote:
                self.quote = ""
                self.close()
            elif self.attribute in READ_ATTRIBUTES:
                self._add((index, index + 1), line, in_attribute=True)
            self.tag += char
            return
        if char in "\"'":
            self.quote = char
            name = re.findall(r"([\w:-]+)\s*=\s*$", self.tag)
            self.attribute = name[0].lower() if name else ""
        elif char == ">":
            self.in_tag = False
            element = re.match(r"\s*([\w-]+)", self.tag)
            if element and element.group(1).lower() in RAW_ELEMENTS:
                self.raw_until = f"</{element.group(1).lower()}>"
            self.tag = ""
            return
        self.tag += char


def runs(source: str, name: str = "template", *, markup: bool = True) -> list[Run]:
    """Every run of ``source`` (a template's text); ``markup=False`` for plain-text mail templates."""
    reader = _Reader(source, markup=markup)
    in_trans = False
    for unit in _units(source, name):
        if in_trans:
            in_trans = not (unit.kind == "block" and unit.detail == "endtrans")
        elif unit.kind == "data":
            reader.data(unit)
        elif unit.kind == "value":
            reader.value(unit)
        elif not reader.in_tag or reader.quote:  # a {% if %} inside a value splits it too
            reader.close()
            in_trans = unit.kind == "block" and unit.detail == "trans"
    reader.close()
    return reader.runs


def is_markup(path: Path) -> bool:
    return path.suffix != ".txt"


def untranslated(path: Path) -> list[Run]:
    """The runs of the template at ``path`` that still need ``_()``."""
    source = path.read_text(encoding="utf-8")
    return [run for run in runs(source, path.name, markup=is_markup(path)) if run.needs_translation(source)]
