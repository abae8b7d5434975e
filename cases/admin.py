"""The case back office: the list, the case page with its transition buttons,
and one-form pages to raise, edit, invite and rate — every change through
``cases.services`` / ``ratings.services``; every page scoped by its model's
``visible_to`` through ``core.admin.ScopedAdminMixin``."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin
from import_export.admin import ExportMixin

from cases import services
from cases.choices import (
    INVITABLE_STATES,
    SUPERVISED_STATES,
    CaseState,
    ExtensionState,
    InvitationState,
    OrderState,
)
from cases.forms import (
    CaseRaiseForm,
    DraftEditForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    InvitationActionForm,
    InviteForm,
    OrderAnswerForm,
    RatingForm,
    ReasonForm,
    ReturnForm,
    SupervisionOrderForm,
)
from cases.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    ExtensionRequest,
    Holiday,
    Invitation,
    SupervisionOrder,
    SupervisionStep,
)
from cases.permissions import (
    can_rate,
    can_review,
    can_steer,
    can_submit,
    can_supervise,
    holds_open_invitation,
    is_handler,
    is_superuser,
)
from cases.resources import CaseResource
from core.admin import ScopedAdminMixin, run_action_form
from core.errors import DomainError
from departments.models import Department
from ratings.models import Criterion
from ratings.services import rate_department


class ReadOnlyMixin:
    """Rows written only by services: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvitationInline(ScopedAdminMixin, ReadOnlyMixin, admin.TabularInline):
    model = Invitation
    fields = ("department", "person", "state", "reason", "invited_at", "responded_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True


def event_details(event: CaseEvent) -> str:
    """Who or what an event concerns: department and person, from its data."""
    data = event.data or {}
    return " · ".join(str(data[k]) for k in ("department", "person") if data.get(k))


class SupervisionOrderInline(ScopedAdminMixin, ReadOnlyMixin, admin.TabularInline):
    model = SupervisionOrder
    extra = 0
    fields = ("created_at", "issued_by", "instruction", "due_at", "state", "answer", "answered_by")
    readonly_fields = fields


class ExtensionInline(ScopedAdminMixin, ReadOnlyMixin, admin.TabularInline):
    model = ExtensionRequest
    extra = 0
    fields = (
        "created_at",
        "requested_by",
        "reason",
        "current_deadline",
        "requested_deadline",
        "state",
        "decided_by",
        "decision_note",
    )
    readonly_fields = fields


class CaseEventInline(ScopedAdminMixin, ReadOnlyMixin, admin.TabularInline):
    model = CaseEvent
    fields = ("created_at", "kind", "actor", "from_state", "to_state", "concerns", "note")
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("timeline")

    @admin.display(description=_("concerns"))
    def concerns(self, obj: CaseEvent) -> str:
        return event_details(obj)


#: Transition name → service call for the admin's buttons and forms.
TRANSITION_SERVICES = {
    "submit": lambda case, user, data: services.submit_case(
        case, actor=user, note=data.get("note", "")
    ),
    "approve": lambda case, user, data: services.approve_case(
        case, actor=user, note=data.get("note", "")
    ),
    "send_back": lambda case, user, data: services.send_back_case(
        case, actor=user, reason=data.get("reason", "")
    ),
    "cancel": lambda case, user, data: services.cancel_case(
        case, actor=user, reason=data.get("reason", "")
    ),
    "complete": lambda case, user, data: services.complete_case(
        case, actor=user, note=data.get("note", "")
    ),
    "reopen": lambda case, user, data: services.reopen_case(
        case, actor=user, reason=data.get("reason", "")
    ),
}


@admin.register(Case)
class CaseAdmin(ScopedAdminMixin, ExportMixin, FSMAdminMixin, admin.ModelAdmin):
    resource_classes = [CaseResource]
    fsm_fields = ["state"]
    fsm_forms = {"send_back": ReasonForm, "cancel": ReasonForm, "reopen": ReasonForm}
    change_form_template = "admin/cases/case/change_form.html"
    list_display = (
        "number",
        "title",
        "state",
        "community",
        "category",
        "caller",
        "created_at",
        "deadline",
        "overdue",
    )
    list_filter = ("state", "source", "priority", "category", "created_at")
    search_fields = ("number", "title", "address", "external_id")
    list_select_related = ("community", "category", "caller")
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    autocomplete_fields = ("community", "category", "template", "caller")
    fieldsets = (
        (None, {"fields": ("number", "title", "state", "category", "template", "priority")}),
        (_("Place"), {"fields": ("community", "address", "latitude", "longitude")}),
        (_("Caller and source"), {"fields": ("caller", "source", "external_id")}),
        (_("Details"), {"fields": ("description", "answers")}),
        (
            _("Times"),
            {
                "fields": (
                    "created_at",
                    "submitted_at",
                    "dispatched_at",
                    "first_accepted_at",
                    "completed_at",
                    "closed_at",
                    "cancelled_at",
                    "response_deadline",
                    "deadline",
                )
            },
        ),
    )
    inlines = [InvitationInline, SupervisionOrderInline, ExtensionInline, CaseEventInline]

    class Media:
        css = {"all": ["core/admin.css"]}

    def get_readonly_fields(self, request, obj=None):
        # Nothing is edited in place: drafts through "Edit draft", the rest by transitions.
        return [f.name for f in Case._meta.fields if f.name != "id"]

    def has_delete_permission(self, request, obj=None):
        return False  # cases are cancelled, never deleted

    @admin.display(description=_("overdue"))
    def overdue(self, obj: Case) -> str:
        # A word, not a tick: a green tick for "overdue" reads as good news.
        if not obj.is_overdue:
            return ""
        return format_html('<span class="case-overdue">{}</span>', gettext("Overdue"))

    @staticmethod
    def get_fsm_block_label(fsm_field_name: str) -> str:
        return gettext("Case actions")

    def get_fsm_label(self, transition) -> str:
        return str(transition.custom.get("label") or transition.name)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A transition button posts here: run it without the (read-only) form."""
        if request.method == "POST" and object_id and self.fsm_post_param in request.POST:
            case = self.get_object(request, object_id)
            if case is None:
                raise Http404
            if not self.has_change_permission(request, case):
                raise PermissionDenied
            return self.response_change(request, case)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """The change form only carries transition buttons: nothing to save in place."""

    def save_related(self, request, form, formsets, change):
        """Inlines are read-only; invitations change through their own pages."""

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None):
        """Route every button to its service; domain errors become messages."""
        service = TRANSITION_SERVICES.get(transition_name)
        if service is None:
            self.message_user(
                request, gettext("This action is not available here."), messages.ERROR
            )
            return False
        try:
            service(obj, request.user, dict(kwargs or {}))
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)
            return False
        self.message_user(
            request,
            gettext("Case %(number)s is now %(state)s.")
            % {"number": obj.number, "state": obj.get_state_display()},
            messages.SUCCESS,
        )
        return True

    # ----------------------------------------------------------- extra pages

    def get_urls(self):
        extra = [
            path(
                "<int:pk>/edit-draft/",
                self.admin_site.admin_view(self.edit_draft_view),
                name="cases_case_edit_draft",
            ),
            path(
                "<int:pk>/invite/",
                self.admin_site.admin_view(self.invite_view),
                name="cases_case_invite",
            ),
            path(
                "<int:pk>/rate/", self.admin_site.admin_view(self.rate_view), name="cases_case_rate"
            ),
            path(
                "<int:pk>/supervise/",
                self.admin_site.admin_view(self.supervise_view),
                name="cases_case_supervise",
            ),
            path(
                "<int:pk>/answer-order/",
                self.admin_site.admin_view(self.answer_order_view),
                name="cases_case_answer_order",
            ),
            path(
                "<int:pk>/return/",
                self.admin_site.admin_view(self.return_view),
                name="cases_case_return",
            ),
            path(
                "<int:pk>/redispatch/",
                self.admin_site.admin_view(self.redispatch_view),
                name="cases_case_redispatch",
            ),
            path(
                "<int:pk>/ask-extension/",
                self.admin_site.admin_view(self.ask_extension_view),
                name="cases_case_ask_extension",
            ),
            path(
                "<int:pk>/decide-extension/",
                self.admin_site.admin_view(self.decide_extension_view),
                name="cases_case_decide_extension",
            ),
        ]
        return extra + super().get_urls()

    def _visible_case(self, request, pk) -> Case:
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _change_url(self, case: Case) -> str:
        return reverse("admin:cases_case_change", args=[case.pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        extra_context = extra_context or {}
        # Nothing on the page is edited in place: only the transition buttons remain.
        extra_context.update(
            show_save=False, show_save_and_continue=False, show_save_and_add_another=False
        )
        if case is not None:
            user = request.user
            extra_context["case_links"] = [
                (reverse(f"admin:cases_case_{name}", args=[case.pk]), label)
                for name, label, allowed in (
                    (
                        "edit_draft",
                        _("Edit draft"),
                        case.state == CaseState.DRAFT and can_submit(case, user),
                    ),
                    (
                        "invite",
                        _("Invite people"),
                        case.state in INVITABLE_STATES and can_steer(case, user),
                    ),
                    (
                        "rate",
                        _("Rate departments"),
                        case.state == CaseState.PENDING_RATING and can_rate(case, user),
                    ),
                    (
                        "supervise",
                        _("Issue a supervision order"),
                        case.state in SUPERVISED_STATES and can_supervise(case, user),
                    ),
                    (
                        "answer_order",
                        _("Answer a supervision order"),
                        case.supervision_orders.filter(state=OrderState.OPEN).exists()
                        and (is_handler(case, user) or can_review(case, user)),
                    ),
                    (
                        "return",
                        _("Return the case (department)"),
                        case.state in SUPERVISED_STATES
                        and (holds_open_invitation(case, user) or is_superuser(user)),
                    ),
                    (
                        "redispatch",
                        _("Dispatch again"),
                        case.state == CaseState.DISPATCHED and can_steer(case, user),
                    ),
                    (
                        "ask_extension",
                        _("Ask for an extension"),
                        case.state in SUPERVISED_STATES
                        and (is_handler(case, user) or is_superuser(user)),
                    ),
                    (
                        "decide_extension",
                        _("Decide on the extension request"),
                        case.extension_requests.filter(state=ExtensionState.PENDING).exists()
                        and can_review(case, user),
                    ),
                )
                if allowed
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        """Raising a case is a service call, not a model form."""
        if not self.has_add_permission(request):
            raise Http404

        def action(form):
            data = form.cleaned_data
            return services.create_case(
                actor=request.user,
                community=data["community"],
                title=data["title"],
                description=data["description"],
                template=data["template"],
                category=data["category"],
                answers=data["answers"] or {},
                priority=data["priority"] or None,
                address=data["address"],
                caller=data["caller"],
                submit=data["submit"],
            )

        return run_action_form(
            self,
            request,
            form_class=CaseRaiseForm,
            title=gettext("Raise a case"),
            submit_label=gettext("Raise"),
            action=action,
            success_url=self._change_url,
            success_message=gettext("The case was raised."),
        )

    def _case_form_page(self, request, case: Case, *, applies: bool, **page):
        """A one-form page about ``case`` (``run_action_form``), back to the case when done;
        when it does not apply now, back to the case with the reason."""
        if refusal := self._not_now(request, case, applies):
            return refusal
        return run_action_form(
            self, request, original=case, success_url=self._change_url(case), **page
        )

    def _not_now(self, request, case: Case, allowed: bool):
        """Back to the case page with the reason when the page does not apply now."""
        if allowed:
            return None
        self.message_user(
            request,
            gettext("This cannot be done now: case %(number)s is %(state)s.")
            % {"number": case.number, "state": case.get_state_display()},
            messages.ERROR,
        )
        return HttpResponseRedirect(self._change_url(case))

    def edit_draft_view(self, request, pk):
        case = self._visible_case(request, pk)
        initial = {
            "title": case.title,
            "description": case.description,
            "priority": case.priority,
            "address": case.address,
            "answers": case.answers,
        }
        return self._case_form_page(
            request,
            case,
            applies=case.state == CaseState.DRAFT,
            form_class=DraftEditForm,
            title=gettext("Edit draft"),
            submit_label=gettext("Save"),
            form_kwargs={"initial": initial},
            action=lambda form: services.update_draft(
                case,
                actor=request.user,
                answers=form.cleaned_data["answers"],
                **{
                    k: form.cleaned_data[k] for k in ("title", "description", "priority", "address")
                },
            ),
            success_message=gettext("The draft was saved."),
        )

    def invite_view(self, request, pk):
        case = self._visible_case(request, pk)
        return self._case_form_page(
            request,
            case,
            applies=case.state in INVITABLE_STATES,
            form_class=InviteForm,
            title=gettext("Invite people"),
            submit_label=gettext("Invite"),
            action=lambda form: services.invite_person(
                case,
                actor=request.user,
                department=form.cleaned_data["department"],
                person=form.cleaned_data["person"],
                note=form.cleaned_data["note"],
            ),
            success_message=gettext("The person was invited."),
        )

    def rate_view(self, request, pk):
        case = self._visible_case(request, pk)

        def action(form):
            with transaction.atomic():  # every department or none
                for dept, scores, comment in form.ratings():
                    rate_department(
                        case, actor=request.user, department=dept, scores=scores, comment=comment
                    )

        return self._case_form_page(
            request,
            case,
            applies=case.state == CaseState.PENDING_RATING,
            form_class=RatingForm,
            title=gettext("Rate departments"),
            submit_label=gettext("Rate"),
            action=action,
            form_kwargs={
                "departments": case.unrated_departments(),
                "criteria": Criterion.objects.active(),
            },
            intro=gettext(
                "Ratings are anonymous: they name the case and the department, never you."
            ),
            success_message=gettext("The ratings were saved."),
        )

    def supervise_view(self, request, pk):
        case = self._visible_case(request, pk)
        return self._case_form_page(
            request,
            case,
            applies=case.state in SUPERVISED_STATES,
            form_class=SupervisionOrderForm,
            title=gettext("Issue a supervision order"),
            submit_label=gettext("Issue"),
            action=lambda form: services.issue_supervision_order(
                case, actor=request.user, **form.cleaned_data
            ),
            success_message=gettext("The supervision order was issued."),
        )

    def answer_order_view(self, request, pk):
        case = self._visible_case(request, pk)
        orders = case.supervision_orders.filter(state=OrderState.OPEN)
        return self._case_form_page(
            request,
            case,
            applies=orders.exists(),
            form_class=OrderAnswerForm,
            title=gettext("Answer a supervision order"),
            submit_label=gettext("Answer"),
            form_kwargs={"orders": orders},
            action=lambda form: services.answer_supervision_order(
                form.cleaned_data["order"], actor=request.user, answer=form.cleaned_data["answer"]
            ),
            success_message=gettext("The answer was recorded."),
        )

    def return_view(self, request, pk):
        case = self._visible_case(request, pk)
        return self._case_form_page(
            request,
            case,
            applies=case.state in SUPERVISED_STATES,
            form_class=ReturnForm,
            title=gettext("Return the case (department)"),
            submit_label=gettext("Return"),
            form_kwargs={
                "departments": Department.objects.filter(
                    invitations__case=case,
                    invitations__state__in=[InvitationState.PENDING, InvitationState.ACCEPTED],
                ).distinct()
            },
            intro=gettext(
                "Your department's invitations end; the caller is told and dispatches it again."
            ),
            action=lambda form: services.return_case(
                case,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                department=form.cleaned_data["department"],
            ),
            success_message=gettext("The case was returned."),
        )

    def redispatch_view(self, request, pk):
        case = self._visible_case(request, pk)
        return self._case_form_page(
            request,
            case,
            applies=case.state == CaseState.DISPATCHED,
            form_class=InviteForm,
            title=gettext("Dispatch again"),
            submit_label=gettext("Dispatch"),
            intro=gettext("Invite someone else; the response clock starts again."),
            action=lambda form: services.redispatch_case(
                case,
                actor=request.user,
                invitees=[(form.cleaned_data["department"], form.cleaned_data["person"])],
                note=form.cleaned_data["note"],
            ),
            success_message=gettext("The case was dispatched again."),
        )

    def ask_extension_view(self, request, pk):
        case = self._visible_case(request, pk)
        return self._case_form_page(
            request,
            case,
            applies=case.state in SUPERVISED_STATES,
            form_class=ExtensionRequestForm,
            title=gettext("Ask for an extension"),
            submit_label=gettext("Ask"),
            action=lambda form: services.request_extension(
                case,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"],
            ),
            success_message=gettext("The extension request was sent to the commander."),
        )

    def decide_extension_view(self, request, pk):
        case = self._visible_case(request, pk)
        pending = case.extension_requests.filter(state=ExtensionState.PENDING).first()
        if pending is None:
            return self._not_now(request, case, False)
        return self._case_form_page(
            request,
            case,
            applies=True,
            form_class=ExtensionDecisionForm,
            title=gettext("Decide on the extension request"),
            submit_label=gettext("Decide"),
            intro=gettext("%(who)s asks for the deadline %(until)s: %(reason)s")
            % {
                "who": pending.requested_by,
                "until": timezone.localtime(pending.requested_deadline).strftime("%Y-%m-%d %H:%M"),
                "reason": pending.reason,
            },
            action=lambda form: services.decide_extension(
                pending,
                actor=request.user,
                approve=form.cleaned_data["decision"] == ExtensionDecisionForm.APPROVE,
                note=form.cleaned_data["note"],
            ),
            success_message=gettext("The decision was recorded."),
        )


@admin.register(Invitation)
class InvitationAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("case", "department", "person", "state", "invited_at", "responded_at")
    list_filter = ("state", "department__kind", "department__level", "invited_at")
    search_fields = (
        "case__number",
        "case__title",
        "person__name",
        "person__username",
        "department__name",
    )
    list_select_related = ("case", "department", "person")
    show_full_result_count = False
    action_form = InvitationActionForm
    actions = ["accept_selected", "decline_selected"]
    readonly_fields = (
        "case",
        "department",
        "person",
        "state",
        "reason",
        "invited_by",
        "invited_at",
        "responded_at",
    )

    def has_change_permission(self, request, obj=None):
        # Needed for the accept/decline actions; the fields themselves stay read-only.
        return request.user.has_perm("cases.change_invitation")

    def _answer(self, request, queryset, service, **kwargs):
        done = 0
        for invitation in queryset.filter(state=InvitationState.PENDING):
            try:
                service(invitation, actor=request.user, **kwargs)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{invitation}: {error}", messages.ERROR)
        if done:
            self.message_user(
                request, gettext("%(n)d invitation(s) answered.") % {"n": done}, messages.SUCCESS
            )

    @admin.action(description=_("Accept the selected invitations"))
    def accept_selected(self, request, queryset):
        self._answer(request, queryset, services.accept_invitation)

    @admin.action(description=_("Decline the selected invitations (give a reason)"))
    def decline_selected(self, request, queryset):
        reason = request.POST.get("reason", "")
        if not reason.strip():
            self.message_user(request, gettext("Give a reason to decline."), messages.ERROR)
            return
        self._answer(request, queryset, services.decline_invitation, reason=reason)


@admin.register(CaseEvent)
class CaseEventAdmin(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "case", "kind", "actor", "from_state", "to_state", "short_note")
    list_filter = ("kind", "created_at")
    search_fields = ("case__number", "note", "actor__name", "actor__username")
    list_select_related = ("case", "actor")
    show_full_result_count = False
    date_hierarchy = "created_at"

    @admin.display(description=_("note"))
    def short_note(self, obj: CaseEvent) -> str:
        return (obj.note[:60] + "…") if len(obj.note) > 60 else obj.note


@admin.register(CaseNumberSequence)
class CaseNumberSequenceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("year", "last")


class CaseScopedReadOnly(ScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Rows of cases, written by services: listed only for the cases the reader may see."""

    list_select_related = ("case",)


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(CaseScopedReadOnly):
    list_display = ("case", "instruction", "issued_by", "due_at", "state", "answered_at")
    list_filter = ("state", "due_at")
    search_fields = ("case__number", "instruction")
    date_hierarchy = "created_at"


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(CaseScopedReadOnly):
    list_display = ("case", "requested_by", "requested_deadline", "state", "decided_by")
    list_filter = ("state",)
    search_fields = ("case__number", "reason")
    date_hierarchy = "created_at"


@admin.register(SupervisionStep)
class SupervisionStepAdmin(CaseScopedReadOnly):
    list_display = ("case", "kind", "due_at", "taken_at")
    list_filter = ("kind", "taken_at")
    search_fields = ("case__number",)
    date_hierarchy = "taken_at"


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """Days off and weekend days worked, for the optional working-hours calendar."""

    list_display = ("date", "name", "is_workday")
    list_editable = ("name", "is_workday")
    list_filter = ("is_workday",)
    search_fields = ("name",)
    date_hierarchy = "date"
