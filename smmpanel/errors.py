"""One root for every error smmpanel raises on purpose."""

from __future__ import annotations


class Phrase(str):
    """English text with ``%(name)s`` placeholders filled, that still knows its template and values.

    It *is* the English string (API v2 and the CLI answer it byte for byte); the dashboard translates
    ``template`` and fills in ``values`` again (``smmpanel.i18n.translated``).
    """

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, **values: object) -> Phrase:
        phrase = super().__new__(cls, template % values if values else template)
        phrase.template, phrase.values = template, values
        return phrase


class SmmPanelError(Exception):
    """Base of the errors the panel raises on purpose; never a bug."""


class Refused(SmmPanelError):
    """A request the panel's rules refuse; the message is the exact text shown to the customer.

    ``Refused("At most %(limit)s orders at once", limit=500)``: values as named placeholders, so that the
    dashboard can show the sentence in the customer's language (the API shows the English one).
    """

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message if isinstance(message, Phrase) else Phrase(message, **values))

    @property
    def message(self) -> Phrase:
        message = self.args[0]
        return message if isinstance(message, Phrase) else Phrase(str(message))


class NotFound(SmmPanelError):
    """An operator named something (a user, a service, an order) that does not exist."""
