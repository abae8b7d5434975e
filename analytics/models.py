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


class DailyFigure(models.Model):
    """A row of the daily figures: the cases raised on ``day`` (a local day) that share
    the values of ``KEYS``, and their counts and sums (every other number).

    A month's roll-up row (``whole_month``) carries the first day of the month and
    the sums of that month's day rows with the same ``KEYS``
    (``analytics.facts.roll_up``): a reader adds up a whole month in a few rows
    instead of a row per day, and reads the day rows only for the days at the ends
    of its period and for a month holding a stale day (``selectors.summed``).
    """

    day = models.DateField()
    whole_month = models.BooleanField(default=False)
    #: What a row is one of: the columns a month's roll-up groups by.
    KEYS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @classmethod
    def sum_fields(cls) -> list[str]:
        """The columns a roll-up sums: every number that is not a key."""
        return [
            f.attname
            for f in cls._meta.concrete_fields
            if f.attname not in {"id", "day", "whole_month", *cls.KEYS}
        ]


class CaseDay(DailyFigure):
    """Cases raised on a day in a community and category, and what became of them."""

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

    KEYS = ("community_id", "category_id")

    class Meta:
        verbose_name = _("cases of a day")
        verbose_name_plural = _("cases of days")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "whole_month", "community", "category"], name="one_case_day"
            )
        ]
        indexes = [models.Index(fields=["day"], name="case_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.community_id} {self.category_id}"


class TimeDay(DailyFigure):
    """Cases raised on a day in a town whose response (or handling) time falls in one bin.

    ``start`` is the bin's start in whole seconds (``analytics.selectors.time_bin``):
    bins are a minute wide below six hours and an hour wide above, so every
    histogram the distributions draw is a regrouping of these bins, and an exact
    percentile is found in its bin by the counts before it, then read at its rank
    among that bin's cases alone (``analytics.functions.binned_percentiles``).
    """

    class Time(models.TextChoices):
        RESPONSE = "response", _("response time")
        HANDLING = "handling", _("handling time")

    town = models.ForeignKey("grids.Area", on_delete=models.CASCADE, null=True, related_name="+")
    time = models.CharField(max_length=8, choices=Time.choices)
    start = models.IntegerField()
    cases = models.PositiveIntegerField(default=0)

    KEYS = ("town_id", "time", "start")

    class Meta:
        verbose_name = _("times of a day")
        verbose_name_plural = _("times of days")
        indexes = [models.Index(fields=["day"], name="time_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.time} {self.start}: {self.cases}"


class DepartmentDay(DailyFigure):
    """A department's invitations to cases raised on a day in a town."""

    town = models.ForeignKey("grids.Area", on_delete=models.CASCADE, null=True, related_name="+")
    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, related_name="+"
    )
    invited = models.PositiveIntegerField(default=0)
    cases = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    declined = models.PositiveIntegerField(default=0)
    #: invitations accepted and later handed back (退回)
    returned = models.PositiveIntegerField(default=0)
    response_sum = models.FloatField(default=0)
    response_n = models.PositiveIntegerField(default=0)
    handling_sum = models.FloatField(default=0)
    handling_n = models.PositiveIntegerField(default=0)
    overdue_done = models.PositiveIntegerField(default=0)
    multi_department = models.PositiveIntegerField(default=0)

    KEYS = ("town_id", "department_id")

    class Meta:
        verbose_name = _("department figures of a day")
        verbose_name_plural = _("department figures of days")
        indexes = [models.Index(fields=["day"], name="department_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}"


class DeclineDay(DailyFigure):
    town = models.ForeignKey("grids.Area", on_delete=models.CASCADE, null=True, related_name="+")
    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.TextField()
    n = models.PositiveIntegerField(default=0)

    KEYS = ("town_id", "department_id", "reason")

    class Meta:
        verbose_name = _("declines of a day")
        verbose_name_plural = _("declines of days")
        indexes = [models.Index(fields=["day"], name="decline_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}: {self.n}"


class TemplateDay(DailyFigure):
    """Cases of a day and town by category and template (none: raised without one), and
    for each department that accepted, how many of them it took part in."""

    town = models.ForeignKey("grids.Area", on_delete=models.CASCADE, null=True, related_name="+")
    category = models.ForeignKey("templates.Category", on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(
        "templates.CaseTemplate", on_delete=models.CASCADE, null=True, related_name="+"
    )
    department = models.ForeignKey(
        "departments.Department", on_delete=models.CASCADE, null=True, related_name="+"
    )  # None: the row counting the cases themselves
    cases = models.PositiveIntegerField(default=0)

    KEYS = ("town_id", "category_id", "template_id", "department_id")

    class Meta:
        verbose_name = _("templates of a day")
        verbose_name_plural = _("templates of days")
        indexes = [models.Index(fields=["day"], name="template_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.category_id} {self.template_id} {self.department_id}"


class CellDay(DailyFigure):
    """Located cases raised on a day in a town and category, by cell of the density map.

    A cell is ``maps.DENSITY_CELL`` degrees on a side: ``x = floor(longitude / cell)``,
    ``y = floor(latitude / cell)``, computed by the database exactly as the live
    density does (``maps.cell_index``), so both give the same cells. Located means
    what the density counts as located: the case has a longitude. ``y`` is ``None``
    for a case with a longitude but no latitude (located, in no cell); a case with
    no longitude has no row. ``town``: the community's grandparent, as in
    ``DepartmentDay``.
    """

    town = models.ForeignKey("grids.Area", on_delete=models.CASCADE, null=True, related_name="+")
    category = models.ForeignKey("templates.Category", on_delete=models.CASCADE, related_name="+")
    x = models.IntegerField()
    y = models.IntegerField(null=True)
    cases = models.PositiveIntegerField(default=0)

    KEYS = ("town_id", "category_id", "x", "y")

    class Meta:
        verbose_name = _("located cases of a day")
        verbose_name_plural = _("located cases of days")
        indexes = [models.Index(fields=["day"], name="cell_day_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.x},{self.y}: {self.cases}"
