"""Indicators over HTTP: ``analytics/<indicator>/?from=&to=&area=``, scoped to the asker."""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import exports, maps, selectors
from analytics.scope import Scope, resolve_scope
from audit.services import audit_request
from core.errors import PermissionDenied
from core.exports import csv_response, xlsx_response
from ratings.selectors import can_read_rating_rows


class ScopeQuerySerializer(serializers.Serializer):
    # "from" is a Python keyword: declared below under its real name.
    to = serializers.DateField(
        required=False,
        help_text=_(
            "Last day, inclusive: the whole local day, Asia/Shanghai (YYYY-MM-DD); today by default."
        ),
    )
    area = serializers.IntegerField(
        required=False, min_value=1, help_text=_("An area node; your own area by default.")
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            required=False,
            help_text=_(
                "First day, from 00:00 local time, Asia/Shanghai (YYYY-MM-DD); the same date a"
                " year before the last by default (both ends included)."
            ),
        )
        return fields


class BucketQuerySerializer(ScopeQuerySerializer):
    bucket = serializers.ChoiceField(
        choices=list(selectors.BUCKETS), required=False, default="month"
    )


class IndicatorView(APIView):
    """Base: read the scope, compute, answer with the period and area it covers."""

    query_serializer: type[serializers.Serializer] = ScopeQuerySerializer

    def scope(self, request) -> tuple[Scope, dict]:
        query = self.query_serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        scope = resolve_scope(
            request.user,
            area_id=params.get("area"),
            first=params.get("from"),
            last=params.get("to"),
        )
        return scope, params

    def compute(self, scope: Scope, params: dict):
        raise NotImplementedError

    def get(self, request):
        scope, params = self.scope(request)
        area = scope.area
        return Response(
            {
                "from": scope.first_day,
                "to": scope.last_day,
                "area": {"id": area.pk, "name": area.name, "level": area.level} if area else None,
                "data": self.compute(scope, params),
            }
        )


def _documented(summary: str, query=ScopeQuerySerializer, defined: tuple[str, ...] = ()):
    """The schema of an indicator: its summary, query, and the definitions of its figures."""
    described = lazy(lambda: selectors.definitions_text(*defined), str)() if defined else summary
    return extend_schema(
        summary=summary,
        description=described,
        parameters=[query],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=summary)},
    )


class OverviewView(IndicatorView):
    @_documented(
        "Headline figures: raised, closed, closure rate, dispatches, times, rating",
        defined=(
            "raised",
            "closure_rate",
            "dispatches",
            "response",
            "handling",
            "percentiles",
            "rating",
        ),
    )
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        return selectors.overview(scope)


class CategoriesView(IndicatorView):
    query_serializer = BucketQuerySerializer

    @_documented(
        "Hot problems: cases by category over time, rising categories", BucketQuerySerializer
    )
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        return selectors.categories(scope, bucket=params["bucket"])


class AreasView(IndicatorView):
    @_documented("High-incidence areas: towns, grids, communities, by category")
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        return selectors.areas(scope)


class TimelinessView(IndicatorView):
    @_documented(
        "Response and handling times (p50, p90), overdue cases by department",
        defined=("response", "handling", "percentiles", "overdue"),
    )
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        return selectors.timeliness(scope)


class DepartmentsView(IndicatorView):
    @_documented(
        "Cooperation and the year-end ranking of departments",
        defined=("department_response", "rating"),
    )
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        return selectors.departments(scope)

    def finalize_response(self, request, response, *args, **kwargs):
        """Adds ``rating_min_group``: the K below which a department-month shows no score."""
        if response.status_code == 200 and isinstance(response.data, dict):
            response.data["rating_min_group"] = settings.JINSHAO_RATING_MIN_GROUP
        return super().finalize_response(request, response, *args, **kwargs)


class TrendView(IndicatorView):
    query_serializer = BucketQuerySerializer

    @_documented(
        "Cases by day, week or month of raising: raised, closed (now) and overdue",
        BucketQuerySerializer,
        defined=("raised", "overdue"),
    )
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        return selectors.trend(scope, bucket=params["bucket"])


class DistributionsView(IndicatorView):
    @_documented(
        "Histograms of response and handling times with the exact mean, median and 90th"
        " percentile (seconds, unrounded); twelve equal bins from 0, the last one open",
        defined=("response", "handling", "percentiles"),
    )
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        return selectors.distributions(scope)


