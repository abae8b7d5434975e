"""Rating criteria (configured) and ratings (read-only, anonymous)."""

from django.contrib import admin

from accounts.choices import Role
from accounts.selectors import has_role
from cases.admin import ReadOnlyMixin
from core.admin import ScopedAdminMixin
from core.spreadsheets import SpreadsheetAdmin, SpreadsheetExportMixin
from ratings.models import Criterion, Rating, Score
from ratings.resources import CriterionResource, RatingResource


@admin.register(Criterion)
class CriterionAdmin(SpreadsheetAdmin):
    resource_classes = [CriterionResource]
    list_display = ("name", "code", "weight", "position", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")


class ScoreInline(ScopedAdminMixin, ReadOnlyMixin, admin.TabularInline):
    model = Score
    fields = ("criterion", "score")
    readonly_fields = fields
    extra = 0


@admin.register(Rating)
class RatingAdmin(ScopedAdminMixin, ReadOnlyMixin, SpreadsheetExportMixin, admin.ModelAdmin):
    """Ratings name the case and the department, never the rater (there is none stored)."""

    resource_classes = [RatingResource]
    list_display = ("case", "department", "overall", "created_at")
    list_filter = ("department__kind", "department__level", "created_at")
    search_fields = ("case__number", "department__name")
    list_select_related = ("case", "department")
    fields = ("case", "department", "overall", "comment", "created_at")
    readonly_fields = fields
    inlines = [ScoreInline]
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        """Ratings by case are for superusers and auditors; departments see aggregates only.

        One case has one caller, so its scores shown to a department head would
        be that person's. Heads read ``departments/{id}/ratings/`` (K or more).
        """
        user = request.user
        return user.is_active and (user.is_superuser or has_role(user, Role.AUDITOR))

    def has_module_permission(self, request):
        return self.has_view_permission(request)
