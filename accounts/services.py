"""Account operations that change state: socket tickets, accounts and their roles."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import ADMIN_ROLES, Role
from accounts.models import RoleAssignment, SocketTicket, User
from accounts.selectors import forget_roles
from core.errors import PermissionDenied, ValidationFailed


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_socket_ticket(
    *, user, sid: str | None = None, session_key: str | None = None
) -> tuple[str, int]:
    """A new ticket for ``user``: ``(ticket, seconds it stays valid)``.

    The ticket is bound to the login it was fetched with: the password as it
    is now (``accounts.logins.credential_stamp``), the refresh token's id
    ``sid`` (a phone's access token) or the browser's ``session_key``, and the
    time it was issued. Spent tickets and tickets expired for a day are
    removed on the way.
    """
    from accounts.logins import credential_stamp

    lifetime = settings.JINSHAO_SOCKET_TICKET_SECONDS
    now = timezone.now()
    SocketTicket.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    key = secrets.token_urlsafe(32)
    SocketTicket.objects.create(
        key_hash=_digest(key),
        user=user,
        expires_at=now + timedelta(seconds=lifetime),
        # The password as stored now (the caller's object may be older than the row).
        stamp=credential_stamp(User.objects.only("password").get(pk=user.pk)),
        sid=sid or "",
        session_key=session_key or "",
    )
    return key, lifetime


def spend_socket_ticket(key: str) -> tuple[User, dict] | None:
    """``(user, login)`` for a ticket, once; ``None`` if unknown, spent, expired or its login ended.

    ``login`` is what the socket's right hangs on from then on (``scope["login"]``):
    ``{"session": key | None, "login": login id | None, "stamp": str, "since": datetime}``.
    The login has ended, and the ticket opens nothing, when since it was issued
    the account was deactivated, its password changed, the phone's login was
    logged out or revoked (no refresh token of it is left), the browser session
    ended, or the account was locked out.
    """
    from accounts.api.tokens import login_alive, login_id
    from accounts.logins import locked_out_since, session_alive, stamp_matches

    if not key or len(key) > 128:
        return None
    now = timezone.now()
    digest = _digest(key)
    spent = SocketTicket.objects.filter(
        key_hash=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if spent != 1:
        return None
    ticket = SocketTicket.objects.select_related("user").get(key_hash=digest)
    user = ticket.user
    login = {
        "session": ticket.session_key or None,
        "login": login_id(ticket.sid) or None,
        "stamp": ticket.stamp,
        "since": ticket.created_at,
    }
    if not user.is_active or not stamp_matches(user, ticket.stamp):
        return None
    if ticket.sid and not login_alive(user.pk, login_id(ticket.sid)):
        return None
    if ticket.session_key and not session_alive(ticket.session_key, user):
        return None
    if locked_out_since(user.get_username(), ticket.created_at):
        return None
    return user, login


def disable_inactive_accounts(*, days: int | None = None) -> list[str]:
    """Deactivate accounts unused for ``days`` (``JINSHAO_INACTIVE_DAYS``); their usernames.

    An account counts as used when it last logged in, or, never having
    logged in, when it was created. Superusers are left alone (break-glass).
    Each deactivation is audited.
    """
    from django.db import transaction
    from django.db.models import Q

    from audit.services import record

    days = settings.JINSHAO_INACTIVE_DAYS if days is None else days
    if not days:
        return []
    limit = timezone.now() - timedelta(days=days)
    stale = User.objects.filter(is_active=True, is_superuser=False).filter(
        Q(last_login__lt=limit) | Q(last_login__isnull=True, date_joined__lt=limit)
    )
    names = []
    with transaction.atomic():
        for user in stale.select_for_update():
            user.is_active = False
            user.save(update_fields=["is_active"])
            record("account.disabled_inactive", obj=user, details={"days": days})
            names.append(user.get_username())
    return names


# ------------------------------------------------------------------ 三权分立
#
# Roles and accounts change here and nowhere else: the admin (user form, role
# inline, role list), workstations, staff memberships and their spreadsheets,
# and the demo seeder all call these functions. Each one is atomic, takes the
# acting person as ``actor`` (and their address as ``ip``), checks the rules of
# the three administrators before it writes, and writes its audit record.


class SeparationRefused(PermissionDenied):
    """A change the separation of the three administrators forbids; nothing was changed.

    ``code`` names the rule (stable for clients and tests), the message is
    translated for people.
    """

    code = "separation_refused"


#: Account fields only a superuser may change (they grant permissions directly).
SUPERUSER_ONLY_FIELDS = frozenset({"is_superuser", "groups", "user_permissions"})

_role_service: ContextVar[bool] = ContextVar("jinshao_role_service", default=False)


def role_write_is_audited_by_service() -> bool:
    """True while a function of this module writes role rows (and their audit records).

    ``audit.receivers`` records role rows written any other way (the shell, a
    fixture), so no write escapes the log and none is recorded twice.
    """
    return _role_service.get()


@contextmanager
def _writing_roles():
    token = _role_service.set(True)
    try:
        yield
    finally:
        _role_service.reset(token)


def _refuse(code: str, message) -> SeparationRefused:
    return SeparationRefused(message, code=code)


def held_roles(user, *, excluding: int | None = None) -> set[str]:
    """The roles ``user`` holds as stored (none for an unsaved account)."""
    if user is None or user.pk is None:
        return set()
    held = RoleAssignment.objects.filter(user_id=user.pk)
    if excluding is not None:
        held = held.exclude(pk=excluding)
    return set(held.values_list("role", flat=True))


def _stored_superuser(user) -> bool:
    if user is None or user.pk is None:
        return bool(getattr(user, "is_superuser", False))
    stored = User.objects.filter(pk=user.pk).values_list("is_superuser", flat=True).first()
    return bool(stored)


def is_admin_account(user) -> bool:
    """A superuser, or a holder of one of the three administrator roles (as stored)."""
    return _stored_superuser(user) or bool(held_roles(user) & ADMIN_ROLES)


def check_role_set(roles: Iterable[str], *, superuser: bool) -> None:
    """Raise ``SeparationRefused`` unless one account may hold all of ``roles`` together.

    A superuser holds no role; an administrator role stands alone (no second
    administrator role, no business role beside it).
    """
    roles = set(roles)
    admin = roles & ADMIN_ROLES
    if superuser and roles:
        raise _refuse(
            "role.superuser_holds_none",
            _("A superuser account holds no role: use an ordinary account for the work."),
        )
    if len(admin) > 1:
        raise _refuse(
            "role.one_admin_role",
            _("An account may hold only one of the three administrator roles."),
        )
    if admin and roles - ADMIN_ROLES:
        raise _refuse(
            "role.admin_holds_no_business_role",
            _(
                "An administrator account holds no business role, and a business account "
                "no administrator role: use separate accounts."
            ),
        )


#: Besides ``accounts.<action>_roleassignment``, the permissions that let the
#: configuration of workstations and staff nominate people for these roles.
_NOMINATING_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.COMMANDER: ("grids.add_workstation", "grids.change_workstation"),
    Role.GRID_LEADER: ("grids.add_workstation", "grids.change_workstation"),
    Role.STAFF: ("departments.add_staffmembership", "departments.change_staffmembership"),
}


def _check_actor_may(actor, user, role: str, action: str) -> None:
    """The actor-side rules for granting (``add``), changing or revoking (``delete``) ``role``."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise _refuse("role.not_allowed", _("Roles are granted by a known person only."))
    if user is not None and user.pk is not None and user.pk == actor.pk:
        raise _refuse(
            "role.own",
            _("Nobody changes their own roles: ask another security administrator or a superuser."),
        )
    if role in ADMIN_ROLES:
        if not actor.is_superuser:
            raise _refuse(
                "role.admin_by_superuser",
                _("Only a superuser grants or removes the three administrator roles."),
            )
        return
    allowed = (f"accounts.{action}_roleassignment", *_NOMINATING_PERMISSIONS.get(role, ()))
    if not any(actor.has_perm(perm) for perm in allowed):
        raise _refuse("role.not_allowed", _("You may not grant or remove this role."))


def check_grant(
    user, role: str, *, actor, superuser: bool | None = None, replacing: int | None = None
) -> None:
    """Raise ``SeparationRefused`` unless ``actor`` may give ``user`` the role ``role``.

    ``superuser`` overrides the stored flag (a form about to change it);
    ``replacing`` is the id of an assignment the new one takes the place of.
    """
    _check_actor_may(actor, user, role, "add")
    flag = _stored_superuser(user) if superuser is None else superuser
    check_role_set(held_roles(user, excluding=replacing) | {role}, superuser=flag)


def check_revoke(assignment: RoleAssignment, *, actor) -> None:
    """Raise ``SeparationRefused`` unless ``actor`` may take ``assignment`` away."""
    _check_actor_may(actor, assignment.user, assignment.role, "delete")


def check_roles_edit(
    user,
    *,
    keep: Iterable[str],
    add: Iterable[str],
    remove: Iterable[RoleAssignment],
    actor,
    superuser: bool | None = None,
) -> None:
    """Raise ``SeparationRefused`` unless ``actor`` may edit ``user``'s roles at once so:

    ``remove`` the stored assignments, ``add`` new roles, and end up with
    ``keep`` plus ``add`` (a role list edited in one form).
    """
    for assignment in remove:
        check_revoke(assignment, actor=actor)
    for role in add:
        _check_actor_may(actor, user, role, "add")
    flag = _stored_superuser(user) if superuser is None else superuser
    check_role_set({*keep, *add}, superuser=flag)


def may_alter_assignment(assignment: RoleAssignment, *, actor) -> bool:
    """Whether ``actor`` may change or take away ``assignment`` (the admin's test)."""
    try:
        check_revoke(assignment, actor=actor)
    except SeparationRefused:
        return False
    return True


def check_nomination(
    user, role: str, *, area=None, department=None, actor, grant: bool = True
) -> None:
    """Raise unless ``user`` may be named to a post that carries ``role`` (workstation, staff).

    Only existing, ordinary accounts are named: never an administrator
    account, never the actor. A person who already holds the role over the
    scope needs no grant; ``grant=False`` checks the person only (a post that
    carries no role, such as a deputy commander).
    """
    if user is None or user.pk is None:
        _check_nomination(user, role, area, department, actor, grant, set(), False)
        return
    held = set(
        RoleAssignment.objects.filter(user_id=user.pk).values_list(
            "role", "area_id", "department_id"
        )
    )
    _check_nomination(user, role, area, department, actor, grant, held, _stored_superuser(user))


def nomination_checker(users: Iterable, role: str, *, actor):
    """``check_nomination`` for many people at once (a staff import): two queries here,
    none per check.

    ``users``: saved accounts; returns ``check(user, *, area=None, department=None,
    grant=True)``, which raises as ``check_nomination`` does, judged on the roles and
    superuser flags stored when the checker was made.
    """
    ids = {u.pk for u in users if u is not None and u.pk is not None}
    held: dict[int, set[tuple]] = {pk: set() for pk in ids}
    for user_id, *scope in RoleAssignment.objects.filter(user_id__in=ids).values_list(
        "user_id", "role", "area_id", "department_id"
    ):
        held[user_id].add(tuple(scope))
    superusers = set(
        User.objects.filter(pk__in=ids, is_superuser=True).values_list("pk", flat=True)
    )

    def check(user, *, area=None, department=None, grant: bool = True) -> None:
        known = user is not None and user.pk in held
        _check_nomination(
            user,
            role,
            area,
            department,
            actor,
            grant,
            held[user.pk] if known else set(),
            known and user.pk in superusers,
        )

    return check


def _check_nomination(
    user, role, area, department, actor, grant: bool, held: set[tuple], superuser: bool
) -> None:
    """``check_nomination`` on the person's stored roles ``held`` ((role, area id,
    department id) each) and stored superuser flag."""
    if user is None:
        return
    if user.pk is None:
        raise _refuse("role.unknown_person", _("Only existing accounts are named to a post."))
    if superuser or {r for r, _a, _d in held} & ADMIN_ROLES:
        raise _refuse(
            "role.admin_holds_no_business_role",
            _("%(person)s is an administrator account and cannot be named to this post.")
            % {"person": user},
        )
    if user.pk == getattr(actor, "pk", None):
        raise _refuse("role.own", _("Nobody names themselves to a post that carries a role."))
    scope = (role, getattr(area, "pk", None), getattr(department, "pk", None))
    if grant and scope not in held:
        _check_actor_may(actor, user, role, "add")
        check_role_set({r for r, _a, _d in held} | {role}, superuser=superuser)


def _describe(assignment: RoleAssignment) -> dict:
    return {
        "user": assignment.user.get_username(),
        "user_id": assignment.user_id,
        "role": assignment.role,
        "area": assignment.area.code if assignment.area is not None else None,
        "department": assignment.department.code if assignment.department is not None else None,
    }


def _lock(user) -> None:
    """Take grants to one person one at a time (PostgreSQL row lock; SQLite serialises)."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def grant_role(
    user, role: str, *, area=None, department=None, actor, ip: str | None = None, via: str = "admin"
) -> RoleAssignment:
    """Give ``user`` the role ``role`` over ``area`` or ``department``; audited ``role.granted``.

    ``via`` says which page or import asked (``admin``, ``workstation``,
    ``staff``…). Raises ``SeparationRefused`` (nothing changed) when a rule of
    the three administrators forbids it, ``ValidationFailed`` when the scope
    does not fit the role.
    """
    from audit.services import record

    with transaction.atomic(), _writing_roles():
        _lock(user)
        check_grant(user, role, actor=actor)
        assignment = RoleAssignment(user=user, role=role, area=area, department=department)
        try:
            assignment.full_clean()
        except ValidationError as error:
            raise ValidationFailed(
                " ".join(error.messages), fields=getattr(error, "message_dict", {})
            ) from None
        assignment.save()
        record(
            "role.granted",
            actor=actor,
            ip=ip,
            obj=assignment,
            details=_describe(assignment) | {"via": via},
        )
    forget_roles(user)
    return assignment


def ensure_role(
    user, role: str, *, area=None, department=None, actor, ip: str | None = None, via: str
) -> RoleAssignment:
    """The person's existing assignment of ``role`` over the scope, or a new one (``grant_role``)."""
    existing = RoleAssignment.objects.filter(
        user=user, role=role, area=area, department=department
    ).first()
    if existing is not None:
        return existing
    return grant_role(user, role, area=area, department=department, actor=actor, ip=ip, via=via)


def revoke_role(
    assignment: RoleAssignment, *, actor, ip: str | None = None, via: str = "admin"
) -> None:
    """Take a role away; audited ``role.revoked``. Raises ``SeparationRefused`` (nothing changed)."""
    from audit.services import record

    with transaction.atomic(), _writing_roles():
        _lock(assignment.user)
        check_revoke(assignment, actor=actor)
        details = _describe(assignment) | {"via": via, "id": assignment.pk}
        record("role.revoked", actor=actor, ip=ip, obj=assignment, details=details)
        assignment.delete()
    forget_roles(assignment.user)


def change_role(
    assignment: RoleAssignment,
    *,
    user,
    role: str,
    area=None,
    department=None,
    actor,
    ip: str | None = None,
) -> RoleAssignment:
    """Change a stored assignment in place: as taking the old one away and granting the new.

    ``assignment`` may carry unsaved edits; what is stored is what is revoked.
    Audited ``role.changed`` with both sides.
    """
    from audit.services import record

    stored = RoleAssignment.objects.select_related("user", "area", "department").get(
        pk=assignment.pk
    )
    with transaction.atomic(), _writing_roles():
        _lock(stored.user)
        _lock(user)
        check_revoke(stored, actor=actor)
        before = _describe(stored)
        check_grant(user, role, actor=actor, replacing=stored.pk)
        stored.user, stored.role, stored.area, stored.department = user, role, area, department
        try:
            stored.full_clean()
        except ValidationError as error:
            raise ValidationFailed(
                " ".join(error.messages), fields=getattr(error, "message_dict", {})
            ) from None
        stored.save()
        record(
            "role.changed",
            actor=actor,
            ip=ip,
            obj=stored,
            details={"before": before, "after": _describe(stored), "via": "admin"},
        )
    forget_roles(user)
    return stored


def grant_roles(
    assignments: list[RoleAssignment], *, actor, ip: str | None = None, via: str
) -> list[RoleAssignment]:
    """``grant_role`` for many assignments at once (a staff import), in a fixed number of
    queries: the same rules, one ``role.granted`` record per assignment as ``grant_role``
    writes it, in the given order.

    ``assignments``: unsaved, each with its saved ``user`` and its scope; judged in order
    as if granted one after the other. Raises ``SeparationRefused`` or ``ValidationFailed``
    for the first one refused, and nothing is written. Returns them, saved.
    """
    from collections import defaultdict

    from audit.services import record_many

    if not assignments:
        return []
    users = {a.user.pk: a.user for a in assignments}
    with transaction.atomic(), _writing_roles():
        list(  # the lock of ``_lock``, for everyone at once, in a fixed order
            User.objects.select_for_update()
            .filter(pk__in=sorted(users))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        held: dict[int, set[tuple]] = defaultdict(set)
        for user_id, *stored in RoleAssignment.objects.filter(user_id__in=users).values_list(
            "user_id", "role", "area_id", "department_id"
        ):
            held[user_id].add(tuple(stored))
        superusers = set(
            User.objects.filter(pk__in=users, is_superuser=True).values_list("pk", flat=True)
        )
        for assignment in assignments:
            user_id = assignment.user.pk
            _check_actor_may(actor, assignment.user, assignment.role, "add")
            roles = {r for r, _a, _d in held[user_id]} | {assignment.role}
            check_role_set(roles, superuser=user_id in superusers)
            scope = (assignment.role, assignment.area_id, assignment.department_id)
            try:
                # The accounts and scopes are saved objects: no query to check they exist.
                assignment.full_clean(
                    exclude=["user", "area", "department"],
                    validate_unique=False,
                    validate_constraints=False,
                )
                if scope in held[user_id]:  # held already: the constraint words it
                    assignment.validate_constraints()
            except ValidationError as error:
                raise ValidationFailed(
                    " ".join(error.messages), fields=getattr(error, "message_dict", {})
                ) from None
            held[user_id].add(scope)
        RoleAssignment.objects.bulk_create(assignments, batch_size=500)
        record_many(
            [
                {
                    "action": "role.granted",
                    "actor": actor,
                    "ip": ip,
                    "obj": assignment,
                    "details": _describe(assignment) | {"via": via},
                }
                for assignment in assignments
            ]
        )
    for user in users.values():
        forget_roles(user)
    return assignments


def revoke_roles(
    assignments: list[RoleAssignment], *, actor, ip: str | None = None, via: str
) -> None:
    """``revoke_role`` for many assignments at once: the same rules, one ``role.revoked``
    record each as ``revoke_role`` writes it, in a fixed number of queries. Raises
    ``SeparationRefused`` for the first one refused, and nothing is changed."""
    from audit.services import record_many

    if not assignments:
        return
    users = {a.user.pk: a.user for a in assignments}
    with transaction.atomic(), _writing_roles():
        list(
            User.objects.select_for_update()
            .filter(pk__in=sorted(users))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for assignment in assignments:
            check_revoke(assignment, actor=actor)
        record_many(
            [
                {
                    "action": "role.revoked",
                    "actor": actor,
                    "ip": ip,
                    "obj": assignment,
                    "details": _describe(assignment) | {"via": via, "id": assignment.pk},
                }
                for assignment in assignments
            ]
        )
        RoleAssignment.objects.filter(pk__in=[a.pk for a in assignments]).delete()
    for user in users.values():
        forget_roles(user)


def grant_roles_in_bulk(
    assignments: list[RoleAssignment], *, actor, ip: str | None = None, via: str
) -> int:
    """Give many roles at once (the demo seeder); one ``role.granted_in_bulk`` record.

    Only a superuser does this. The same rules hold as for ``grant_role``:
    every account's roles, those it holds and those given here together, are
    checked before anything is written; nobody is given a role by themselves.
    Returns how many were written.
    """
    from collections import Counter, defaultdict

    from audit.services import record

    if actor is None or not actor.is_superuser:
        raise _refuse("role.admin_by_superuser", _("Only a superuser grants roles in bulk."))
    by_user: dict[int, set[str]] = defaultdict(set)
    for a in assignments:
        if a.user_id == actor.pk:
            raise _refuse(
                "role.own",
                _(
                    "Nobody changes their own roles: ask another security administrator or a superuser."
                ),
            )
        by_user[a.user_id].add(a.role)
    for user_id, role in RoleAssignment.objects.filter(user_id__in=by_user).values_list(
        "user_id", "role"
    ):
        by_user[user_id].add(role)
    superusers = set(
        User.objects.filter(pk__in=by_user, is_superuser=True).values_list("pk", flat=True)
    )
    for user_id, roles in by_user.items():
        check_role_set(roles, superuser=user_id in superusers)
    with transaction.atomic(), _writing_roles():
        RoleAssignment.objects.bulk_create(assignments, batch_size=500)
        admins = sorted(
            [a.user.get_username(), a.role] for a in assignments if a.role in ADMIN_ROLES
        )
        record(
            "role.granted_in_bulk",
            actor=actor,
            ip=ip,
            details={
                "via": via,
                "count": len(assignments),
                "roles": dict(Counter(str(a.role) for a in assignments)),
                "administrators": admins,
            },
        )
    return len(assignments)


# ------------------------------------------------------------------ accounts


def _check_admin_account_managed(user, *, actor) -> None:
    if not actor.is_superuser and is_admin_account(user):
        raise _refuse(
            "account.admin_by_superuser",
            _(
                "Only a superuser creates, edits, resets or deactivates the accounts of "
                "the three administrators and of superusers."
            ),
        )


def check_account_change(user, *, fields: Iterable[str], actor, superuser: bool = False) -> None:
    """Raise ``SeparationRefused`` unless ``actor`` may change ``fields`` of ``user``.

    ``user`` without a primary key is an account being created (``superuser``
    is then its requested flag). The actor may not change their own account
    here (their own password has its own page), an administrator's or a
    superuser's account unless a superuser, nor ``SUPERUSER_ONLY_FIELDS``.
    """
    fields = set(fields)
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise _refuse("account.not_allowed", _("Accounts are changed by a known person only."))
    if user is not None and user.pk is not None and user.pk == actor.pk:
        raise _refuse(
            "account.own",
            _(
                "Nobody changes their own account here: change your own password on "
                "the password page; anything else, ask the security administrator."
            ),
        )
    if not actor.is_superuser and (fields & SUPERUSER_ONLY_FIELDS or superuser):
        raise _refuse(
            "account.superuser_fields",
            _("Only a superuser changes superuser status, groups and permissions."),
        )
    if user is not None and user.pk is not None:
        _check_admin_account_managed(user, actor=actor)
        if "is_superuser" in fields and held_roles(user):
            check_role_set(held_roles(user), superuser=True)
    if user is None or user.pk is None:
        perm = "accounts.add_user"
    else:
        perm = "accounts.delete_user" if "deleted" in fields else "accounts.change_user"
    if not actor.has_perm(perm):
        raise _refuse("account.not_allowed", _("You may not manage accounts."))


def may_manage_account(user, *, actor) -> bool:
    """Whether ``actor`` may change, reset or deactivate ``user`` at all (the admin's test)."""
    try:
        check_account_change(user, fields=(), actor=actor)
    except SeparationRefused:
        return False
    return True


def create_account(user: User, *, actor, ip: str | None = None) -> User:
    """Save a new account built by a form (its password already set); audited ``account.created``."""
    from audit.services import record

    with transaction.atomic():
        check_account_change(None, fields=(), actor=actor, superuser=user.is_superuser)
        if not actor.is_superuser:
            user.is_superuser = False
        user.save()
        record(
            "account.created",
            actor=actor,
            ip=ip,
            obj=user,
            details={"username": user.get_username(), "superuser": user.is_superuser},
        )
    return user


def update_account(user: User, *, fields: Iterable[str], actor, ip: str | None = None) -> User:
    """Save the named ``fields`` of ``user`` (edited in memory by a form); audited ``account.changed``.

    Many-to-many fields among ``fields`` are checked here and saved by the
    form afterwards. Raises ``SeparationRefused`` with nothing saved.
    """
    from audit.services import record

    fields = list(fields)
    with transaction.atomic():
        _lock(user)
        check_account_change(user, fields=fields, actor=actor)
        if "is_superuser" in fields and user.is_superuser:
            check_role_set(held_roles(user), superuser=True)
        concrete = {f.name for f in User._meta.concrete_fields}
        to_save = [f for f in fields if f in concrete]
        if to_save:
            user.save(update_fields=to_save)
        record(
            "account.changed",
            actor=actor,
            ip=ip,
            obj=user,
            details={"fields": sorted(fields), "values": {f: getattr(user, f) for f in to_save}},
        )
    return user


def reset_password(user: User, raw_password: str | None, *, actor, ip: str | None = None) -> User:
    """Set another person's password (``None``: no usable password); audited ``account.password_reset``."""
    from audit.services import record

    with transaction.atomic():
        _lock(user)
        check_account_change(user, fields=("password",), actor=actor)
        if raw_password is None:
            user.set_unusable_password()
        else:
            user.set_password(raw_password)
        user.save(update_fields=["password", "password_changed_at"])
        record(
            "account.password_reset",
            actor=actor,
            ip=ip,
            obj=user,
            details={"usable": raw_password is not None},
        )
    return user


def delete_account(user: User, *, actor, ip: str | None = None) -> None:
    """Remove an account and, each audited, its roles; audited ``account.deleted``."""
    from audit.services import record

    with transaction.atomic():
        _lock(user)
        check_account_change(user, fields=("deleted",), actor=actor)
        for assignment in RoleAssignment.objects.filter(user=user).select_related(
            "user", "area", "department"
        ):
            revoke_role(assignment, actor=actor, ip=ip)
        record(
            "account.deleted",
            actor=actor,
            ip=ip,
            obj=user,
            details={"username": user.get_username()},
        )
        user.delete()