class ChartExportView(IndicatorView):
    """A chart's data as a workbook (xlsx, Chinese headers), scoped like its JSON."""

    query_serializer = BucketQuerySerializer

    @extend_schema(
        summary="A chart's data as xlsx: trend, distributions, categories, departments, areas",
        parameters=[
            BucketQuerySerializer,
            OpenApiParameter(
                "chart",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(exports.CHART_SHEETS),
            ),
        ],
        responses={
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiResponse(OpenApiTypes.BINARY),
        },
    )
    def get(self, request, chart: str):  # type: ignore[override]  # the URL names the chart
        scope, params = self.scope(request)
        audit_request(
            request,
            "export.chart",
            obj=scope.area,
            chart=chart,
            filetype="xlsx",
            period=[str(scope.first_day), str(scope.last_day)],
        )
        sheet = exports.CHART_SHEETS[chart](scope, bucket=params["bucket"])
        filename = f"jinshao-{chart}-{scope.first_day:%Y%m%d}-{scope.last_day:%Y%m%d}"
        return xlsx_response(sheet, filename)


class TemplateSuggestionsView(IndicatorView):
    @_documented("Draft templates suggested by cases raised without one")
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        return selectors.template_suggestions(scope)


class MapQuerySerializer(ScopeQuerySerializer):
    level = serializers.ChoiceField(
        choices=list(maps.LEVELS),
        required=False,
        default="town",
        help_text=_("The areas drawn: towns, grids or communities (in your area)."),
    )
    indicator = serializers.ChoiceField(
        choices=list(maps.INDICATORS),
        required=False,
        default="cases",
        help_text=_(
            "cases: cases raised in the period; per_1000: cases per 1,000 residents (null"
            " where the population is unknown); overdue_share: overdue cases / (cases −"
            " cancelled), 0–1; mean_response: mean seconds from first dispatch to first"
            " acceptance. All unrounded: round once where shown."
        ),
    )
    category = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only cases of this problem category.")
    )


class DensityQuerySerializer(ScopeQuerySerializer):
    category = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only cases of this problem category.")
    )
    cell = serializers.FloatField(
        required=False,
        default=maps.DENSITY_CELL,
        min_value=maps.DENSITY_CELLS[0],
        max_value=maps.DENSITY_CELLS[1],
        help_text=_("A cell's side in degrees of longitude and latitude (0.01° ≈ 1 km)."),
    )


class MapView(IndicatorView):
    query_serializer = MapQuerySerializer

    @_documented(
        "The choropleth: area boundaries (GeoJSON FeatureCollection) with one indicator each",
        MapQuerySerializer,
    )
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        """The choropleth plus ``tiles``: ``{"url": XYZ template, "attribution": text}``
        from settings (``url`` empty: draw no background tiles)."""
        collection = maps.choropleth(
            scope,
            level=params["level"],
            indicator=params["indicator"],
            category=params.get("category"),
        )
        collection["tiles"] = {
            "url": settings.JINSHAO_MAP_TILES_URL,
            "attribution": settings.JINSHAO_MAP_TILES_ATTRIBUTION,
        }
        return collection


class DensityView(IndicatorView):
    query_serializer = DensityQuerySerializer

    @_documented("Case density: case locations counted per grid cell", DensityQuerySerializer)
    def get(self, request):
        return super().get(request)

    def compute(self, scope, params):
        return maps.density(scope, category=params.get("category"), cell=params["cell"])


class ExportQuerySerializer(ScopeQuerySerializer):
    # Not "format": DRF reads that one for content negotiation.
    filetype = serializers.ChoiceField(choices=["xlsx", "csv"], required=False, default="xlsx")


class ExportView(IndicatorView):
    """A spreadsheet (xlsx or csv, Chinese headers) of ratings, the ranking or the cases."""

    query_serializer = ExportQuerySerializer

    @extend_schema(
        summary="Spreadsheet export for auditors: ratings, ranking or cases",
        parameters=[ExportQuerySerializer],
        responses={
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
        },
    )
    def get(self, request, kind: str):  # type: ignore[override]  # the URL names the sheet
        scope, params = self.scope(request)
        if kind == "ratings" and not can_read_rating_rows(request.user):
            # One row is one caller's verdict on one case: auditors only (docs/security.md).
            raise PermissionDenied(_("Only auditors may export ratings one by one."))
        audit_request(
            request,
            f"export.{kind}",
            obj=scope.area,
            filetype=params["filetype"],
            period=[str(scope.first_day), str(scope.last_day)],
        )
        sheet = exports.SHEETS[kind](scope)
        filename = f"jinshao-{kind}-{scope.first_day:%Y%m%d}-{scope.last_day:%Y%m%d}"
        if params["filetype"] == "csv":
            return csv_response(sheet, filename)
        return xlsx_response(sheet, filename)
