"""Shared admin pieces: a form page in the admin's look, and domain errors as messages."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.models import FailedTask


class ScopedAdminMixin:
    """Every admin page of a scoped model lists and opens only the reader's rows.

    ``get_queryset`` (the changelist, the change page, actions, exports, autocomplete)
    is narrowed once by the model's ``visible_to(request.user)``
    (``cases.models.CaseQuerySet``, ``cases.models.CaseOwnedQuerySet``), the admin's
    twin of ``core.api.viewsets.ScopedViewSetMixin``. ``tests/cases/test_scoping.py``
    checks that every admin of a case-owned model is built on it.
    """

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


def apply_form_errors(form, error: DomainError) -> None:
    """Show a domain error on the form: per field where it names one, else on top."""
    placed = False
    for name, problems in error.fields.items():
        if name in form.fields:
            for problem in problems:
                form.add_error(name, problem)
            placed = True
    if not placed or not error.fields:
        form.add_error(None, str(error))


def run_action_form(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    form_class,
    title: str,
    submit_label: str,
    action: Callable[[object], object],
    success_url: str | Callable[[object], str],
    success_message: str,
    original=None,
    form_kwargs: dict | None = None,
    intro: str = "",
) -> HttpResponse:
    """A one-form admin page: show it, run ``action(form)`` when valid, report domain errors.

    ``action`` calls a service; a ``DomainError`` it raises is shown on the form
    and nothing is changed (the services are atomic). ``success_url`` may be a
    callable taking what ``action`` returned.
    """
    form_kwargs = form_kwargs or {}
    form = form_class(request.POST or None, **form_kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            result = action(form)
        except DomainError as error:
            apply_form_errors(form, error)
        else:
            messages.success(request, success_message)
            url = success_url(result) if callable(success_url) else success_url
            return HttpResponseRedirect(url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": original,
        "title": title,
        "intro": intro,
        "form": form,
        "media": model_admin.media + form.media,
        "submit_label": submit_label,
    }
    return TemplateResponse(request, "admin/core/action_form.html", context)


@admin.register(FailedTask)
class FailedTaskAdmin(admin.ModelAdmin):
    """Background tasks that failed for good: kept for the administrators, never edited."""

    list_display = ("failed_at", "name", "task_id", "short_error")
    list_filter = ("name", "failed_at")
    search_fields = ("name", "task_id", "error")
    date_hierarchy = "failed_at"
    readonly_fields = ("name", "task_id", "arguments", "error", "failed_at")

    @admin.display(description=_("error"))
    def short_error(self, obj: FailedTask) -> str:
        return obj.error[:120]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
