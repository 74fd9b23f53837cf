"""smmpanel: an open-source SMM reseller panel server speaking API v2."""

__version__ = "0.1.0"
