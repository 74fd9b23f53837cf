"""Who may do what on the operator's side: roles, named permissions, and which role holds which.

A page or a form of the admin dashboard names the one permission it needs; a role either
holds it or the page does not exist for that role (a 404, like an unknown address).
Pure: no I/O, so the table below is the whole truth about access.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    SUPPORT = "support"
    FINANCE = "finance"
    CUSTOMER = "customer"


class Permission(StrEnum):
    TICKETS = "tickets"
    ORDERS_READ = "orders.read"
    ORDERS_WRITE = "orders.write"
    REFUNDS = "refunds"
    CUSTOMERS_READ = "customers.read"
    CUSTOMERS_WRITE = "customers.write"
    IMPERSONATE = "impersonate"
    FUNDS = "funds"
    PAYMENTS = "payments"
    REPORTS = "reports"
    CATALOG = "catalog"
    PROVIDERS = "providers"
    AUDIT = "audit"
    SETTINGS = "settings"
    STAFF = "staff"


STAFF_ROLES = (Role.OWNER, Role.ADMIN, Role.SUPPORT, Role.FINANCE)
"""The roles that open the admin dashboard; everyone else is a customer."""

TWO_FACTOR_ROLES = frozenset({Role.OWNER, Role.ADMIN})
"""The roles that must use two-factor login once the owner requires it."""

_EVERYTHING = frozenset(Permission)

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: _EVERYTHING,
    Role.ADMIN: _EVERYTHING - {Permission.STAFF, Permission.SETTINGS},
    Role.SUPPORT: frozenset({Permission.TICKETS, Permission.ORDERS_READ, Permission.CUSTOMERS_READ}),
    Role.FINANCE: frozenset(
        {
            Permission.PAYMENTS,
            Permission.FUNDS,
            Permission.REFUNDS,
            Permission.REPORTS,
            Permission.CUSTOMERS_READ,  # to find whom to fund
            Permission.ORDERS_READ,  # to find what to refund
        }
    ),
    Role.CUSTOMER: frozenset(),
}


def parse_role(text: str) -> Role | None:
    """The role named ``text`` (any case), or None."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        return None


def is_staff(role: str) -> bool:
    return role in STAFF_ROLES


def may(role: str, permission: Permission | str) -> bool:
    """Whether ``role`` holds ``permission``; an unknown role or permission holds nothing."""
    known = parse_role(role)
    return known is not None and permission in GRANTS[known]
