"""The operator's email and notification settings, kept as panel settings over the environment's defaults.

Every value here is a row of ``panel_settings`` (shared by every process); where the operator has
set nothing, the ``SMMPANEL_*`` setting of the same meaning (``smmpanel.config``) holds.
The SMTP password and the bot token are needed as they are, so they cannot be hashed; they are
never shown back in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from smmpanel.config import Settings
from smmpanel.db.notify_repositories import REQUIRE_VERIFIED_EMAIL
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.notifications import ALL_EVENTS
from smmpanel.errors import Refused
from smmpanel.notify.mail import TLS_MODES, SmtpSettings
from smmpanel.usecases.audit import Audit, audited

SMTP_HOST = "smtp_host"
SMTP_PORT = "smtp_port"
SMTP_TLS = "smtp_tls"
SMTP_USERNAME = "smtp_username"
SMTP_PASSWORD = "smtp_password"
MAIL_FROM = "mail_from"
PUBLIC_URL = "public_url"
OPERATOR_EMAIL = "operator_email"
TELEGRAM_TOKEN = "telegram_token"
TELEGRAM_CHAT_ID = "telegram_chat_id"
NOTIFY_OFF = "notifications_off"
"""The events the operator turned off, comma-separated: nobody is told of them."""

ON = "on"
SECRETS = (SMTP_PASSWORD, TELEGRAM_TOKEN)


@dataclass(frozen=True)
class NotifySettings:
    smtp: SmtpSettings
    public_url: str = ""
    operator_email: str = ""
    telegram_token: str = ""
    telegram_chat_id: str = ""
    require_verified_email: bool = False
    off: frozenset[str] = field(default_factory=frozenset)

    def masked(self, name: str) -> str:
        """A secret as the settings page shows it: its last four characters at most."""
        value = self.smtp.password if name == SMTP_PASSWORD else self.telegram_token
        return "" if not value else "…" + value[-4:]


_NAMES = (
    SMTP_HOST,
    SMTP_PORT,
    SMTP_TLS,
    SMTP_USERNAME,
    SMTP_PASSWORD,
    MAIL_FROM,
    PUBLIC_URL,
    OPERATOR_EMAIL,
    TELEGRAM_TOKEN,
    TELEGRAM_CHAT_ID,
    REQUIRE_VERIFIED_EMAIL,
    NOTIFY_OFF,
)


def _off(text: str) -> frozenset[str]:
    return frozenset(name for name in (part.strip() for part in text.split(",")) if name)


async def settings_in(repos: Repositories, env: Settings) -> NotifySettings:
    """The settings in force, read in the caller's transaction."""
    got = await repos.notify.stored_settings(_NAMES)
    port = got.get(SMTP_PORT, "")
    smtp = SmtpSettings(
        host=got.get(SMTP_HOST, env.smtp_host),
        port=int(port) if port.isdigit() else env.smtp_port,
        tls=got.get(SMTP_TLS, env.smtp_tls),
        username=got.get(SMTP_USERNAME, env.smtp_username),
        password=got.get(SMTP_PASSWORD, env.smtp_password),
        from_address=got.get(MAIL_FROM, env.mail_from),
        timeout=env.smtp_timeout,
    )
    return NotifySettings(
        smtp=smtp,
        public_url=got.get(PUBLIC_URL, env.public_url or ""),
        operator_email=got.get(OPERATOR_EMAIL, ""),
        telegram_token=got.get(TELEGRAM_TOKEN, ""),
        telegram_chat_id=got.get(TELEGRAM_CHAT_ID, ""),
        require_verified_email=got.get(REQUIRE_VERIFIED_EMAIL) == ON,
        off=_off(got.get(NOTIFY_OFF, "")),
    )


async def notify_settings(db: Database, env: Settings) -> NotifySettings:
    async with db.read() as repos:
        return await settings_in(repos, env)


def _checked(changes: NotifySettings) -> NotifySettings:
    smtp = changes.smtp
    if smtp.tls not in TLS_MODES:
        raise Refused("TLS must be one of %(modes)s", modes=", ".join(TLS_MODES))
    if not 0 < smtp.port < 65536:
        raise Refused("The SMTP port must be a number from 1 to 65535")
    if "@" not in smtp.from_address:
        raise Refused("The From address must be an email address")
    if changes.operator_email and "@" not in changes.operator_email:
        raise Refused("The operator's email must be an email address")
    if changes.public_url and not changes.public_url.startswith(("http://", "https://")):
        raise Refused("The panel's address must start with http:// or https://")
    unknown = changes.off - set(ALL_EVENTS)
    if unknown:
        raise Refused("Unknown notification: %(names)s", names=", ".join(sorted(unknown)))
    return replace(changes, public_url=changes.public_url.rstrip("/"))


def _as_texts(values: NotifySettings) -> dict[str, str]:
    smtp = values.smtp
    return {
        SMTP_HOST: smtp.host.strip(),
        SMTP_PORT: str(smtp.port),
        SMTP_TLS: smtp.tls,
        SMTP_USERNAME: smtp.username,
        SMTP_PASSWORD: smtp.password,
        MAIL_FROM: smtp.from_address.strip(),
        PUBLIC_URL: values.public_url,
        OPERATOR_EMAIL: values.operator_email.strip().lower(),
        TELEGRAM_TOKEN: values.telegram_token.strip(),
        TELEGRAM_CHAT_ID: values.telegram_chat_id.strip(),
        REQUIRE_VERIFIED_EMAIL: ON if values.require_verified_email else "off",
        NOTIFY_OFF: ",".join(sorted(values.off)),
    }


async def save_notify_settings(
    db: Database, env: Settings, changes: NotifySettings, *, audit: Audit | None = None
) -> None:
    """Store every value; the audit entry shows what changed, secrets only as changed or not."""
    wanted = _as_texts(_checked(changes))
    async with db.write() as repos:
        current = _as_texts(await settings_in(repos, env))
        before: dict[str, object] = {}
        after: dict[str, object] = {}
        for name, value in wanted.items():
            if value != current[name]:
                await repos.settings.put(name, value)
                before[name] = "…" if name in SECRETS else current[name]
                after[name] = "changed" if name in SECRETS else value
        if after:
            await audited(repos, audit, "setting.update", "settings notifications", before, after)
