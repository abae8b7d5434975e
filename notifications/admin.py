from django.contrib import admin

from cases.admin import ReadOnlyMixin
from core.admin import ScopedAdminMixin
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Who was told what (read-only: the services write these rows)."""

    list_display = ("created_at", "recipient", "kind", "case", "read_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("case__number", "recipient__name", "recipient__username")
    list_select_related = ("recipient", "case")
    raw_id_fields = ("recipient", "case", "event")
    date_hierarchy = "created_at"
    show_full_result_count = False
