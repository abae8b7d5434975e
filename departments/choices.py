from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentLevel(models.TextChoices):
    DISTRICT = "district", _("District level")
    TOWN = "town", _("Town level")


class DepartmentKind(models.TextChoices):
    """The three kinds rankings compare within (DESIGN.md, Ratings)."""

    ENFORCEMENT = "enforcement", _("Enforcement")
    MANAGEMENT = "management", _("Management")
    UTILITY = "utility", _("Construction and utility")
