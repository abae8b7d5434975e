"""The leaders' dashboard in the back office: headline, trends, places, departments.

Charts are Apache ECharts, drawn by the phone app's build (entry
``src/dashboard.ts``, included with ``{% vite_entry %}``, core/templatetags/vite.py)
from the figures this view embeds with ``json_script``, the same selectors and
option builders as the API and the app's figures screen: no inline script, no
asset from outside the machine. A click on a place drills into it. The filter takes the API's
parameter names (``from``, ``to``, ``area`` of any level); every refused
filter is shown as an error, and each headline figure carries its definition
(``analytics.selectors.DEFINITIONS``).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import Role
from accounts.selectors import area_paths, has_role
from analytics import selectors
from analytics.functions import one_snapshot
from analytics.scope import AREA_ROLES, may_see_analytics, resolve_scope
from cases.models import READ_ALL_ROLES
from core.errors import DomainError
from departments.models import Department
from grids.choices import AreaLevel
from grids.models import Area
from ratings import selectors as rating_figures
from ratings.selectors import can_read_rating_rows
from templates.models import CaseTemplate, Category
from templates.services import create_template_from_suggestion, set_default_departments


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        return f"{'　' * (obj.level - 1)}{obj.name}"


class ScopeForm(forms.Form):
    """The API's own parameters: ``from``, ``to`` (local days, inclusive) and ``area`` (any level)."""

    to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    area = AreaChoiceField(
        label=gettext_lazy("Area"),
        queryset=Area.objects.filter(level__lte=AreaLevel.COMMUNITY).order_by("path"),
        required=False,
        empty_label=gettext_lazy("Your whole area"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword: added by name, first.
        self.fields = {
            "from": forms.DateField(
                label=gettext_lazy("From"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
            ),
            **self.fields,
        }
        if user is not None and not (user.is_superuser or has_role(user, READ_ALL_ROLES)):
            own = area_paths(user, AREA_ROLES)
            query = Q()
            for path in own:
                query |= Q(path__startswith=path)
            area = self.fields["area"]
            assert isinstance(area, forms.ModelChoiceField)
            area.queryset = area.queryset.filter(query) if own else area.queryset.none()


def refusals(form: ScopeForm) -> list[str]:
    """Each refused filter as one sentence naming the field (shown on the page)."""
    return [
        f"{form.fields[name].label if name in form.fields else ''}：{error}"
        for name, errors in form.errors.items()
        for error in errors
    ]


def dashboard(request):
    if not may_see_analytics(request.user):
        raise DjangoPermissionDenied
    form = ScopeForm(request.GET or None, user=request.user)
    errors = []
    params: dict = {}
    if request.GET and not form.is_valid():
        errors = refusals(form)
    elif request.GET:
        params = form.cleaned_data
    try:
        scope = resolve_scope(
            request.user,
            area_id=params["area"].pk if params.get("area") else None,
            first=params.get("from"),
            last=params.get("to"),
        )
    except DomainError as exc:
        errors.append(str(exc))
        scope = resolve_scope(request.user, area_id=None, first=None, last=None)
    # The rating months the page shows are published first (a write), then every
    # figure is read in one read-only snapshot, the shared totals and percentiles once.
    rating_figures.published(rating_figures.months_touching(scope.first_day, scope.last_day))
    with one_snapshot(), selectors.shared_reads():
        overview = selectors.overview(scope)
        categories = selectors.categories(scope, bucket="month")
        places = selectors.areas(scope)
        timeliness = selectors.timeliness(scope)
        ranking = selectors.departments(scope)
        trend = selectors.trend(scope, bucket="month")
        distributions = selectors.distributions(scope)
        suggestions = selectors.template_suggestions(scope)
    level = scope.area.level if scope.area else AreaLevel.DISTRICT
    child = {AreaLevel.DISTRICT: "town", AreaLevel.TOWN: "grid", AreaLevel.GRID: "community"}.get(
        level
    )
    figures = {
        "trend": trend,
        "distributions": distributions,
        "categories": {"totals": categories["totals"], "rising": categories["rising"]},
        "departments": ranking,
        "places": {
            "level": child,
            "rows": places[{"town": "towns", "grid": "grids", "community": "communities"}[child]]
            if child
            else [],
        },
        "exports": {
            chart: f"{reverse('api:analytics-chart-export', args=[chart])}?{scope_query(scope)}"
            for chart in ("trend", "distributions", "categories", "departments", "areas")
        },
    }
    slowest = sorted(
        (r for r in ranking if r["response_mean"] is not None),
        key=lambda r: -r["response_mean"],
    )[:10]
    query = request.GET.urlencode()
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "form": form,
        "errors": errors,
        "definitions": selectors.DEFINITIONS,
        "shown": _shown(overview, timeliness),
        "scope": scope,
        "overview": overview,
        "timeliness": timeliness,
        "ranking": [
            {**r, "acceptance_percent": _percent(r["accepted"], r["invited"])} for r in ranking[:15]
        ],
        "figures": figures,
        "chart_names": (["places"] if child and figures["places"]["rows"] else [])
        + ["trend", "response", "handling", "categories", "departments"],
        "slowest": [{**r, "response_minutes": _minutes(r["response_mean"])} for r in slowest],
        "suggestions": suggestions,
        "may_accept": request.user.is_superuser or has_role(request.user, Role.SYSADMIN),
        "exports": [
            (
                label,
                f"{reverse('api:analytics-export', args=[kind])}?filetype={filetype}&{scope_query(scope)}",
            )
            for kind, label in (
                ("ranking", _("Department ranking")),
                ("ratings", _("Ratings")),
                ("cases", _("Cases with their times")),
            )
            for filetype in ("xlsx", "csv")
            if kind != "ratings" or can_read_rating_rows(request.user)
        ],
        "query": query,
    }
    return render(request, "admin/analytics/dashboard.html", context)


def _percent(part: int, whole: int, places: int = 1) -> str:
    """``part / whole`` as a percentage to ``places`` decimals, rounded once from the counts."""
    return "—" if not whole else f"{100 * part / whole:.{places}f}%"


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}"


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f}"


