"""Payment gateway adapters, one module per kind, behind ``smmpanel.gateways.base.Gateway``."""
