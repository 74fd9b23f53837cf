"""The panel's own look and rules for strangers: name, colours, images, signup mode, time zone.

Pure rules, no I/O: what an operator may store, and how an uploaded image is recognised
(by its first bytes, never by the name or content type a browser claims).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TypeVar
from zoneinfo import available_timezones

from smmpanel.errors import Refused

NAME_MAX = 48
TEXT_MAX = 20_000
LOGO_MAX_BYTES = 256 * 1024
FAVICON_MAX_BYTES = 64 * 1024
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
)
E = TypeVar("E", bound=StrEnum)


class SignupMode(StrEnum):
    OPEN = "open"
    INVITE = "invite"
    CLOSED = "closed"


class ThemeMode(StrEnum):
    AUTO = "auto"
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True)
class Branding:
    """What every page shows; ``*_version`` changes with each upload, so browsers fetch it anew."""

    name: str = "smmpanel"
    primary: str = "#4f46e5"
    accent: str = "#a5b4fc"
    theme: ThemeMode = ThemeMode.LIGHT
    signup: SignupMode = SignupMode.OPEN
    time_zone: str = "UTC"
    contact: str = ""
    terms: str = ""
    logo_version: str = ""
    favicon_version: str = ""

    @property
    def version(self) -> str:
        """Changes whenever the stylesheet of colours would: a cache-buster for /theme.css."""
        return f"{self.primary[1:]}{self.accent[1:]}{self.theme.value[0]}".lower()


def checked_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise Refused("The panel name must not be empty")
    if len(name) > NAME_MAX:
        raise Refused("The panel name is too long (at most %(name_max)s characters)", name_max=NAME_MAX)
    return name


def checked_colour(text: str, label: str) -> str:
    """``#rrggbb`` only: the value goes into a stylesheet, so nothing else may pass."""
    colour = text.strip()
    if not _COLOUR.fullmatch(colour):
        raise Refused("%(label)s: write a colour as #rrggbb, e.g. #4f46e5", label=label)
    return colour.lower()


def checked_time_zone(text: str) -> str:
    """An IANA zone name that this machine's zone database knows, e.g. Europe/Berlin."""
    name = text.strip()
    if name != "UTC" and name not in _zone_names():
        raise Refused("Unknown time zone %(name)r: write an IANA name such as Europe/Berlin", name=name[:64])
    return name


@cache
def _zone_names() -> frozenset[str]:
    """Read once: the zone database does not change while the panel runs."""
    return frozenset(available_timezones())


def checked_choice(kind: type[E], text: str, label: str) -> E:
    try:
        return kind(text)
    except ValueError:
        raise Refused(
            "%(label)s: choose one of %(choices)s", label=label, choices=", ".join(member.value for member in kind)
        ) from None


def checked_text(text: str, label: str) -> str:
    """Operator-written text shown as plain paragraphs (never as markup)."""
    cleaned = text.replace("\r\n", "\n").strip()
    if len(cleaned) > TEXT_MAX:
        raise Refused("%(label)s is too long (at most %(text_max)s characters)", label=label, text_max=TEXT_MAX)
    return cleaned


def image_type(data: bytes) -> str | None:
    """The content type of a PNG, JPEG, WebP or ICO file by its magic bytes; None for anything else
    (SVG and HTML above all: they can carry script)."""
    for magic, content_type in _IMAGE_MAGIC:
        if data.startswith(magic):
            return content_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked_image(data: bytes, label: str, max_bytes: int) -> str:
    """The content type of an acceptable upload; ``Refused`` says why one is not."""
    if not data:
        raise Refused("%(label)s: choose a file to upload", label=label)
    if len(data) > max_bytes:
        raise Refused("%(label)s is too large (at most %(kb)s KB)", label=label, kb=max_bytes // 1024)
    content_type = image_type(data)
    if content_type is None:
        raise Refused("%(label)s: upload a PNG, JPEG, WebP or ICO image", label=label)
    return content_type


def paragraphs(text: str) -> list[str]:
    """Blank-line-separated paragraphs, for showing operator text as escaped plain text."""
    return [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
