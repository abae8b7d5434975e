from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("City platform integration")

    def ready(self) -> None:
        from cases.signals import case_event_saved
        from integrations import receivers

        # The outbox row is written in the step's own transaction (nothing is
        # lost if the process dies after commit); the send is tried after commit.
        case_event_saved.connect(receivers.queue_status, dispatch_uid="integrations_queue_status")
