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
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin

from cases import operations, services
from cases.choices import (
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
from cases.resources import CaseResource
from core.admin import ScopedAdminMixin, run_action_form
from core.errors import DomainError
from core.spreadsheets import SpreadsheetExportMixin
from departments.models import Department
from ratings.models import Criterion
from ratings.services import rate_department
from templates.forms import answer_rows


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

#: Every operation of the one table (``cases.operations``) in the field's own words: 提交,
#: 审核通过, 退回修改 (the commander sends a submitted case back to its caller) apart
#: from 退回 (a department gives the case back), 撤销, 办结, 重新办理, 督办, 延期 …
ACTION_LABELS = {op.name: op.label for op in operations.OPERATIONS}

#: Operations the case page does not offer: they act on one invitation, from the
#: invitations' own list (its actions) — the case page's 接单 covers accepting.
NOT_ON_CASE_PAGE = {"decline", "withdraw"}

#: Transitions that ask for a reason on a page of their own; the others are buttons.
TRANSITION_FORMS = {"send_back": ReasonForm, "cancel": ReasonForm, "reopen": ReasonForm}

#: The POST parameter of the case page's 接单 button.
ACCEPT_PARAM = "_case_accept"


@admin.register(Case)
class CaseAdmin(ScopedAdminMixin, SpreadsheetExportMixin, FSMAdminMixin, admin.ModelAdmin):
    resource_classes = [CaseResource]
    fsm_fields = ["state"]
    fsm_forms = TRANSITION_FORMS  # type: ignore[assignment]
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
        (_("Details"), {"fields": ("description", "template_answers")}),
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
        return [f.name for f in Case._meta.fields if f.name != "id"] + ["template_answers"]

    @admin.display(description=_("Template answers"))
    def template_answers(self, obj: Case) -> str:
        """The answers as a definition list (label → answer), never as JSON."""
        rows = answer_rows(obj.template, obj.answers)
        if not rows:
            return self.get_empty_value_display()
        return format_html(
            '<dl class="case-answers">{}</dl>',
            format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows),
        )

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
        return str(ACTION_LABELS.get(transition.name) or transition.name)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A transition button posts here: run it without the (read-only) form."""
        posted = request.method == "POST" and object_id
        if posted and (self.fsm_post_param in request.POST or ACCEPT_PARAM in request.POST):
            case = self.get_object(request, object_id)
            if case is None:
                raise Http404
            if ACCEPT_PARAM in request.POST:
                return self._accept(request, case)
            if not self.has_change_permission(request, case):
                raise PermissionDenied
            return self.response_change(request, case)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _accept(self, request, case: Case):
        """接单: the asker accepts their own pending invitation to ``case``."""
        invitation = case.invitations.filter(
            person=request.user, state=InvitationState.PENDING
        ).first()
        if invitation is None:
            return self._not_now(request, case, False)
        try:
            services.accept_invitation(invitation, actor=request.user)
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, gettext("You accepted the case."), messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(case))

    def fsm_transition_view(self, request, object_id, transition_name, **kwargs):
        """The reason page of a transition (send back, cancel, reopen): in Chinese, with
        the action's own name on its button, run through the service."""
        case = self._visible_case(request, object_id)
        form_class = TRANSITION_FORMS.get(transition_name)
        if form_class is None:
            raise Http404
        label = str(ACTION_LABELS[transition_name])
        allowed = operations.applies(transition_name, request.user, case)

        def action(form):
            return TRANSITION_SERVICES[transition_name](case, request.user, form.cleaned_data)

        return self._case_form_page(
            request,
            case,
            applies=allowed,
            form_class=form_class,
            title=label,
            submit_label=label,
            action=action,
            success_message=gettext("Case %(number)s: %(action)s done.")
            % {"number": case.number, "action": label},
        )

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
            extra_context["case_actions"] = self.case_actions(request, case)
        return super().change_view(request, object_id, form_url, extra_context)

    #: Actions with a page of their own: URL name under ``admin:cases_case_…``.
    ACTION_PAGES = {
        "edit_draft": "edit_draft",
        "invite": "invite",
        "redispatch": "redispatch",
        "return": "return",
        "supervise": "supervise",
        "answer_order": "answer_order",
        "ask_extension": "ask_extension",
        "decide_extension": "decide_extension",
        "rate": "rate",
    }

    def case_actions(self, request, case: Case) -> list[dict[str, str]]:
        """The buttons on top of the case page: the operations of ``cases.operations`` that apply.

        Each is ``{"name", "label"}`` and either a ``url`` (a page with a form)
        or a ``param`` (a button posting to the case page).
        """
        actions = []
        transitions = set(operations.TRANSITIONS)
        may_change = self.has_change_permission(request, case)
        for name in operations.available_operations(request.user, case):
            if name in NOT_ON_CASE_PAGE:
                continue
            if name in transitions and not may_change:
                continue  # the button would answer 403 (changeform_view)
            action = {"name": name, "label": str(ACTION_LABELS.get(name, name))}
            if name in TRANSITION_FORMS:
                action["url"] = reverse(
                    "admin:cases_case_transition",
                    kwargs={"object_id": case.pk, "transition_name": name},
                )
            elif name in self.ACTION_PAGES:
                action["url"] = reverse(
                    f"admin:cases_case_{self.ACTION_PAGES[name]}", args=[case.pk]
                )
            elif name == "accept":
                action["param"] = ACCEPT_PARAM
            else:
                action["param"] = self.fsm_post_param
            actions.append(action)
        return actions

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
                answers=data.get("answers") or {},
                priority=data["priority"] or None,
                address=data["address"],
                caller=data["caller"],
                submit=data["submit"],
            )

        return run_action_form(
            self,
            request,
            form_class=CaseRaiseForm,
            form_kwargs={"initial": {"template": request.GET.get("template")}},
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
        }
        return self._case_form_page(
            request,
            case,
            applies=operations.applies("edit_draft", request.user, case),
            form_class=DraftEditForm,
            title=gettext("Edit draft"),
            submit_label=gettext("Save"),
            form_kwargs={"initial": initial, "template": case.template, "answers": case.answers},
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
            applies=operations.applies("invite", request.user, case),
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
            applies=operations.applies("rate", request.user, case),
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
            applies=operations.applies("supervise", request.user, case),
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
            applies=operations.applies("answer_order", request.user, case),
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
            applies=operations.applies("return", request.user, case),
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
            applies=operations.applies("redispatch", request.user, case),
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
            applies=operations.applies("ask_extension", request.user, case),
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
            applies=operations.applies("decide_extension", request.user, case),
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
    # The model's ``event`` field has no verbose name: shown through a labelled method.
    fields = ("case", "kind", "due_at", "taken_at", "recorded_event")
    readonly_fields = fields

    @admin.display(description=_("event"))
    def recorded_event(self, obj: SupervisionStep) -> str:
        """The case event the step wrote ("FX-2026-000001 · 已提醒"), or nothing."""
        return str(obj.event) if obj.event_id else self.get_empty_value_display()


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """Days off and weekend days worked, for the optional working-hours calendar."""

    list_display = ("date", "name", "is_workday")
    list_editable = ("name", "is_workday")
    list_filter = ("is_workday",)
    search_fields = ("name",)
    date_hierarchy = "date"
