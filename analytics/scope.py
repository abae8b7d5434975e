"""What an indicator covers: a period and a node of the area tree the asker may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.selectors import area_paths, has_role
from cases.choices import CaseState
from cases.models import READ_ALL_ROLES, Case
from core.dates import local_day_bounds
from core.errors import PermissionDenied, ValidationFailed
from grids.models import Area

#: Roles that see indicators of their own area (and everything under it).
AREA_ROLES = (Role.LEADER, Role.GRID_LEADER, Role.COMMANDER)
#: The longest period one request may cover.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Scope:
    start: datetime  # inclusive
    end: datetime  # exclusive
    area: Area | None  # None: the whole tree

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.start).date()

    @property
    def last_day(self) -> date:
        return timezone.localtime(self.end).date() - timedelta(days=1)

    @property
    def whole_tree(self) -> bool:
        """The scope is the whole district (no area, or the tree's only root)."""
        return self.area is None or self._holds_everything()

    def _holds_everything(self) -> bool:
        """The area is the tree's only root: filtering by it would only cost a join."""
        return self.area is not None and _only_root(self.area)

    def cases(self):
        """The cases raised in the period and the area (drafts were never raised)."""
        cases = Case.objects.filter(created_at__gte=self.start, created_at__lt=self.end).exclude(
            state=CaseState.DRAFT
        )
        if self.area is not None and not self._holds_everything():
            cases = cases.filter(community_id__in=self._area_ids)
        return cases

    @cached_property
    def _area_ids(self) -> list[int]:
        """The ids of the area and every area under it, read once per scope.

        A list, not a subquery: PostgreSQL then checks ``community_id`` against a
        hashed array as it walks an index of the cases (the exact percentiles'
        ``ranked_percentiles``), instead of joining the areas for every case.
        """
        assert self.area is not None
        return list(
            Area.objects.filter(path__startswith=self.area.path).values_list("pk", flat=True)
        )


def _only_root(area: Area) -> bool:
    return (
        area.parent_id is None
        and not Area.objects.filter(parent__isnull=True).exclude(pk=area.pk).exists()
    )


def _year_before(day: date) -> date:
    """The same date a year earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def may_see_analytics(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and (user.is_superuser or has_role(user, [*READ_ALL_ROLES, *AREA_ROLES]))
    )


def resolve_scope(user, *, area_id: int | None, first: date | None, last: date | None) -> Scope:
    """The scope asked for, checked against what ``user`` may see.

    The period runs from ``first`` to ``last`` inclusive; by default up to
    today and from the same date a year before (both ends included, so a
    year of data that started a year ago today is whole). The area is by default the asker's own (the whole district for
    auditors). Asking for an area outside one's own is refused.
    """
    if not may_see_analytics(user):
        raise PermissionDenied(_("Indicators are for leaders, commanders and auditors."))
    today = timezone.localdate()
    last = last or today
    first = first or _year_before(last)
    if first > last:
        raise ValidationFailed(
            _("The period ends before it starts."), fields={"from": [_("After the end.")]}
        )
    if (last - first).days > MAX_DAYS:
        raise ValidationFailed(
            _("The period may span at most %(days)s days.") % {"days": MAX_DAYS},
            fields={"to": [_("Too long a period.")]},
        )
    everything = user.is_superuser or has_role(user, READ_ALL_ROLES)
    own = sorted(area_paths(user, AREA_ROLES), key=len)
    if area_id is None:
        area = None if everything else Area.objects.get(path=own[0])
    else:
        area = Area.objects.filter(pk=area_id).first()
        if area is None:
            raise ValidationFailed(_("No such area."), fields={"area": [_("No such area.")]})
        if not everything and not any(area.path.startswith(path) for path in own):
            raise PermissionDenied(_("You may not see indicators of %(area)s.") % {"area": area})
    start, end = local_day_bounds(first, last)
    return Scope(start=start, end=end, area=area)
