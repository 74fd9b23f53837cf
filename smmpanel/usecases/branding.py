"""The panel's branding and public rules, kept in ``panel_settings`` and read by every page.

Every process reads them through the ``settings`` cache topic (``smmpanel.db.cache``): a change
shows at once in the process that made it and within the cache's seconds (2 by default) in
every other one, with no restart.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from smmpanel.db.cache import SETTINGS
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import branding as rules
from smmpanel.domain.branding import Branding, SignupMode, ThemeMode
from smmpanel.errors import Refused
from smmpanel.usecases.audit import Audit, audited


@dataclass(frozen=True)
class Field:
    """One setting the operator writes: its stored name and the rule its value must pass."""

    key: str
    check: Callable[[str], str]


FIELDS: dict[str, Field] = {
    "name": Field("brand_name", rules.checked_name),
    "primary": Field("brand_primary", lambda text: rules.checked_colour(text, "Primary colour")),
    "accent": Field("brand_accent", lambda text: rules.checked_colour(text, "Accent colour")),
    "theme": Field("brand_theme", lambda text: rules.checked_choice(ThemeMode, text, "Theme").value),
    "signup": Field("signup_mode", lambda text: rules.checked_choice(SignupMode, text, "Sign-up").value),
    "time_zone": Field("time_zone", rules.checked_time_zone),
    "contact": Field("contact_text", lambda text: rules.checked_text(text, "The contact page")),
    "terms": Field("terms_text", lambda text: rules.checked_text(text, "The terms")),
}
"""What ``update`` (the dashboard's form, ``smmpanel settings set``) may change, by short name."""


@dataclass(frozen=True)
class Image:
    data: bytes
    content_type: str
    version: str


IMAGES = {"logo": ("Logo", rules.LOGO_MAX_BYTES), "favicon": ("Favicon", rules.FAVICON_MAX_BYTES)}
_IMAGE_KEYS = [f"{kind}_{part}" for kind in IMAGES for part in ("type", "version")]
_KEYS = [field.key for field in FIELDS.values()]


def _branding(stored: dict[str, str]) -> Branding:
    default = Branding()
    values = {name: stored.get(field.key) for name, field in FIELDS.items()}
    return Branding(
        name=values["name"] or default.name,
        primary=values["primary"] or default.primary,
        accent=values["accent"] or default.accent,
        theme=ThemeMode(values["theme"] or default.theme),
        signup=SignupMode(values["signup"] or default.signup),
        time_zone=values["time_zone"] or default.time_zone,
        contact=values["contact"] or "",
        terms=values["terms"] or "",
        logo_version=stored.get("logo_version", ""),
        favicon_version=stored.get("favicon_version", ""),
    )


async def current(db: Database) -> Branding:
    """The branding every page shows (cached: see the module's docstring)."""

    async def load() -> Branding:
        async with db.read() as repos:
            return _branding(await repos.settings.many([*_KEYS, *_IMAGE_KEYS]))

    return await db.cached(SETTINGS).fetch("branding", load, db.cache_seconds)


def stored_values(branding: Branding) -> dict[str, str]:
    """The branding as the short names of ``FIELDS`` map it (for the form and ``settings show``)."""
    return {
        "name": branding.name,
        "primary": branding.primary,
        "accent": branding.accent,
        "theme": branding.theme.value,
        "signup": branding.signup.value,
        "time_zone": branding.time_zone,
        "contact": branding.contact,
        "terms": branding.terms,
    }


async def update(db: Database, changes: dict[str, str], *, audit: Audit | None = None) -> None:
    """Check every value first (``Refused`` names the first bad one, nothing is stored), then store
    the changed ones in one transaction, each change audited in it."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise Refused("Unknown setting %(name)r: choose one of %(names)s", name=unknown[0], names=", ".join(FIELDS))
    checked = {FIELDS[name].key: FIELDS[name].check(value) for name, value in changes.items()}
    async with db.write() as repos:
        before = await repos.settings.many(list(checked))
        for key, value in checked.items():
            if before.get(key, "") != value:
                await repos.settings.put(key, value)
                await audited(
                    repos, audit, "setting.update", f"setting {key}", {"value": before.get(key)}, {"value": value}
                )


async def save_image(db: Database, kind: str, data: bytes, *, audit: Audit | None = None) -> None:
    """Keep an uploaded logo or favicon; only PNG, JPEG, WebP and ICO pass (sniffed, never SVG)."""
    label, max_bytes = IMAGES[kind]
    content_type = rules.checked_image(data, label, max_bytes)
    version = hashlib.sha256(data).hexdigest()[:12]
    async with db.write() as repos:
        await repos.settings.put(f"{kind}_data", base64.b64encode(data).decode("ascii"))
        await repos.settings.put(f"{kind}_type", content_type)
        await repos.settings.put(f"{kind}_version", version)
        facts = {"type": content_type, "bytes": len(data), "version": version}
        await audited(repos, audit, "setting.update", f"setting {kind}", None, facts)


async def remove_image(db: Database, kind: str, *, audit: Audit | None = None) -> None:
    """Back to the built-in look (the panel's name, the default favicon)."""
    async with db.write() as repos:
        version = await repos.settings.get(f"{kind}_version")
        if not version:
            return
        for part in ("data", "type", "version"):
            await repos.settings.put(f"{kind}_{part}", "")
        await audited(repos, audit, "setting.update", f"setting {kind}", {"version": version}, None)


async def image(db: Database, kind: str) -> Image | None:
    """The uploaded image of this kind, or None when there is none (cached like the branding)."""

    async def load() -> Image | None:
        async with db.read() as repos:
            stored = await repos.settings.many([f"{kind}_data", f"{kind}_type", f"{kind}_version"])
        if not stored.get(f"{kind}_data"):
            return None
        data = base64.b64decode(stored[f"{kind}_data"])
        return Image(data, stored[f"{kind}_type"], stored[f"{kind}_version"])

    return await db.cached(SETTINGS).fetch(("image", kind), load, db.cache_seconds)
