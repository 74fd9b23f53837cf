"""What every page needs, filled in when the panel starts."""

from __future__ import annotations

from dataclasses import dataclass, field

from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.web.throttle import AttemptLimit, LoginThrottle


@dataclass
class WebContext:
    settings: Settings
    db: Database | None = None
    session_secret: str = ""
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    signups: AttemptLimit = field(init=False)

    def __post_init__(self) -> None:
        self.signups = AttemptLimit(self.settings.signup_rate())

    @property
    def database(self) -> Database:
        assert self.db is not None, "the panel has not started"
        return self.db
