"""The area tree and the workstations (联勤联动工作站) of its grids.

The tree is a materialised path: ``path`` is the chain of codes from the root,
``/310120/310120101/…/``, so "everything under this node" is one indexed
``path LIKE 'prefix%'`` query, rows can be bulk-inserted, and a spreadsheet
needs nothing but a ``parent`` code. (A library tree such as django-treebeard
was weighed: it wants its own node API for inserts, which fights both the
spreadsheet import and bulk seeding.)
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from grids.choices import AreaLevel, CommunityKind
from grids.geometry import validate_boundary

code_validator = RegexValidator(r"^[A-Za-z0-9_-]+$", _("Use letters, digits, '-' and '_' only."))


class AreaQuerySet(models.QuerySet):
    def subtree(self, area: Area, *, include_self: bool = True) -> AreaQuerySet:
        """The node and everything under it, in tree order."""
        qs = self.filter(path__startswith=area.path)
        if not include_self:
            qs = qs.exclude(pk=area.pk)
        return qs

    def of_level(self, level: int) -> AreaQuerySet:
        return self.filter(level=level)

    def communities(self) -> AreaQuerySet:
        return self.filter(level=AreaLevel.COMMUNITY)


class Area(TimeStampedModel):
    """A node of the area tree: district, town, grid, community or micro-grid."""

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[code_validator],
        help_text=_("Stable identifier, e.g. the administrative division code."),
    )
    name = models.CharField(_("name"), max_length=100, db_index=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=AreaLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    path = models.CharField(_("path"), max_length=400, unique=True, editable=False, blank=True)
    community_kind = models.CharField(
        _("community kind"), max_length=16, choices=CommunityKind.choices, blank=True
    )
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    boundary = models.JSONField(
        _("boundary"),
        null=True,
        blank=True,
        validators=[validate_boundary],
        help_text=_(
            "A GeoJSON Polygon or MultiPolygon, longitude then latitude (WGS 84), "
            'e.g. {"type": "Polygon", "coordinates": [[[121.4, 30.9], …]]}.'
        ),
    )
    population = models.PositiveIntegerField(
        _("population"),
        null=True,
        blank=True,
        help_text=_("Residents, where known: the map's cases per 1,000 residents use it."),
    )

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        indexes = [models.Index(fields=["level", "name"], name="area_level_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.level

    def build_path(self) -> str:
        parent = self.parent
        prefix = parent.path if parent is not None else "/"
        return f"{prefix}{self.code}/"

    def clean(self) -> None:
        parent = self.parent if self.parent_id else None
        if parent is not None:
            if parent.level != self.level - 1:
                raise ValidationError(
                    {
                        "parent": _("A %(level)s must sit directly under a %(parent)s.")
                        % {
                            "level": self.get_level_display(),
                            "parent": AreaLevel(self.level - 1).label if self.level > 1 else "-",
                        }
                    }
                )
            if self.pk and parent.path.startswith(self.path_in_db()):
                raise ValidationError({"parent": _("An area cannot be moved under itself.")})
        elif self.level != AreaLevel.DISTRICT:
            raise ValidationError({"parent": _("Only a district can stand without a parent.")})
        if self.community_kind and self.level != AreaLevel.COMMUNITY:
            raise ValidationError({"community_kind": _("Only communities have a kind.")})

    def path_in_db(self) -> str:
        return type(self).objects.filter(pk=self.pk).values_list("path", flat=True).first() or ""

    def save(self, *args, **kwargs) -> None:
        """Keep ``path`` right, and the paths of the whole subtree after a move or recode."""
        old_path = self.path_in_db() if self.pk else ""
        self.path = self.build_path()
        with transaction.atomic():
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                type(self).objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(Value(self.path), Substr(F("path"), Length(Value(old_path)) + 1))
                )
                _subtree_days_stale(self.path)

    def ancestors(self, *, include_self: bool = False) -> AreaQuerySet:
        """Every node above this one (one query, from the codes in ``path``)."""
        codes = [c for c in self.path.strip("/").split("/") if c]
        if not include_self:
            codes = codes[:-1]
        return type(self).objects.filter(code__in=codes).order_by("level")

    def ancestor_at(self, level: int) -> Area | None:
        if self.level == level:
            return self
        return self.ancestors().filter(level=level).first()

    def contains(self, other: Area) -> bool:
        return other.path.startswith(self.path)


class Workstation(TimeStampedModel):
    """The joint-response workstation (联勤联动工作站) of a responsibility grid."""

    grid = models.OneToOneField(
        Area,
        on_delete=models.PROTECT,
        related_name="workstation",
        verbose_name=_("grid"),
        limit_choices_to={"level": AreaLevel.GRID},
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commanded_workstations",
        verbose_name=_("commander"),
    )
    deputy_commanders = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="deputy_workstations",
        verbose_name=_("deputy commanders"),
    )
    grid_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_workstations",
        verbose_name=_("grid leader"),
    )

    class Meta:
        verbose_name = _("workstation")
        verbose_name_plural = _("workstations")
        ordering = ["grid__path"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.grid_id and self.grid.level != AreaLevel.GRID:
            raise ValidationError({"grid": _("A workstation belongs to a responsibility grid.")})


def _subtree_days_stale(path: str) -> None:
    """The subtree at ``path`` moved (or was recoded): every day with a case under it is
    stale, since the daily figures keyed by town (times, departments, templates, cells)
    still file its cases under the town they were in when the day was rebuilt."""
    from analytics.facts import days_raised, mark_stale
    from cases.models import Case

    mark_stale(days_raised(Case.objects.filter(community__path__startswith=path)))
