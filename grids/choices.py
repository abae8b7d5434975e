from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.IntegerChoices):
    """Depth in the area tree; a child sits exactly one level below its parent."""

    DISTRICT = 1, _("District")
    TOWN = 2, _("Town or street")
    GRID = 3, _("Responsibility grid")
    COMMUNITY = 4, _("Village or community")
    MICROGRID = 5, _("Micro-grid")


class CommunityKind(models.TextChoices):
    VILLAGE = "village", _("Village committee")
    RESIDENTIAL = "residential", _("Residential committee")
