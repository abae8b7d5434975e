"""Forms of the case back office: raising, editing a draft, inviting, reasons, rating."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases.models import Case, Invitation, SupervisionOrder
from departments.models import Department
from grids.models import Area
from templates.choices import Priority
from templates.forms import answer_fields, answer_initial, clean_answers
from templates.models import CaseTemplate, Category


def _autocomplete(model, field_name: str) -> AutocompleteSelect:
    return AutocompleteSelect(model._meta.get_field(field_name), admin.site)


class ReasonForm(forms.Form):
    """The reason a transition needs (send back, cancel, reopen, decline)."""

    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class TemplateAnswersMixin:
    """The template's questions as fields of the form (``templates.forms``), checked
    on ``clean`` by ``validate_answers`` like the API; ``cleaned_data["answers"]``
    holds the cleaned answers."""

    answers_template: CaseTemplate | None = None

    def add_answer_fields(self, template: CaseTemplate | None) -> None:
        self.answers_template = template
        self.fields.update(answer_fields(template))  # type: ignore[attr-defined]

    def clean(self):
        data = super().clean()
        if not self.errors:
            answers = clean_answers(self, self.answers_template)
            if answers is not None:
                data["answers"] = answers
        return data


class CaseRaiseForm(TemplateAnswersMixin, forms.Form):
    """Raise a case from the back office (``cases.services.create_case``).

    The chosen template's questions are fields of this form. Choosing (or
    changing) the template and sending shows its questions and asks for them
    once before anything is raised (``answers_for`` names the template whose
    questions were on the page).
    """

    community = forms.ModelChoiceField(
        Area.objects.communities(),
        label=_("Village or community"),
        widget=_autocomplete(Case, "community"),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    template = forms.ModelChoiceField(
        CaseTemplate.objects.filter(is_active=True),
        label=_("Template"),
        required=False,
        widget=_autocomplete(Case, "template"),
    )
    category = forms.ModelChoiceField(
        Category.objects.filter(is_active=True),
        label=_("Category"),
        required=False,
        widget=_autocomplete(Case, "category"),
        help_text=_("Empty: the template's category."),
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=[("", _("The template's"))] + list(Priority.choices),
        required=False,
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    caller = forms.ModelChoiceField(
        User.objects.filter(is_active=True),
        label=_("Caller"),
        required=False,
        widget=_autocomplete(Case, "caller"),
        help_text=_("Empty: you are the caller."),
    )
    submit = forms.BooleanField(label=_("Submit for review at once"), required=False)
    answers_for = forms.CharField(
        label=_("Questions shown for template"), widget=forms.HiddenInput, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = self.data.get("template") if self.is_bound else self.initial.get("template")
        template = self._active_template(chosen)
        self.shown_for = ""
        if self.is_bound:  # what was on the page; from now on, the chosen template's questions
            self.shown_for = self.data.get("answers_for", "")
            self.data = self.data.copy()
            self.data["answers_for"] = str(template.pk) if template else ""
        else:
            self.initial["answers_for"] = str(template.pk) if template else ""
        self.add_answer_fields(template)

    @staticmethod
    def _active_template(chosen) -> CaseTemplate | None:
        if isinstance(chosen, CaseTemplate):
            return chosen
        if not str(chosen or "").isdigit():
            return None
        return CaseTemplate.objects.filter(is_active=True, pk=int(chosen)).first()

    def clean(self):
        template = self.answers_template
        if template is not None and self.shown_for != str(template.pk):
            raise forms.ValidationError(
                _("Fill in the template's form below, then send again."), code="answers_missing"
            )
        return super().clean()


class DraftEditForm(TemplateAnswersMixin, forms.Form):
    """Edit a draft (``cases.services.update_draft``) and its answers to ``template``."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)

    def __init__(self, *args, template: CaseTemplate | None = None, answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_answer_fields(template)
        for name, value in answer_initial(template, answers).items():
            self.initial.setdefault(name, value)


class InviteForm(forms.Form):
    """Invite one person of one department (``cases.services.invite_person``)."""

    department = forms.ModelChoiceField(
        Department.objects.active(),
        label=_("Department"),
        widget=_autocomplete(Invitation, "department"),
    )
    person = forms.ModelChoiceField(
        User.objects.filter(is_active=True, memberships__is_active=True).distinct(),
        label=_("Person"),
        widget=_autocomplete(Invitation, "person"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class RatingForm(forms.Form):
    """Scores 0–100 per active criterion for each department still to rate."""

    def __init__(self, *args, departments, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.departments, self.criteria = list(departments), list(criteria)
        for dept in self.departments:
            for criterion in self.criteria:
                self.fields[self.score_key(dept, criterion)] = forms.IntegerField(
                    label=f"{dept.name} · {criterion.name}",
                    min_value=0,
                    max_value=100,
                )
            self.fields[f"comment_{dept.pk}"] = forms.CharField(
                label=_("%(department)s · comment") % {"department": dept.name},
                required=False,
                max_length=2000,
            )

    @staticmethod
    def score_key(dept, criterion) -> str:
        return f"score_{dept.pk}_{criterion.pk}"

    def ratings(self) -> list[tuple[Department, dict[str, int], str]]:
        """(department, {criterion code: score}, comment) for each department."""
        data = self.cleaned_data
        return [
            (
                dept,
                {c.code: data[self.score_key(dept, c)] for c in self.criteria},
                data.get(f"comment_{dept.pk}", ""),
            )
            for dept in self.departments
        ]


class InvitationActionForm(ActionForm):
    """The changelist's action bar, with a reason for declining."""

    reason = forms.CharField(label=_("Reason (to decline)"), required=False, max_length=2000)


class SupervisionOrderForm(forms.Form):
    """A supervision order (督办): what must be done, and by when."""

    instruction = forms.CharField(
        label=_("Instruction"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    due_at = forms.DateTimeField(
        label=_("Answer due"),
        help_text=_("For example 2026-12-01 17:00"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


class ExtensionDecisionForm(forms.Form):
    """The commander's decision on an extension request (延期)."""

    APPROVE, REFUSE = "approve", "refuse"
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (REFUSE, _("Refuse"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Required when refusing."),
    )


class OrderAnswerForm(forms.Form):
    """What was done about an open supervision order."""

    order: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Supervision order"), queryset=SupervisionOrder.objects.none()
    )
    answer = forms.CharField(
        label=_("Answer"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args, orders=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = orders


class ExtensionRequestForm(forms.Form):
    """A handler asks for a later handling deadline (延期)."""

    until = forms.DateTimeField(
        label=_("New deadline"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class ReturnForm(forms.Form):
    """A department returns the case (退回); a superuser names the department it acts for."""

    department = forms.ModelChoiceField(
        Department.objects.none(),
        label=_("Department"),
        required=False,
        help_text=_("Only when you act for a department you are not invited from."),
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
