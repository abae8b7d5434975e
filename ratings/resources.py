"""Spreadsheet import/export of criteria, export of ratings (stub)."""

from import_export import resources

from ratings.models import Criterion, Rating


class CriterionResource(resources.ModelResource):
    class Meta:
        model = Criterion


class RatingResource(resources.ModelResource):
    class Meta:
        model = Rating
