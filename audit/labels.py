"""What each audit action code means, in the reader's language.

The log stores stable codes (``auth.login``, ``personal_data.view``); the audit
administrator reads them as labels. Codes not listed here are shown as they are.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.details import definition_list

#: Action code → label.
ACTION_LABELS = {
    "auth.login": _("Logged in"),
    "auth.logout": _("Logged out"),
    "auth.login_failed": _("Log-in failed"),
    "auth.locked_out": _("Locked out after failed log-ins"),
    "auth.password_change": _("Changed own password"),
    "auth.second_factor": _("Second factor checked"),
    "auth.second_factor_enrolled": _("Authenticator app set up"),
    "account.created": _("Account created"),
    "account.changed": _("Account changed"),
    "account.deleted": _("Account deleted"),
    "account.password_reset": _("Password set by an administrator"),
    "account.disabled_inactive": _("Account disabled after long inactivity"),
    "role.granted": _("Role granted"),
    "role.granted_in_bulk": _("Roles granted in bulk"),
    "role.changed": _("Role changed"),
    "role.revoked": _("Role revoked"),
    "personal_data.view": _("Personal data viewed"),
    "attachment.download": _("Chat attachment downloaded"),
    "audit.export": _("Audit log exported"),
    "audit.purge": _("Old audit records purged"),
    "ratings.month_published": _("Monthly ratings published"),
    "integration.retry_now": _("Delivery to a platform retried"),
    "integration.secret_set": _("Platform key set"),
    "import.platform_cases": _("Platform cases imported"),
}

#: Code prefix → label pattern for families of codes (the part after the dot is a
#: case step, a spreadsheet's model or an export's kind).
_EXPORT_KINDS = {
    "ratings": _("ratings"),
    "ranking": _("department ranking"),
    "cases": _("cases"),
    "chart": _("a chart's data"),
}


def _case_step(step: str) -> str | None:
    from cases.choices import EventKind

    if step in EventKind.values:
        return gettext("Case: %(step)s") % {"step": EventKind(step).label}
    return None


def _import(model_name: str) -> str | None:
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return gettext("Spreadsheet import: %(what)s") % {
                "what": model._meta.verbose_name_plural
            }
    return None


def _export(kind: str) -> str | None:
    if kind in _EXPORT_KINDS:
        return gettext("Exported: %(what)s") % {"what": _EXPORT_KINDS[kind]}
    return None


_FAMILIES = {"case": _case_step, "import": _import, "export": _export}


def action_label(code: str) -> str:
    """The label of ``code`` in the active language (``"auth.login"`` → "登录"); an
    unknown code is returned unchanged."""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    family, _dot, rest = code.partition(".")
    label = _FAMILIES[family](rest) if family in _FAMILIES else None
    return label or code


# ------------------------------------------------------------------ details

#: Keys of the records' ``details`` → label (``accounts.services``, ``audit.receivers``,
#: the imports, exports and purges). A key not listed is shown as it is.
DETAIL_LABELS = {
    "user": _("user"),
    "user_id": _("user number"),
    "username": _("username"),
    "role": _("role"),
    "roles": _("roles granted"),
    "area": _("area"),
    "department": _("department"),
    "administrators": _("administrator roles granted"),
    "outside_service": _("written outside the services"),
    "id": _("id"),
    "via": _("by way of"),
    "before": _("before the change"),
    "after": _("after the change"),
    "count": _("count"),
    "superuser": _("superuser"),
    "fields": _("fields changed"),
    "values": _("new values"),
    "usable": _("usable password"),
    "days": _("days inactive"),
    "from": _("state before"),
    "to": _("state after"),
    "invitation": _("invitation"),
    "model": _("data type"),
    "object_id": _("object id"),
    "object": _("object"),
    "change": _("change"),
    "departments": _("departments"),
    "ratings": _("ratings"),
    "removed": _("records removed"),
    "anchor": _("chain anchor"),
    "first_kept": _("first record kept"),
    "file": _("file"),
    "rows": _("rows"),
    "new": _("rows new"),
    "updated": _("rows updated"),
    "deleted": _("rows deleted"),
    "review": _("sent to review"),
    "duplicate": _("already taken in"),
    "error": _("rows refused"),
    "filetype": _("file type"),
    "period": _("period"),
    "what": _("what was read"),
    "case": _("case"),
    "replaced": _("replaced the previous one"),
}

#: ``via`` codes → label (a platform's name or a command's is shown as it is).
VIA_LABELS = {
    "session": _("back-office log-in"),
    "token": _("phone app token"),
    "admin": _("back office"),
    "import": _("spreadsheet import"),
}


def _role(code: Any) -> Any:
    from accounts.choices import Role

    return Role(code).label if code in Role.values else code


def _roles(counts: Any) -> Any:
    """``{"staff": 3}`` → 部门工作人员：3."""
    if not isinstance(counts, dict):
        return counts
    return "、".join(f"{_role(code)}：{n}" for code, n in counts.items())


def _administrators(pairs: Any) -> Any:
    """``[["li", "sysadmin"]]`` → li（系统管理员）."""
    if not isinstance(pairs, list):
        return pairs
    return [f"{p[0]}（{_role(p[1])}）" if isinstance(p, list) and len(p) == 2 else p for p in pairs]


def _state(code: Any) -> Any:
    from cases.choices import CaseState

    return CaseState(code).label if code in CaseState.values else code


def _model(name: Any) -> Any:
    for model in apps.get_models():
        if model._meta.model_name == name:
            return model._meta.verbose_name
    return name


def _user_fields(names: Any) -> Any:
    if not isinstance(names, list):
        return names
    return [_user_field(name) for name in names]


def _user_field(name: str) -> Any:
    from accounts.models import User

    try:
        return getattr(User._meta.get_field(name), "verbose_name", name)
    except FieldDoesNotExist:
        return name


def _user_values(values: Any) -> Any:
    if not isinstance(values, dict):
        return values
    return {str(_user_field(name)): value for name, value in values.items()}


#: What an unmasked read of personal data (``personal_data.view``) showed: code → label.
PERSONAL_DATA = {
    "staff_directory": _("staff phones in the phone app's directory"),
    "staff_list": _("staff phones in the back-office list"),
    "staff_form": _("a staff phone on its back-office page"),
    "staff_export": _("staff phones in a spreadsheet export"),
    "case_phones": _("the phones of a case's people"),
    "invitation_phone": _("the phone of an invited person"),
}

_DETAIL_VALUES = {
    "what": lambda code: PERSONAL_DATA.get(code, code),
    "role": _role,
    "roles": _roles,
    "administrators": _administrators,
    "via": lambda code: VIA_LABELS.get(code, code),
    "from": _state,
    "to": _state,
    "model": _model,
    "fields": _user_fields,
    "values": _user_values,
}


def details_list(details: Any) -> SafeString:
    """An audit record's ``details`` (a JSON object of codes) as a definition list:
    keys by their labels, roles, case states, ways in and data types by theirs."""
    if not isinstance(details, dict):
        return definition_list({"": details}, labels={})
    return definition_list(details, labels=DETAIL_LABELS, values=_DETAIL_VALUES)
