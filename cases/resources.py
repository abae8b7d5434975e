"""Spreadsheet export of cases with their times (export only: cases are raised, not imported)."""

from django.utils.translation import gettext_lazy as _
from import_export import fields

from cases.choices import CaseSource, CaseState, InvitationState
from cases.models import Case
from core.spreadsheets import ChoiceWidget, SpreadsheetResource
from templates.choices import Priority


def _minutes(start, end):
    return round((end - start).total_seconds() / 60, 1) if start and end else ""


class CaseResource(SpreadsheetResource):
    number = fields.Field(attribute="number", column_name=_("Number"))
    title = fields.Field(attribute="title", column_name=_("Title"))
    state = fields.Field(attribute="state", column_name=_("State"), widget=ChoiceWidget(CaseState))
    category = fields.Field(attribute="category__name", column_name=_("Category"))
    template = fields.Field(attribute="template__name", column_name=_("Template"))
    town = fields.Field(attribute="community__parent__parent__name", column_name=_("Town"))
    community = fields.Field(attribute="community__name", column_name=_("Village or community"))
    address = fields.Field(attribute="address", column_name=_("Address"))
    caller = fields.Field(attribute="caller__name", column_name=_("Caller"))
    source = fields.Field(
        attribute="source", column_name=_("Source"), widget=ChoiceWidget(CaseSource)
    )
    priority = fields.Field(
        attribute="priority", column_name=_("Priority"), widget=ChoiceWidget(Priority)
    )
    created_at = fields.Field(attribute="created_at", column_name=_("Created at"))
    submitted_at = fields.Field(attribute="submitted_at", column_name=_("Submitted at"))
    dispatched_at = fields.Field(attribute="dispatched_at", column_name=_("Dispatched at"))
    first_accepted_at = fields.Field(
        attribute="first_accepted_at", column_name=_("First accepted at")
    )
    completed_at = fields.Field(attribute="completed_at", column_name=_("Completed at"))
    closed_at = fields.Field(attribute="closed_at", column_name=_("Closed at"))
    deadline = fields.Field(attribute="deadline", column_name=_("Handling deadline"))
    response_minutes = fields.Field(column_name=_("Response time (minutes)"), readonly=True)
    handling_hours = fields.Field(column_name=_("Handling time (hours)"), readonly=True)
    invited = fields.Field(column_name=_("Departments invited"), readonly=True)
    accepted = fields.Field(column_name=_("Departments accepted"), readonly=True)

    class Meta:
        model = Case
        fields = (
            "number",
            "title",
            "state",
            "category",
            "template",
            "town",
            "community",
            "address",
            "caller",
            "source",
            "priority",
            "created_at",
            "submitted_at",
            "dispatched_at",
            "first_accepted_at",
            "completed_at",
            "closed_at",
            "deadline",
            "response_minutes",
            "handling_hours",
            "invited",
            "accepted",
        )
        export_order = fields

    select_related = ("category", "template", "community__parent__parent", "caller")
    prefetch_related = ("invitations__department",)

    def get_queryset(self):
        return Case.objects.order_by("created_at", "id")

    def dehydrate_response_minutes(self, case):
        return _minutes(case.dispatched_at, case.first_accepted_at)

    def dehydrate_handling_hours(self, case):
        minutes = _minutes(case.first_accepted_at, case.completed_at)
        return round(minutes / 60, 2) if minutes != "" else ""

    def _departments(self, case, states):
        names = dict.fromkeys(
            inv.department.name for inv in case.invitations.all() if inv.state in states
        )
        return "、".join(names)

    def dehydrate_invited(self, case):
        return self._departments(case, set(InvitationState))

    def dehydrate_accepted(self, case):
        return self._departments(case, {InvitationState.ACCEPTED})

    def before_import_row(self, row, **kwargs):
        raise ValueError(_("Cases are raised, not imported."))
