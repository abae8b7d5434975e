from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from analytics import receivers
        from cases.models import Case, Invitation
        from cases.signals import case_event_recorded

        for signal in (post_save, post_delete):
            signal.connect(receivers.case_changed, sender=Case, dispatch_uid=f"stale_case_{signal}")
            signal.connect(
                receivers.related_changed,
                sender=Invitation,
                dispatch_uid=f"stale_Invitation_{signal}",
            )
            signal.connect(receivers.case_moved, sender=Case, dispatch_uid=f"wall_case_{signal}")
        case_event_recorded.connect(receivers.escalated, dispatch_uid="wall_escalated")
