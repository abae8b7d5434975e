"""The indicators (DESIGN.md definitions), each computed by the database for a ``Scope``.

Every figure here is the one the API, the dashboard and the exports show:
they all call these functions. Times are in seconds.
- response time = ``first_accepted_at − dispatched_at``;
- handling time = ``completed_at − first_accepted_at``;
- person-dispatches = invitations sent;
- closure rate = closed / (raised − cancelled);
- a case is overdue when it was completed after its deadline, or is still open
  past it.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from analytics.functions import Seconds, aggregate_with_percentiles
from analytics.scope import Scope
from cases.choices import CaseState, InvitationState
from cases.models import Invitation
from ratings.models import Criterion, Rating, Score

RESPONSE = Seconds(F("first_accepted_at"), F("dispatched_at"))
HANDLING = Seconds(F("completed_at"), F("first_accepted_at"))
BUCKETS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
#: Fewest cases a template suggestion rests on, and the share of them a department must be in.
SUGGESTION_MIN_CASES = 5
SUGGESTION_MIN_SHARE = 0.5


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value) -> float | None:
    return None if value is None else round(float(value), 2)


def overdue_condition(prefix: str = "") -> Q:
    """Cases past their deadline: completed late, or still open after it."""
    now = timezone.now()
    p = prefix
    return Q(**{f"{p}deadline__isnull": False}) & (
        Q(**{f"{p}completed_at__gt": F(f"{p}deadline")})
        | Q(
            **{
                f"{p}completed_at__isnull": True,
                f"{p}deadline__lt": now,
                f"{p}state__in": [CaseState.DISPATCHED, CaseState.IN_PROGRESS],
            }
        )
    )


# ---------------------------------------------------------------- headline


def overview(scope: Scope) -> dict:
    """The seven figures of the yearly report."""
    cases = scope.cases()
    counts = aggregate_with_percentiles(
        cases,
        {
            "raised": Count("pk"),
            "closed": Count("pk", filter=Q(state=CaseState.CLOSED)),
            "cancelled": Count("pk", filter=Q(state=CaseState.CANCELLED)),
            "response_mean": Avg(RESPONSE),
            "handling_mean": Avg(HANDLING),
        },
        {"response_median": (RESPONSE, 0.5), "handling_median": (HANDLING, 0.5)},
    )
    response_median, handling_median = counts["response_median"], counts["handling_median"]
    rating = Rating.objects.filter(case__in=cases.values("pk")).aggregate(mean=Avg("overall"))
    return {
        "raised": counts["raised"],
        "closed": counts["closed"],
        "cancelled": counts["cancelled"],
        "closure_rate": _ratio(counts["closed"], counts["raised"] - counts["cancelled"]),
        "dispatches": Invitation.objects.filter(case__in=cases.values("pk")).count(),
        "response_mean": _round(counts["response_mean"]),
        "response_median": _round(response_median),
        "handling_mean": _round(counts["handling_mean"]),
        "handling_median": _round(handling_median),
        "rating_mean": _round(rating["mean"]),
    }


# ---------------------------------------------------------------- hot problems


def categories(scope: Scope, *, bucket: str = "month", top: int = 10) -> dict:
    """Cases by category and period, the totals, and the categories rising fastest."""
    cases = scope.cases()
    tz = timezone.get_current_timezone()
    trunc = BUCKETS[bucket]("created_at", tzinfo=tz)
    series = [
        {
            "period": timezone.localtime(row["period"]).date()
            if hasattr(row["period"], "hour")
            else row["period"],
            "category": row["category_id"],
            "name": row["category__name"],
            "cases": row["n"],
        }
        for row in cases.annotate(period=trunc)
        .values("period", "category_id", "category__name")
        .annotate(n=Count("pk"))
        .order_by("period", "category__name")
    ]
    middle = scope.start + (scope.end - scope.start) / 2
    totals = list(
        cases.values("category_id", "category__name")
        .annotate(
            n=Count("pk"),
            first=Count("pk", filter=Q(created_at__lt=middle)),
            second=Count("pk", filter=Q(created_at__gte=middle)),
        )
        .order_by("-n", "category__name")
    )
    rising = sorted(
        (t for t in totals if t["second"] > t["first"] and t["second"] >= 5),
        key=lambda t: (-(t["second"] - t["first"]) / max(t["first"], 1), t["category__name"]),
    )[:top]
    return {
        "bucket": bucket,
        "series": series,
        "totals": [
            {"category": t["category_id"], "name": t["category__name"], "cases": t["n"]}
            for t in totals
        ],
        "rising": [
            {
                "category": t["category_id"],
                "name": t["category__name"],
                "first_half": t["first"],
                "second_half": t["second"],
                "growth": round((t["second"] - t["first"]) / max(t["first"], 1), 4),
            }
            for t in rising
        ],
    }


# ---------------------------------------------------------------- high-incidence areas


def areas(scope: Scope, *, top: int = 10) -> dict:
    """Cases per town, grid and community (and per 1,000 cases), by category, the top places."""
    cases = scope.cases()
    total = cases.count()

    def level(id_field: str, name_field: str) -> list[dict]:
        rows = cases.values(id_field, name_field).annotate(n=Count("pk")).order_by("-n", name_field)
        return [
            {
                "area": r[id_field],
                "name": r[name_field],
                "cases": r["n"],
                "per_1000": round(r["n"] * 1000 / total, 1) if total else None,
            }
            for r in rows
        ]

    towns = level("community__parent__parent_id", "community__parent__parent__name")
    grids = level("community__parent_id", "community__parent__name")
    communities = level("community_id", "community__name")
    by_category = [
        {
            "area": r["community__parent__parent_id"],
            "name": r["community__parent__parent__name"],
            "category": r["category_id"],
            "category_name": r["category__name"],
            "cases": r["n"],
        }
        for r in cases.values(
            "community__parent__parent_id",
            "community__parent__parent__name",
            "category_id",
            "category__name",
        )
        .annotate(n=Count("pk"))
        .order_by("community__parent__parent__name", "-n")
    ]
    return {
        "total": total,
        "towns": towns,
        "grids": grids,
        "communities": communities,
        "top_communities": communities[:top],
        "towns_by_category": by_category,
    }


# ---------------------------------------------------------------- timeliness


def timeliness(scope: Scope) -> dict:
    """Response and handling time distributions, and overdue cases by department."""
    cases = scope.cases()
    found = aggregate_with_percentiles(
        cases,
        {
            "response": Avg(RESPONSE),
            "handling": Avg(HANDLING),
            "overdue": Count("pk", filter=overdue_condition()),
        },
        {
            "r50": (RESPONSE, 0.5),
            "r90": (RESPONSE, 0.9),
            "h50": (HANDLING, 0.5),
            "h90": (HANDLING, 0.9),
        },
    )
    response, handling = [found["r50"], found["r90"]], [found["h50"], found["h90"]]
    means = found
    overdue = cases.filter(overdue_condition())
    by_department = (
        Invitation.objects.filter(case__in=overdue.values("pk"), state=InvitationState.ACCEPTED)
        .values("department_id", "department__name")
        .annotate(n=Count("case_id", distinct=True))
        .order_by("-n", "department__name")
    )
    return {
        "response": {
            "mean": _round(means["response"]),
            "p50": _round(response[0]),
            "p90": _round(response[1]),
        },
        "handling": {
            "mean": _round(means["handling"]),
            "p50": _round(handling[0]),
            "p90": _round(handling[1]),
        },
        "overdue": found["overdue"],
        "overdue_by_department": [
            {"department": r["department_id"], "name": r["department__name"], "cases": r["n"]}
            for r in by_department
        ],
    }


# ---------------------------------------------------------------- departments


def departments(scope: Scope) -> list[dict]:
    """Cooperation and the year-end ranking (年终晒单), one row per department invited.

    Scores are shown only for departments rated at least K times
    (``JINSHAO_RATING_MIN_GROUP``); the others are ranked after them. Rank:
    by mean overall score, then by acceptance rate, within the department's
    kind and overall.
    """
    cases = scope.cases()
    case_ids = cases.values("pk")
    invitations = Invitation.objects.filter(case__in=case_ids)
    multi = (
        cases.annotate(
            departments=Count(
                "invitations__department",
                filter=Q(invitations__state=InvitationState.ACCEPTED),
                distinct=True,
            )
        )
        .filter(departments__gte=2)
        .values("pk")
    )
    accepted = Q(state=InvitationState.ACCEPTED)
    rows = list(
        invitations.values("department_id", "department__name", "department__kind")
        .annotate(
            invited=Count("pk"),
            cases=Count("case_id", distinct=True),
            accepted=Count("pk", filter=accepted),
            declined=Count("pk", filter=Q(state=InvitationState.DECLINED)),
            response_mean=Avg(Seconds(F("responded_at"), F("invited_at")), filter=accepted),
            handling_mean=Avg(
                Seconds(F("case__completed_at"), F("case__first_accepted_at")), filter=accepted
            ),
            overdue=Count("case_id", distinct=True, filter=accepted & overdue_condition("case__")),
            multi_department=Count("case_id", distinct=True, filter=accepted & Q(case__in=multi)),
        )
        .order_by("department__name")
    )
    k = settings.JINSHAO_RATING_MIN_GROUP
    ratings = {
        r["department_id"]: r
        for r in Rating.objects.filter(case__in=case_ids)
        .values("department_id")
        .annotate(n=Count("pk"), mean=Avg("overall"))
    }
    criteria = list(Criterion.objects.filter(is_active=True).order_by("position", "code"))
    scores: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for score in (
        Score.objects.filter(rating__case__in=case_ids)
        .values("rating__department_id", "criterion__code")
        .annotate(mean=Avg("score"))
    ):
        scores[score["rating__department_id"]][score["criterion__code"]] = score["mean"]
    reasons: dict[int, list[dict]] = defaultdict(list)
    for decline in (
        invitations.filter(state=InvitationState.DECLINED)
        .values("department_id", "reason")
        .annotate(n=Count("pk"))
        .order_by("department_id", "-n", "reason")
    ):
        if len(reasons[decline["department_id"]]) < 3:
            reasons[decline["department_id"]].append(
                {"reason": decline["reason"], "count": decline["n"]}
            )

    out = []
    for row in rows:
        rated = ratings.get(row["department_id"], {"n": 0, "mean": None})
        shown = rated["n"] >= k
        out.append(
            {
                "department": row["department_id"],
                "name": row["department__name"],
                "kind": row["department__kind"],
                "cases": row["cases"],
                "invited": row["invited"],
                "accepted": row["accepted"],
                "declined": row["declined"],
                "acceptance_rate": _ratio(row["accepted"], row["invited"]),
                "decline_rate": _ratio(row["declined"], row["invited"]),
                "decline_reasons": reasons.get(row["department_id"], []),
                "response_mean": _round(row["response_mean"]),
                "handling_mean": _round(row["handling_mean"]),
                "overdue": row["overdue"],
                "multi_department": row["multi_department"],
                "ratings": rated["n"],
                "scores_withheld": not shown,
                "rating_mean": _round(rated["mean"]) if shown else None,
                "criteria": {
                    c.code: (_round(scores[row["department_id"]].get(c.code)) if shown else None)
                    for c in criteria
                },
            }
        )

    def order(item: dict):
        return (
            item["rating_mean"] is None,
            -(item["rating_mean"] or 0),
            -(item["acceptance_rate"] or 0),
            item["name"],
        )

    out.sort(key=order)
    kinds: dict[str, int] = defaultdict(int)
    for position, item in enumerate(out, start=1):
        kinds[item["kind"]] += 1
        item["rank"] = position
        item["rank_in_kind"] = kinds[item["kind"]]
    return out


# ---------------------------------------------------------------- template suggestions


def template_suggestions(scope: Scope) -> list[dict]:
    """Draft templates (``kind: new``) and changed defaults (``kind: update``).

    New: categories whose cases keep being raised without a template, and whom they invite.
    Update: templates whose cases keep taking part with other departments than the
    template's defaults.

    For each category with at least ``SUGGESTION_MIN_CASES`` such cases, the
    departments that took part (accepted) in at least half of them become the
    suggested template's default departments.
    """
    untemplated = scope.cases().filter(template__isnull=True)
    per_category = {
        r["category_id"]: r
        for r in untemplated.values("category_id", "category__name").annotate(n=Count("pk"))
        if r["n"] >= SUGGESTION_MIN_CASES
    }
    if not per_category:
        return _template_updates(scope)
    chosen: dict[int, list[dict]] = defaultdict(list)
    for row in (
        Invitation.objects.filter(
            case__in=untemplated.filter(category_id__in=list(per_category)).values("pk"),
            state=InvitationState.ACCEPTED,
        )
        .values("case__category_id", "department_id", "department__name")
        .annotate(n=Count("case_id", distinct=True))
        .order_by("case__category_id", "-n", "department__name")
    ):
        total = per_category[row["case__category_id"]]["n"]
        if row["n"] / total >= SUGGESTION_MIN_SHARE:
            chosen[row["case__category_id"]].append(
                {
                    "department": row["department_id"],
                    "name": row["department__name"],
                    "cases": row["n"],
                }
            )
    new = [
        {
            "kind": "new",
            "template": None,
            "category": category_id,
            "name": per_category[category_id]["category__name"],
            "cases": per_category[category_id]["n"],
            "departments": chosen[category_id],
            "current": [],
        }
        for category_id in sorted(per_category, key=lambda c: -per_category[c]["n"])
        if chosen.get(category_id)
    ]
    return new + _template_updates(scope)


def _template_updates(scope: Scope) -> list[dict]:
    """Templates whose cases keep taking part with other departments than their defaults."""
    from templates.models import CaseTemplate

    templated = scope.cases().filter(template__isnull=False)
    per_template = {
        r["template_id"]: r["n"]
        for r in templated.values("template_id").annotate(n=Count("pk"))
        if r["n"] >= SUGGESTION_MIN_CASES
    }
    if not per_template:
        return []
    taking_part: dict[int, list[dict]] = defaultdict(list)
    for row in (
        Invitation.objects.filter(
            case__in=templated.filter(template_id__in=list(per_template)).values("pk"),
            state=InvitationState.ACCEPTED,
        )
        .values("case__template_id", "department_id", "department__name")
        .annotate(n=Count("case_id", distinct=True))
        .order_by("case__template_id", "-n", "department__name")
    ):
        if row["n"] / per_template[row["case__template_id"]] >= SUGGESTION_MIN_SHARE:
            taking_part[row["case__template_id"]].append(
                {
                    "department": row["department_id"],
                    "name": row["department__name"],
                    "cases": row["n"],
                }
            )
    out = []
    templates = CaseTemplate.objects.filter(pk__in=list(per_template)).select_related("category")
    for template in templates.prefetch_related("default_departments"):
        current = sorted(template.default_departments.all(), key=lambda d: d.name)
        suggested = taking_part.get(template.pk, [])
        if suggested and {d["department"] for d in suggested} != {d.pk for d in current}:
            out.append(
                {
                    "kind": "update",
                    "template": template.pk,
                    "category": template.category_id,
                    "name": template.name,
                    "cases": per_template[template.pk],
                    "departments": suggested,
                    "current": [{"department": d.pk, "name": d.name} for d in current],
                }
            )
    return sorted(out, key=lambda s: -s["cases"])
