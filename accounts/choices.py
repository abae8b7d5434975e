from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Business and administrative roles (DESIGN.md, "Who uses it")."""

    VILLAGE_OFFICIAL = "village_official", _("Village official")
    COMMANDER = "commander", _("Commander")
    GRID_LEADER = "grid_leader", _("Grid leader")
    STAFF = "staff", _("Department staff")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    LEADER = "leader", _("Leader")
    AUDITOR = "auditor", _("Auditor")
    SYSADMIN = "sysadmin", _("System administrator")
    SECADMIN = "secadmin", _("Security administrator")
    AUDITADMIN = "auditadmin", _("Audit administrator")


#: Roles scoped to a node of the area tree (they reach its whole subtree).
AREA_ROLES = frozenset({Role.VILLAGE_OFFICIAL, Role.COMMANDER, Role.GRID_LEADER, Role.LEADER})
#: Roles scoped to a department.
DEPARTMENT_ROLES = frozenset({Role.STAFF, Role.DEPARTMENT_HEAD})
#: Roles with no scope.
GLOBAL_ROLES = frozenset({Role.AUDITOR, Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN})
#: The three administrator roles kept apart (三权分立): one per account at most.
ADMIN_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN})
