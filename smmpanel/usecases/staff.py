"""Staff accounts: the owner adds people with a role, changes roles, disables them, resets their 2FA.

A panel always keeps one enabled owner: the last one can be neither demoted nor disabled.
Every change is audited with who made it.
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.db.repositories import Customer, Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.roles import STAFF_ROLES, Permission, Role, is_staff
from smmpanel.errors import NotFound, Refused
from smmpanel.usecases import accounts
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.people import temporary_password
from smmpanel.usecases.sessions import end_user_sessions


@dataclass(frozen=True)
class StaffMember:
    user: Customer
    two_factor: bool


def _staff_role(role: Role | str) -> Role:
    if not is_staff(role):
        raise Refused("role must be one of owner, admin, support, finance")
    return Role(role)


async def _member(repos: Repositories, username: str) -> Customer:
    user = await repos.users.by_username(username)
    if user is None or not user.is_admin:
        raise NotFound(f"no member of staff named {username!r}")
    return user


async def _keep_an_owner(repos: Repositories, user: Customer) -> None:
    """Refuse the change that would leave the panel without an enabled owner."""
    if user.role == Role.OWNER and not user.disabled and await repos.users.enabled_with_role(Role.OWNER) <= 1:
        raise Refused("%(username)s is the only owner: make another owner first", username=user.username)


async def list_staff(db: Database) -> list[StaffMember]:
    async with db.read() as repos:
        users = await repos.users.with_roles(STAFF_ROLES)
        enrolled = await repos.two_factor.confirmed_user_ids([user.id for user in users])
    return [StaffMember(user, user.id in enrolled) for user in users]


async def add_staff(db: Database, username: str, role: Role | str, *, audit: Audit) -> str:
    """A new member of staff; answers their temporary password, shown this once."""
    password = temporary_password()
    await accounts.create_customer(db, username, password=password, staff_role=_staff_role(role), audit=audit)
    return password


async def set_role(db: Database, username: str, role: Role | str, *, audit: Audit) -> None:
    new = _staff_role(role)
    async with db.write() as repos:
        user = await _member(repos, username)
        if new != Role.OWNER:
            await _keep_an_owner(repos, user)
        await repos.users.set_role(user.id, new)
        await audited(repos, audit, "staff.role", f"user {username}", {"role": user.role}, {"role": str(new)})


async def set_disabled(db: Database, username: str, disabled: bool, *, audit: Audit) -> None:
    """A disabled member of staff can no longer log in, and their open sessions end at once."""
    async with db.write() as repos:
        user = await _member(repos, username)
        if disabled:
            await _keep_an_owner(repos, user)
            await end_user_sessions(repos, user.id)
        await repos.users.set_disabled(user.id, disabled)
        action = "staff.disable" if disabled else "staff.enable"
        await audited(repos, audit, action, f"user {username}", {"disabled": user.disabled}, {"disabled": disabled})


async def assign_ticket(db: Database, ticket_id: int, assignee_id: int | None, *, audit: Audit) -> str | None:
    """Give a ticket to a member of staff who handles tickets (None: to nobody); answers their name."""
    async with db.write() as repos:
        ticket = await repos.tickets.get(ticket_id, for_update=True)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        assignee = None if assignee_id is None else await repos.users.by_id(assignee_id)
        if assignee_id is not None and (assignee is None or assignee.disabled or not assignee.may(Permission.TICKETS)):
            raise Refused("Choose a member of staff who handles tickets")
        name = assignee.username if assignee else None
        await repos.tickets.update(ticket_id, {"assigned_to": assignee_id})
        before = {"assigned_to": ticket.assigned_to}
        await audited(repos, audit, "ticket.assign", f"ticket {ticket_id}", before, {"assigned_to": name})
    return name


async def reset_two_factor(db: Database, username: str, *, audit: Audit) -> None:
    """For a lost device: the member's secret and recovery codes go; they enrol again at next login."""
    async with db.write() as repos:
        user = await _member(repos, username)
        await repos.two_factor.remove(user.id)
        await audited(repos, audit, "staff.reset_two_factor", f"user {username}", None, None)
