"""Model permissions that come with a role (deny by default: no role, no permission).

The three administrator roles are kept apart (三权分立):
- the system administrator configures the district (areas, workstations,
  departments, staff, categories, templates, criteria), but neither manages
  accounts nor reads the audit log;
- the security administrator manages accounts, roles and lock-outs, and reads
  no case data;
- the audit administrator reads the audit log and changes nothing.

Business roles get what their work in the back office needs. Every list is
still scoped by ``Case.objects.visible_to``.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.backends import BaseBackend

from accounts.choices import Role
from accounts.selectors import role_assignments

ALL = ("view", "add", "change", "delete")


def _perms(models: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    out = set()
    for label, actions in models.items():
        app, model = label.split(".")
        out |= {f"{app}.{action}_{model}" for action in actions}
    return frozenset(out)


Actions = tuple[str, ...]
DISTRICT: dict[str, Actions] = {
    "grids.area": ALL,
    "grids.workstation": ALL,
    "departments.department": ALL,
    "departments.staffmembership": ALL,
    "templates.category": ALL,
    "templates.casetemplate": ALL,
    "templates.templatefield": ALL,
    "ratings.criterion": ALL,
    "cases.holiday": ALL,
    "core.failedtask": ("view", "delete"),
}
ACCOUNTS: dict[str, Actions] = {
    "accounts.user": ALL,
    "accounts.roleassignment": ALL,
    "auth.group": ALL,
    "axes.accessattempt": ("view", "delete"),  # deleting an attempt unlocks
    "axes.accesslog": ("view",),
    "axes.accessfailurelog": ("view",),
    "token_blacklist.outstandingtoken": ("view",),
    "token_blacklist.blacklistedtoken": ("view",),
    # Resetting a lost authenticator is deleting its device.
    "otp_totp.totpdevice": ("view", "delete"),
    "otp_static.staticdevice": ("view", "delete"),
}
INTEGRATIONS: dict[str, Actions] = {
    "integrations.externalsystem": ALL,
    "integrations.categorymapping": ALL,
    "integrations.areamapping": ALL,
    "integrations.delivery": ("view",),
    "integrations.intakereview": ("view", "change"),  # change: resolve or dismiss
    "integrations.externalcase": ("view", "add"),  # add: the one-click import
    "integrations.outboundmessage": ("view", "change"),  # change: retry now
}
CASES_READ: dict[str, Actions] = {
    "cases.case": ("view",),
    "cases.caseevent": ("view",),
    "cases.invitation": ("view",),
    "cases.supervisionorder": ("view",),
    "cases.extensionrequest": ("view",),
    "cases.supervisionstep": ("view",),
}
CASES_WORK: dict[str, Actions] = {
    **CASES_READ,
    "cases.case": ("view", "add", "change"),
    "cases.invitation": ("view", "change"),
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    # The directory's keeper sees staff phones whole (each such read is audited).
    Role.SYSADMIN: _perms({**DISTRICT, **CASES_READ, **INTEGRATIONS})
    | {"departments.view_staff_phone"},
    Role.SECADMIN: _perms(ACCOUNTS),
    Role.AUDITADMIN: _perms({"audit.auditrecord": ("view",)}),
    Role.AUDITOR: _perms(
        {
            **CASES_READ,
            "ratings.rating": ("view",),
            "chat.message": ("view",),
            "chat.attachment": ("view",),
        }
    ),
    Role.LEADER: _perms(CASES_READ),
    Role.GRID_LEADER: _perms(CASES_READ),
    Role.COMMANDER: _perms(CASES_WORK),
    Role.VILLAGE_OFFICIAL: _perms(CASES_WORK),
    Role.STAFF: _perms(CASES_READ),
    Role.DEPARTMENT_HEAD: _perms(CASES_READ),
}

_CACHE = "_jinshao_role_permissions"


class RolePermissionBackend(BaseBackend):
    """Grants the permissions of a person's roles; authenticates nobody."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not (user_obj and user_obj.is_active and not user_obj.is_anonymous):
            return set()
        cached = getattr(user_obj, _CACHE, None)
        if cached is None:
            cached = set()
            for assignment in role_assignments(user_obj):
                cached |= ROLE_PERMISSIONS.get(assignment.role, frozenset())
            setattr(user_obj, _CACHE, cached)
        return cached

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return any(p.startswith(f"{app_label}.") for p in self.get_all_permissions(user_obj))
