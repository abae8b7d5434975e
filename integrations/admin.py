"""The integration back office: external systems and their code mappings
(spreadsheets too), the review queue with its two decisions, what came in
(deliveries), what goes out (the outbox), and the one-click import of
platform cases. Every change goes through ``integrations.services``; the
logs are read-only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.services import audit_request
from cases.admin import ReadOnlyMixin
from cases.models import Case
from core.admin import ScopedAdminMixin, run_action_form
from core.spreadsheets import SpreadsheetAdmin
from integrations import services
from integrations.admin_views import import_platform_cases, may_import
from integrations.choices import OutboundState, ReviewState
from integrations.forms import DismissReviewForm, ExternalSystemForm, ResolveReviewForm
from integrations.labels import CHANNEL_LABELS, channel_label, event_label, payload_list
from integrations.models import (
    AreaMapping,
    CategoryMapping,
    Delivery,
    ExternalCase,
    ExternalSystem,
    IntakeReview,
    OutboundAttempt,
    OutboundMessage,
)
from integrations.resources import AreaMappingResource, CategoryMappingResource


def _link(url: str, text) -> str:
    return format_html('<a href="{}">{}</a>', url, text)


def case_link(case: Case | None) -> str:
    if case is None:
        return ""
    return _link(reverse("admin:cases_case_change", args=[case.pk]), case.number)


def filtered_changelist(model, **params) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


# ------------------------------------------------------------------ systems and mappings


class CategoryMappingInline(admin.TabularInline):
    model = CategoryMapping
    fields = ("external_code", "external_name", "template")
    autocomplete_fields = ("template",)
    extra = 0


class AreaMappingInline(admin.TabularInline):
    model = AreaMapping
    fields = ("external_code", "external_name", "community")
    autocomplete_fields = ("community",)
    extra = 0


@admin.register(ExternalSystem)
class ExternalSystemAdmin(admin.ModelAdmin):
    """A system, its mappings and its traffic; the secret is written here, shown once, never read back."""

    form = ExternalSystemForm
    change_form_template = "integrations/admin/system_change_form.html"
    list_display = ("code", "name", "source", "is_active", "callback_url")
    list_filter = ("source", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("secret_state", "traffic")
    fieldsets = (
        (None, {"fields": ("code", "name", "source", "is_active", "callback_url")}),
        (_("Shared secret"), {"fields": ("secret_state", "new_secret", "generate_secret")}),
        (_("Traffic"), {"fields": ("traffic",)}),
    )
    inlines = [CategoryMappingInline, AreaMappingInline]

    def get_readonly_fields(self, request, obj=None):
        # The code is in the platform's intake URL and in our cases' external ids.
        if obj is not None:
            return ("code", *self.readonly_fields)
        return self.readonly_fields

    @admin.display(description=_("shared secret"))
    def secret_state(self, obj: ExternalSystem | None) -> str:
        if obj is None or obj.pk is None:
            return gettext("Made when the system is saved, and shown once.")
        return gettext("Set (not shown again).") if obj.secret else gettext("Not set.")

    @admin.display(description=_("traffic"))
    def traffic(self, obj: ExternalSystem | None) -> str:
        if obj is None or obj.pk is None:
            return ""
        return format_html_join(" · ", '<a href="{}">{}</a>', self.traffic_links(obj))

    @staticmethod
    def traffic_links(obj: ExternalSystem) -> list[tuple[str, str]]:
        by_system = {"system__id__exact": obj.pk}
        return [
            (filtered_changelist(Delivery, **by_system), gettext("Inbound deliveries")),
            (
                filtered_changelist(IntakeReview, **by_system, state__exact=ReviewState.PENDING),
                gettext("Waiting for review"),
            ),
            (filtered_changelist(ExternalCase, **by_system), gettext("Cases taken in")),
            (filtered_changelist(OutboundMessage, **by_system), gettext("Outbox")),
        ]

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_cases_view)
        extra = [path("import-cases/", view, name="integrations_externalsystem_import_cases")]
        return extra + super().get_urls()

    def import_cases_view(self, request):
        return import_platform_cases(self, request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if may_import(request.user):
            extra_context["import_url"] = (
                reverse("admin:integrations_externalsystem_import_cases")
                + "?"
                + urlencode({"system": object_id})
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        secret = getattr(form, "secret_to_show", "")
        if secret:
            request._integration_secret = secret  # shown by response_add / response_change
            audit_request(request, "integration.secret_set", obj=obj, replaced=change)

    def _secret_page(self, request, obj):
        secret = getattr(request, "_integration_secret", "")
        if not secret:
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": gettext("The shared secret of %(system)s") % {"system": obj},
            "secret": secret,
            "continue_url": reverse("admin:integrations_externalsystem_change", args=[obj.pk]),
        }
        response = TemplateResponse(request, "integrations/admin/secret_once.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def response_add(self, request, obj, post_url_continue=None):
        return self._secret_page(request, obj) or super().response_add(
            request, obj, post_url_continue
        )

    def response_change(self, request, obj):
        return self._secret_page(request, obj) or super().response_change(request, obj)


class MappingAdmin(SpreadsheetAdmin):
    list_filter = ("system",)
    list_per_page = 100


@admin.register(CategoryMapping)
class CategoryMappingAdmin(MappingAdmin):
    resource_classes = [CategoryMappingResource]
    list_display = ("external_code", "external_name", "template", "system")
    search_fields = ("external_code", "external_name", "template__code", "template__name")
    autocomplete_fields = ("system", "template")
    list_select_related = ("system", "template")


@admin.register(AreaMapping)
class AreaMappingAdmin(MappingAdmin):
    resource_classes = [AreaMappingResource]
    list_display = ("external_code", "external_name", "community", "system")
    search_fields = ("external_code", "external_name", "community__code", "community__name")
    autocomplete_fields = ("system", "community")
    list_select_related = ("system", "community")


# ------------------------------------------------------------------ what came in


class ChannelFilter(admin.SimpleListFilter):
    """The channels by their labels (the codes stay in the URL)."""

    title = _("channel")
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return list(CHANNEL_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(channel=self.value()) if self.value() else queryset


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "received_at",
        "system",
        "channel_name",
        "external_id",
        "outcome",
        "status_code",
        "error_code",
        "times",
        "case_number",
        "review_link",
    )
    list_filter = ("system", ChannelFilter, "outcome", "received_at")
    search_fields = ("external_id",)
    date_hierarchy = "received_at"
    list_select_related = ("system", "case", "review")
    show_full_result_count = False
    fields = (
        "received_at",
        "system",
        "channel_name",
        "external_id",
        "outcome",
        "status_code",
        "error_code",
        "times",
        "message",
        "case_number",
        "review_link",
        "remote_addr",
        "body_text",
    )
    readonly_fields = fields

    @admin.display(description=_("channel"), ordering="channel")
    def channel_name(self, obj: Delivery) -> str:
        return channel_label(obj.channel)

    @admin.display(description=_("what they sent"))
    def body_text(self, obj: Delivery) -> str:
        """The body as named values when it is a JSON object (it is, from every channel)."""
        return payload_list(obj.body)

    @admin.display(description=_("case"))
    def case_number(self, obj: Delivery) -> str:
        return case_link(obj.case)

    @admin.display(description=_("review"))
    def review_link(self, obj: Delivery) -> str:
        if obj.review_id is None:
            return ""
        url = reverse("admin:integrations_intakereview_change", args=[obj.review_id])
        return _link(url, obj.review)


RECEIVED_LABELS = (
    ("title", _("title")),
    ("description", _("description")),
    ("address", _("address")),
    ("latitude", _("latitude")),
    ("longitude", _("longitude")),
    ("priority", _("priority")),
)


def pending_first():
    """Waiting reviews before decided ones (then newest first)."""
    return models.Case(
        models.When(state=ReviewState.PENDING, then=models.Value(0)),
        default=models.Value(1),
        output_field=models.IntegerField(),
    ).asc()


@admin.register(IntakeReview)
class IntakeReviewAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The review queue: what could not become a case alone, decided on its page."""

    change_form_template = "integrations/admin/review_change_form.html"
    change_list_template = "integrations/admin/review_change_list.html"
    list_display = (
        "created_at",
        "system",
        "external_id",
        "short_title",
        "state",
        "problems_text",
        "case_number",
    )
    list_filter = ("state", "system", "created_at")
    search_fields = ("external_id",)
    list_select_related = ("system", "case")
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("system", "external_id", "created_at", "state", "problems_text")}),
        (_("What they sent"), {"fields": ("received", "their_codes")}),
        (_("Decision"), {"fields": ("case_number", "decided_by", "decided_at", "note")}),
        (_("As received"), {"fields": ("raw_payload",), "classes": ("collapse",)}),
    )
    readonly_fields = (
        "system",
        "external_id",
        "created_at",
        "state",
        "problems_text",
        "received",
        "their_codes",
        "case_number",
        "decided_by",
        "decided_at",
        "note",
        "raw_payload",
    )

    def get_ordering(self, request):
        return [pending_first(), "-created_at"]

    @admin.display(description=_("title"))
    def short_title(self, obj: IntakeReview) -> str:
        return obj.title

    @admin.display(description=_("problems"))
    def problems_text(self, obj: IntakeReview) -> str:
        return format_html_join(
            "", "<div>{}</div>", ((services.describe_problem(p),) for p in obj.problems or [])
        )

    @admin.display(description=_("case"))
    def case_number(self, obj: IntakeReview) -> str:
        return case_link(obj.case)

    @admin.display(description=_("case fields"))
    def received(self, obj: IntakeReview) -> str:
        fields = (obj.payload or {}).get("case") or {}
        rows = [(label, fields.get(key)) for key, label in RECEIVED_LABELS]
        if fields.get("answers"):
            rows.append((_("template answers"), payload_list(fields["answers"])))
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td></tr>",
                ((label, "—" if value in (None, "") else value) for label, value in rows),
            ),
        )

    @admin.display(description=_("their codes"))
    def their_codes(self, obj: IntakeReview) -> str:
        received = (obj.payload or {}).get("received") or {}
        return format_html(
            "{}: {} · {}: {}",
            gettext("category"),
            received.get("category_code", "—"),
            gettext("area"),
            received.get("area_code", "—"),
        )

    @admin.display(description=_("as received"))
    def raw_payload(self, obj: IntakeReview) -> str:
        return payload_list((obj.payload or {}).get("received") or {})

    # ----------------------------------------------------------- decisions

    @staticmethod
    def may_decide(request) -> bool:
        return request.user.has_perm("integrations.change_intakereview")

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="integrations_intakereview_resolve",
            ),
            path(
                "<int:pk>/dismiss/",
                self.admin_site.admin_view(self.dismiss_view),
                name="integrations_intakereview_dismiss",
            ),
        ]
        return extra + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if may_import(request.user):
            extra_context["import_url"] = reverse("admin:integrations_externalsystem_import_cases")
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        review = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if review is not None and review.state == ReviewState.PENDING and self.may_decide(request):
            extra_context["review_links"] = [
                (
                    reverse("admin:integrations_intakereview_resolve", args=[review.pk]),
                    _("Create the case"),
                ),
                (
                    reverse("admin:integrations_intakereview_dismiss", args=[review.pk]),
                    _("Dismiss"),
                ),
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def _pending(self, request, pk) -> tuple[IntakeReview, HttpResponseRedirect | None]:
        """The review to decide on, or the way back to its page when it is decided already."""
        if not self.may_decide(request):
            raise PermissionDenied
        review = get_object_or_404(self.get_queryset(request).select_related("system"), pk=pk)
        if review.state == ReviewState.PENDING:
            return review, None
        self.message_user(
            request,
            gettext("This delivery was already handled: %(state)s.")
            % {"state": review.get_state_display()},
            messages.ERROR,
        )
        return review, HttpResponseRedirect(self._change_url(review))

    @staticmethod
    def _change_url(review: IntakeReview) -> str:
        return reverse("admin:integrations_intakereview_change", args=[review.pk])

    @staticmethod
    def _suggested(review: IntakeReview) -> dict:
        """The mappings that exist for its codes now (one of the two may be known)."""
        received = (review.payload or {}).get("received") or {}
        category = CategoryMapping.objects.filter(
            system=review.system, external_code=str(received.get("category_code", ""))
        ).first()
        area = AreaMapping.objects.filter(
            system=review.system, external_code=str(received.get("area_code", ""))
        ).first()
        return {
            "template": category.template_id if category else None,
            "community": area.community_id if area else None,
        }

    def _problems_intro(self, review: IntakeReview) -> str:
        problems = " ".join(services.describe_problem(p) for p in review.problems or [])
        return gettext("%(title)s — %(problems)s") % {"title": review.title, "problems": problems}

    def resolve_view(self, request, pk):
        review, back = self._pending(request, pk)
        if back is not None:
            return back
        return run_action_form(
            self,
            request,
            form_class=ResolveReviewForm,
            title=gettext("Create the case"),
            submit_label=gettext("Create the case"),
            original=review,
            form_kwargs={"initial": self._suggested(review)},
            intro=self._problems_intro(review),
            action=lambda form: services.resolve_review(
                review,
                actor=request.user,
                template=form.cleaned_data["template"],
                community=form.cleaned_data["community"],
                remember=form.cleaned_data["remember"],
            ),
            success_url=self._change_url(review),
            success_message=gettext("The case was created."),
        )

    def dismiss_view(self, request, pk):
        review, back = self._pending(request, pk)
        if back is not None:
            return back
        return run_action_form(
            self,
            request,
            form_class=DismissReviewForm,
            title=gettext("Dismiss"),
            submit_label=gettext("Dismiss"),
            original=review,
            intro=self._problems_intro(review),
            action=lambda form: services.dismiss_review(
                review, actor=request.user, reason=form.cleaned_data["note"]
            ),
            success_url=self._change_url(review),
            success_message=gettext("The delivery was dismissed."),
        )


@admin.register(ExternalCase)
class ExternalCaseAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("external_id", "system", "case_number", "case_state", "created_at")
    list_filter = ("system", "created_at")
    search_fields = ("external_id", "case__number")
    list_select_related = ("system", "case")
    show_full_result_count = False
    fields = ("system", "external_id", "case_number", "case_state", "created_at")
    readonly_fields = fields

    @admin.display(description=_("case"), ordering="case__number")
    def case_number(self, obj: ExternalCase) -> str:
        return case_link(obj.case)

    @admin.display(description=_("state"))
    def case_state(self, obj: ExternalCase) -> str:
        return obj.case.get_state_display()


# ------------------------------------------------------------------ what goes out


class OutboundAttemptInline(ScopedAdminMixin, ReadOnlyMixin, admin.TabularInline):
    model = OutboundAttempt
    fields = ("at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("integrations.view_outboundmessage")  # part of the message


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """The outbox: each status change sent back, its attempts, and "retry now"."""

    list_display = (
        "created_at",
        "system",
        "case_number",
        "event_kind",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("state", "system", "created_at")
    search_fields = ("case__number",)
    list_select_related = ("system", "case")
    show_full_result_count = False
    actions = ["retry_selected"]
    fields = (
        "system",
        "case_number",
        "event_kind",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status",
        "last_error",
        "created_at",
        "delivered_at",
        "payload_text",
    )
    readonly_fields = fields
    inlines = [OutboundAttemptInline]

    @admin.display(description=_("case"), ordering="case__number")
    def case_number(self, obj: OutboundMessage) -> str:
        return case_link(obj.case)

    @admin.display(description=_("event"))
    def event_kind(self, obj: OutboundMessage) -> str:
        return event_label((obj.payload or {}).get("event", ""))

    @admin.display(description=_("payload"))
    def payload_text(self, obj: OutboundMessage) -> str:
        return payload_list(obj.payload)

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("integrations.change_outboundmessage")

    @admin.action(description=_("Retry the selected messages now"), permissions=["retry"])
    def retry_selected(self, request, queryset):
        count = 0
        for message in queryset.filter(state=OutboundState.PENDING):
            services.retry_now(message, actor=request.user)
            count += 1
        self.message_user(
            request,
            gettext("%(n)d message(s) will be sent at the next run.") % {"n": count},
            messages.SUCCESS if count else messages.WARNING,
        )
