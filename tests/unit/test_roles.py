"""The roles of the brief, permission by permission: the table a reader of the README relies on."""

from __future__ import annotations

from smmpanel.domain.roles import GRANTS, Permission, Role, is_staff, may, parse_role

P = Permission


def test_each_role_holds_exactly_what_the_issue_says() -> None:
    assert GRANTS[Role.OWNER] == set(Permission)
    assert GRANTS[Role.ADMIN] == set(Permission) - {P.STAFF, P.SETTINGS}
    assert GRANTS[Role.SUPPORT] == {P.TICKETS, P.ORDERS_READ, P.CUSTOMERS_READ}
    assert GRANTS[Role.FINANCE] == {P.PAYMENTS, P.FUNDS, P.REFUNDS, P.REPORTS, P.CUSTOMERS_READ, P.ORDERS_READ}
    assert GRANTS[Role.CUSTOMER] == set()


def test_unknown_roles_and_permissions_hold_nothing() -> None:
    assert may("owner", "staff") and may("support", P.TICKETS)
    assert not may("support", "funds") and not may("finance", "settings")
    assert not may("root", "staff") and not may("owner", "everything")
    assert parse_role(" Finance ") is Role.FINANCE and parse_role("boss") is None
    assert [is_staff(r) for r in ("owner", "admin", "support", "finance", "customer", "")] == [True] * 4 + [False] * 2
