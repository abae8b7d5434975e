"""What each audit action code means, in the reader's language.

The log stores stable codes (``auth.login``, ``personal_data.view``); the audit
administrator reads them as labels. Codes not listed here are shown as they are.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
