"""Spreadsheets of rating criteria (import/export) and ratings (export, anonymous)."""

from django.utils.translation import gettext_lazy as _
from import_export import fields

from core.spreadsheets import (
    DecimalCellWidget,
    SpreadsheetResource,
    active_field,
    code_field,
    name_field,
    order_field,
)
from ratings.models import Criterion, Rating


class CriterionResource(SpreadsheetResource):
    code = code_field()
    name = name_field()
    weight = fields.Field(attribute="weight", column_name=_("Weight"), widget=DecimalCellWidget())
    position = order_field()
    is_active = active_field()

    header_aliases = {"name": ("准则名称", "评价项"), "weight": ("比重",)}

    class Meta:
        model = Criterion
        import_id_fields = ("code",)
        fields = ("code", "name", "weight", "position", "is_active")


class RatingResource(SpreadsheetResource):
    """Ratings by case and department, one column per criterion; no rater exists to show."""

    case = fields.Field(attribute="case__number", column_name=_("Case number"))
    department = fields.Field(attribute="department__name", column_name=_("Department"))
    overall = fields.Field(attribute="overall", column_name=_("Overall score"))
    comment = fields.Field(attribute="comment", column_name=_("Comment"))
    created_at = fields.Field(attribute="created_at", column_name=_("Rated at"))

    class Meta:
        model = Rating
        fields = ("case", "department", "overall", "comment", "created_at")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.criteria = list(Criterion.objects.order_by("position", "code"))
        for criterion in self.criteria:
            name = f"criterion_{criterion.code}"
            self.fields[name] = fields.Field(column_name=criterion.name, readonly=True)
            setattr(self, f"dehydrate_{name}", self._score_getter(criterion.pk))

    @staticmethod
    def _score_getter(criterion_id):
        def dehydrate(rating):
            for score in rating.scores.all():
                if score.criterion_id == criterion_id:
                    return score.score
            return ""

        return dehydrate

    def get_export_order(self):
        return (
            "case",
            "department",
            *[f"criterion_{c.code}" for c in self.criteria],
            "overall",
            "comment",
            "created_at",
        )

    select_related = ("case", "department")
    prefetch_related = ("scores",)

    def before_import_row(self, row, **kwargs):
        raise ValueError(_("Ratings are given on cases, not imported."))
