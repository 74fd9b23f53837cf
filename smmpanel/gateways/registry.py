"""Which gateway kinds exist: every ``Gateway`` subclass in a module of this package.

An adapter is added by writing its module, nothing else: no list to edit. The kind name is
the class's ``kind``; the CLI's ``gateway add KIND`` and the dashboard's forms read this.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import smmpanel.gateways as package
from smmpanel.gateways.base import Gateway, GatewaySetup

_NOT_ADAPTERS = frozenset({"base", "registry"})


def _concrete(classes: list[type[Gateway]]) -> list[type[Gateway]]:
    """Every non-abstract class among ``classes`` and their subclasses."""
    found = []
    for cls in classes:
        if not getattr(cls, "__abstractmethods__", None):
            found.append(cls)
        found.extend(_concrete(cls.__subclasses__()))
    return found


@cache
def kinds() -> dict[str, type[Gateway]]:
    """Kind name → adapter class, sorted by name."""
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _NOT_ADAPTERS:
            importlib.import_module(f"{package.__name__}.{module.name}")
    ours = [cls for cls in _concrete(Gateway.__subclasses__()) if cls.__module__.startswith(package.__name__ + ".")]
    found = {cls.kind: cls for cls in ours}
    return dict(sorted(found.items()))


def adapter_class(kind: str) -> type[Gateway]:
    """The adapter of ``kind``; ValueError naming the kinds there are."""
    try:
        return kinds()[kind]
    except KeyError:
        raise ValueError(f"unknown gateway kind {kind!r}: use one of {', '.join(kinds())}") from None


def build(kind: str, setup: GatewaySetup) -> Gateway:
    return adapter_class(kind)(setup)
