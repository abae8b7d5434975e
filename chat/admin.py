"""The rooms' history for audit: read-only, scoped like cases, attachments viewable."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.services import audit_request
from cases.admin import ReadOnlyMixin
from chat.choices import MessageKind
from chat.models import Attachment, Message
from chat.payloads import system_text
from core.admin import ScopedAdminMixin


@admin.register(Message)
class MessageAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "created_at", "case", "kind", "sender", "content", "attachment_link")
    list_filter = ("kind",)
    search_fields = ("case__number", "text", "sender__name", "sender__username")
    list_select_related = ("case", "sender", "attachment", "event__actor")
    fields = ("case", "kind", "sender", "content", "attachment_link", "client_id", "created_at")
    readonly_fields = fields
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("text"))
    def content(self, message: Message) -> str:
        if message.kind == MessageKind.SYSTEM and message.event_id:
            return system_text(message.event)  # type: ignore[arg-type]
        return message.text

    @admin.display(description=_("attachment"))
    def attachment_link(self, message: Message) -> str:
        if not message.attachment_id:
            return "—"
        url = reverse("admin:chat_attachment_file", args=[message.attachment_id])
        return format_html('<a href="{}" target="_blank">{}</a>', url, message.attachment)


@admin.register(Attachment)
class AttachmentAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "created_at", "case", "kind", "uploader", "content_type", "size", "open")
    list_filter = ("kind",)
    search_fields = ("case__number", "uploader__name", "uploader__username")
    list_select_related = ("case", "uploader")
    fields = (
        "case",
        "kind",
        "uploader",
        "content_type",
        "size",
        "width",
        "height",
        "duration_ms",
        "created_at",
        "open",
    )
    readonly_fields = fields
    show_full_result_count = False

    def get_urls(self):
        view = self.admin_site.admin_view(self.file_view)
        return [path("<int:pk>/file/", view, name="chat_attachment_file"), *super().get_urls()]

    @admin.display(description=_("file"))
    def open(self, attachment: Attachment) -> str:
        url = reverse("admin:chat_attachment_file", args=[attachment.pk])
        if attachment.kind == MessageKind.IMAGE:
            return format_html(
                '<a href="{}" target="_blank"><img src="{}" alt="" style="max-height:120px"></a>',
                url,
                url,
            )
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("open"))

    def file_view(self, request, pk: int):
        """Stream the file to someone allowed to view attachments of a case they can see."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = get_object_or_404(self.get_queryset(request), pk=pk)
        audit_request(request, "attachment.download", obj=attachment, via="admin")
        return FileResponse(
            attachment.file.open("rb"),
            content_type=attachment.content_type,
            as_attachment=attachment.kind == MessageKind.FILE,
            filename=attachment.file.name.rsplit("/", 1)[-1],
        )
