from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from audit import receivers
        from cases.signals import case_event_saved, case_events_saved

        case_event_saved.connect(receivers.case_event, dispatch_uid="audit_case_event")
        case_events_saved.connect(receivers.case_events, dispatch_uid="audit_case_events")
        auth_signals.user_logged_in.connect(receivers.logged_in, dispatch_uid="audit_login")
        auth_signals.user_logged_out.connect(receivers.logged_out, dispatch_uid="audit_logout")
        auth_signals.user_login_failed.connect(receivers.login_failed, dispatch_uid="audit_failed")

        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_delete, post_save

        from accounts.models import RoleAssignment

        post_save.connect(receivers.admin_change, sender=LogEntry, dispatch_uid="audit_admin")
        post_save.connect(receivers.role_saved, sender=RoleAssignment, dispatch_uid="audit_role")
        post_delete.connect(
            receivers.role_deleted, sender=RoleAssignment, dispatch_uid="audit_role_gone"
        )
