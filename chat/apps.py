from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Case rooms")

    def ready(self) -> None:
        from cases.signals import case_event_saved, case_events_saved
        from chat import checks, receivers  # noqa: F401  (checks register themselves)

        case_event_saved.connect(receivers.post_system_message, dispatch_uid="chat_system_message")
        case_events_saved.connect(
            receivers.post_system_messages, dispatch_uid="chat_system_messages"
        )
