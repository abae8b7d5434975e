from django.urls import path, re_path

from analytics.api import views

urlpatterns = [
    path("analytics/overview/", views.OverviewView.as_view(), name="analytics-overview"),
    path("analytics/categories/", views.CategoriesView.as_view(), name="analytics-categories"),
    path("analytics/areas/", views.AreasView.as_view(), name="analytics-areas"),
    path("analytics/timeliness/", views.TimelinessView.as_view(), name="analytics-timeliness"),
    path("analytics/map/", views.MapView.as_view(), name="analytics-map"),
    path("analytics/density/", views.DensityView.as_view(), name="analytics-density"),
    path("analytics/trend/", views.TrendView.as_view(), name="analytics-trend"),
    path(
        "analytics/distributions/",
        views.DistributionsView.as_view(),
        name="analytics-distributions",
    ),
    re_path(
        r"^analytics/(?P<chart>trend|distributions|categories|departments|areas)/xlsx/$",
        views.ChartExportView.as_view(),
        name="analytics-chart-export",
    ),
    path("analytics/departments/", views.DepartmentsView.as_view(), name="analytics-departments"),
    re_path(
        r"^analytics/exports/(?P<kind>ratings|ranking|cases)/$",
        views.ExportView.as_view(),
        name="analytics-export",
    ),
    path(
        "analytics/template-suggestions/",
        views.TemplateSuggestionsView.as_view(),
        name="analytics-template-suggestions",
    ),
]