def _shown(overview: dict, timeliness: dict) -> dict:
    """The headline figures as printed: times to 0.1 min or h, rates to 0.01 %."""
    return {
        # from the counts: closure_rate itself is already rounded to 0.0001
        "closure_rate": _percent(overview["closed"], overview["raised"] - overview["cancelled"], 2),
        "response_mean": _minutes(overview["response_mean"]),
        "response_median": _minutes(overview["response_median"]),
        "response_p90": _minutes(timeliness["response"]["p90"]),
        "handling_mean": _hours(overview["handling_mean"]),
        "handling_median": _hours(overview["handling_median"]),
        "handling_p90": _hours(timeliness["handling"]["p90"]),
    }


def scope_query(scope) -> str:
    area = f"&area={scope.area.pk}" if scope.area else ""
    return f"from={scope.first_day}&to={scope.last_day}{area}"


def accept_suggestion(request):
    """One click: the suggested template is created (system administrators)."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("analytics-dashboard"))
    try:
        category = Category.objects.get(pk=request.POST.get("category"))
        departments = list(
            Department.objects.filter(pk__in=request.POST.getlist("departments"), is_active=True)
        )
        existing = request.POST.get("template")
        if existing:
            template = set_default_departments(
                CaseTemplate.objects.get(pk=existing), actor=request.user, departments=departments
            )
        else:
            template = create_template_from_suggestion(
                actor=request.user, category=category, departments=departments
            )
    except (Category.DoesNotExist, CaseTemplate.DoesNotExist, ValueError):
        messages.error(request, _("No such category."))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
        return HttpResponseRedirect(
            reverse("admin:templates_casetemplate_change", args=[template.pk])
        )
    return HttpResponseRedirect(reverse("analytics-dashboard"))
