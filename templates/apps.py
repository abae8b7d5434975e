from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseTemplatesConfig(AppConfig):
    """The case-template app (常发案件模板), not Django's HTML templates."""

    name = "templates"
    label = "templates"
    verbose_name = _("Case templates")
