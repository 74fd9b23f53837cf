"""One root for every error smmpanel raises on purpose."""


class SmmPanelError(Exception):
    """Base of the errors the panel raises on purpose; never a bug."""


class Refused(SmmPanelError):
    """A request the panel's rules refuse; the message is the exact text shown to the customer."""

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(SmmPanelError):
    """An operator named something (a user, a service, an order) that does not exist."""
