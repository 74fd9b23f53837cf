"""Text that may hold markup from outside (a provider's HTML error page), shown as plain text.

Autoescaping alone keeps such markup harmless but shows it as a wall of tags; this keeps only
the words a person reads (a page's text, its entities decoded), in one line.
"""

from __future__ import annotations

from html.parser import HTMLParser

_UNSHOWN = frozenset({"script", "style", "head"})


class _Words(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._title = True
        elif tag in _UNSHOWN:
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._title = False
        elif tag in _UNSHOWN and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if self._title or not self._skipping:  # a page's title says what went wrong; the rest of <head> does not
            self.parts.append(data)


def plain_text(text: str | None) -> str:
    """``text`` without its tags, entities decoded, whitespace in one space: to be escaped as usual."""
    if not text:
        return ""
    words = _Words()
    words.feed(text)
    words.close()
    return " ".join(" ".join(words.parts).split())
