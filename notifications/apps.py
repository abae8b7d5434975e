from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from cases.signals import case_event_saved, case_events_saved
        from notifications import receivers

        case_event_saved.connect(receivers.notify_for_event, dispatch_uid="notify_for_event")
        case_events_saved.connect(receivers.notify_for_events, dispatch_uid="notify_for_events")
