"""Daily figures the indicators add up (analytics/facts.py writes them).

One row per day of raising and per community (cases) or per town (times,
departments, templates, the density map's cells). A district's year is then a sum over tens of
thousands of rows, whatever the number of cases. Days whose cases changed are
marked stale and recomputed off the request path (``analytics.facts``). Ratings have no daily
figures: they are published by ended month only (``ratings.models.MonthFigure``).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class StaleDay(models.Model):
    """A mark that a day's cases changed since its figures were computed.

    Marks are only ever added: each marking transaction inserts its own row
    with a new ``token``, so writers never wait for each other on a shared row
    (one row per day, upserted, was a lock every write of the day queued on).
    A rebuild deletes exactly the marks it read before recomputing
    (``facts.refresh_stale``); a mark committed meanwhile stays. A day is stale
    while it has any mark.
    """

    day = models.DateField(db_index=True)
    token = models.UUIDField(default=uuid.uuid4, unique=True)

    class Meta:
        verbose_name = _("stale day")
        verbose_name_plural = _("stale days")

    def __str__(self) -> str:
        return str(self.day)


class CaseDay(models.Model):
    """Cases raised on a day in a community and category, and what became of them."""

    day = models.DateField()
    community = models.ForeignKey("grids.Area", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("templates.Category", on_delete=models.CASCADE, related_name="+")
    raised = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    dispatches = models.PositiveIntegerField(default=0)
    response_sum = models.FloatField(default=0)
    response_n = models.PositiveIntegerField(default=0)
    handling_sum = models.FloatField(default=0)
    handling_n = models.PositiveIntegerField(default=0)
    overdue_done = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("cases of a day")
        verbose_name_plural = _("cases of days")
        constraints = [
            models.UniqueConstraint(fields=["day", "community", "category"], name="one_case_day")
        ]
        indexes = [models.Index(fields=["day"], name="case_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.community_id} {self.category_id}"


class DepartmentDay(models.Model):
    """A department's invitations to cases raised on a day in a town."""

    day = models.DateField()
    town = models.ForeignKey("grids.Area", on_delete=models.CASCADE, null=True, related_name="+")
    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, related_name="+"
    )
    invited = models.PositiveIntegerField(default=0)
    cases = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    declined = models.PositiveIntegerField(default=0)
    response_sum = models.FloatField(default=0)
    response_n = models.PositiveIntegerField(default=0)
    handling_sum = models.FloatField(default=0)
    handling_n = models.PositiveIntegerField(default=0)
    overdue_done = models.PositiveIntegerField(default=0)
    multi_department = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("department figures of a day")
        verbose_name_plural = _("department figures of days")
        indexes = [models.Index(fields=["day"], name="department_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}"


class DeclineDay(models.Model):
    day = models.DateField()
    town = models.ForeignKey("grids.Area", on_delete=models.CASCADE, null=True, related_name="+")
    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.TextField()
    n = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("declines of a day")
        verbose_name_plural = _("declines of days")
        indexes = [models.Index(fields=["day"], name="decline_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}: {self.n}"


class TemplateDay(models.Model):
    """Cases of a day and town by category and template (none: raised without one), and
    for each department that accepted, how many of them it took part in."""

    day = models.DateField()
    town = models.ForeignKey("grids.Area", on_delete=models.CASCADE, null=True, related_name="+")
    category = models.ForeignKey("templates.Category", on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(
        "templates.CaseTemplate", on_delete=models.CASCADE, null=True, related_name="+"
    )
    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, null=True, related_name="+"
    )  # None: the row counting the cases themselves
    cases = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("templates of a day")
        verbose_name_plural = _("templates of days")
        indexes = [models.Index(fields=["day"], name="template_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.category_id} {self.template_id} {self.department_id}"


class CellDay(models.Model):
    """Located cases raised on a day in a town and category, by cell of the density map.

    A cell is ``maps.DENSITY_CELL`` degrees on a side: ``x = floor(longitude / cell)``,
    ``y = floor(latitude / cell)``, computed by the database exactly as the live
    density does (``maps.cell_index``), so both give the same cells. Located means
    what the density counts as located: the case has a longitude. ``y`` is ``None``
    for a case with a longitude but no latitude (located, in no cell); a case with
    no longitude has no row. ``town``: the community's grandparent, as in
    ``DepartmentDay``.
    """

    day = models.DateField()
    town = models.ForeignKey("grids.Area", on_delete=models.CASCADE, null=True, related_name="+")
    category = models.ForeignKey("templates.Category", on_delete=models.CASCADE, related_name="+")
    x = models.IntegerField()
    y = models.IntegerField(null=True)
    cases = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("located cases of a day")
        verbose_name_plural = _("located cases of days")
        indexes = [models.Index(fields=["day"], name="cell_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.x},{self.y}: {self.cases}"
