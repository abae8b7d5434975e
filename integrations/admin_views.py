"""One-click import (一键转入) of platform cases in the back office.

Step 1 reads the sheet and shows, row by row, what would become of it; it
creates nothing. The rows travel to step 2 signed (``forms.sign_rows``), so a
confirmation cannot carry rows other than those previewed. Step 2 checks every
row again and takes each in through ``services.take_in`` in its own
transaction, recording each as a ``Delivery`` of the ``admin_import``
channel: a bad row is listed and the others go on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.request import client_ip
from audit.services import audit_request
from core.errors import DomainError
from integrations import services
from integrations.choices import DeliveryOutcome, ReviewState
from integrations.forms import COLUMN_LABELS, ImportConfirmForm, PlatformImportForm, sign_rows
from integrations.models import ExternalSystem

CHANNEL = "admin_import"
#: A confirmation must stay below what Django reads from a form post.
MAX_TOKEN_CHARS = settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 64 * 1024

#: Row fates, shown in the tables and counted in the summary.
NEW, DUPLICATE, REVIEW, ERROR = "new", "duplicate", "review", "error"


@dataclass
class RowFate:
    """One row of the sheet and what becomes (or became) of it."""

    line: str
    values: dict[str, str]
    kind: str
    text: str
    case: object = None
    review: object = None
    links: list[tuple[str, str]] = field(default_factory=list)


def may_import(user) -> bool:
    """Taking cases in by hand is the integration's own right (see the report's permission)."""
    return user.has_perm("integrations.add_externalcase")


def _platform_data(row: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in row.items() if key != "line"}


def _field_errors(error: DomainError) -> str:
    """Each field's problems after the column's name, or the error itself."""
    parts = [
        f"{COLUMN_LABELS.get(name, name)}: {' '.join(str(m) for m in problems)}"
        for name, problems in error.fields.items()
    ]
    return " ".join(parts) or str(error)


def _known_fate(system: ExternalSystem, external_id: str) -> str | None:
    """What an id already taken in (or queued) is, in words; None for a new id."""
    known = services.find_known(system, external_id)
    if known is None:
        return None
    if known.review is not None and known.review.state == ReviewState.PENDING:
        return _("Already waiting in the review queue.")
    if known.case is not None:  # taken in, directly or from the review queue
        return _("Already taken in as %(number)s.") % {"number": known.case.number}
    note = known.review.note if known.review is not None else ""
    return _("Already dismissed from the review queue: %(note)s") % {"note": note}


def preview_row(system: ExternalSystem, row: dict[str, str], seen: dict[str, str]) -> RowFate:
    """What taking this row in would do, without doing it."""
    data = _platform_data(row)
    fate = RowFate(line=row.get("line", ""), values=data, kind=ERROR, text="")
    try:
        intake = services.parse_platform_case(system, data)
    except DomainError as error:
        fate.text = _("Error: %(errors)s") % {"errors": _field_errors(error)}
        return fate
    if intake.external_id in seen:
        fate.kind = DUPLICATE
        fate.text = _("The same id as line %(line)s: taken in once.") % {
            "line": seen[intake.external_id]
        }
        return fate
    seen[intake.external_id] = fate.line
    known = _known_fate(system, intake.external_id)
    _caller, problems = services.check_request(intake)
    if known is not None:
        fate.kind, fate.text = DUPLICATE, known
    elif problems:
        fate.kind = REVIEW
        fate.text = _("Goes to the review queue: %(problems)s") % {
            "problems": " ".join(services.describe_problem(p) for p in problems)
        }
    else:
        fate.kind = NEW
        fate.text = _("New case in %(community)s from template %(template)s.") % {
            "community": intake.community,
            "template": intake.template,
        }
    return fate


def take_in_row(request, system: ExternalSystem, row: dict[str, str]) -> RowFate:
    """Take one row in, in its own transaction, and keep it as a delivery."""
    data = _platform_data(row)
    fate = RowFate(line=row.get("line", ""), values=data, kind=ERROR, text="")
    body = json.dumps(data, ensure_ascii=False)
    try:
        with transaction.atomic():
            intake = services.parse_platform_case(system, data)
            result = services.take_in(system, intake)
            services.record_delivery(
                system,
                channel=CHANNEL,
                status_code=services.OUTCOME_STATUS[DeliveryOutcome(result.outcome)],
                outcome=result.outcome,
                external_id=intake.external_id,
                result=result,
                remote_addr=client_ip(request),
                body=body,
            )
    except DomainError as error:
        services.record_delivery(
            system,
            channel=CHANNEL,
            status_code=error.http_status,
            outcome=DeliveryOutcome.REFUSED,
            external_id=data.get("external_id", ""),
            error=error,
            remote_addr=client_ip(request),
            body=body,
        )
        fate.text = _("Error, not taken in: %(errors)s") % {"errors": _field_errors(error)}
        return fate
    fate.kind = {
        DeliveryOutcome.CREATED: NEW,
        DeliveryOutcome.DUPLICATE: DUPLICATE,
        DeliveryOutcome.REVIEW: REVIEW,
    }[DeliveryOutcome(result.outcome)]
    fate.text, fate.case, fate.review = result.message, result.case, result.review
    if result.case is not None:
        url = reverse("admin:cases_case_change", args=[result.case.pk])
        fate.links.append((url, result.case.number))
    if result.review is not None:
        url = reverse("admin:integrations_intakereview_change", args=[result.review.pk])
        fate.links.append((url, _("review")))
    return fate


def _counts(fates: list[RowFate]) -> dict[str, int]:
    return {
        kind: sum(1 for f in fates if f.kind == kind) for kind in (NEW, DUPLICATE, REVIEW, ERROR)
    }


def _page(model_admin, request, template: str, status: int = 200, **context) -> TemplateResponse:
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": _("Import platform cases"),
        "review_queue_url": reverse("admin:integrations_intakereview_changelist"),
        **context,
    }
    return TemplateResponse(request, template, context, status=status)


def import_platform_cases(model_admin, request) -> TemplateResponse:
    """The page: a form, then the preview, then the outcome of each row."""
    if not may_import(request.user):
        raise DjangoPermissionDenied
    if request.method == "POST" and "token" in request.POST:
        return _confirm(model_admin, request)
    form = PlatformImportForm(
        request.POST or None,
        request.FILES or None,
        initial={"system": request.GET.get("system")},
    )
    if request.method == "POST" and form.is_valid():
        system, rows = form.cleaned_data["system"], form.cleaned_data["rows"]
        seen: dict[str, str] = {}
        fates = [preview_row(system, row, seen) for row in rows]
        token = sign_rows(system=system, user=request.user, rows=rows)
        if len(token) <= MAX_TOKEN_CHARS:
            confirm = ImportConfirmForm(initial={"token": token}, user=request.user)
            return _page(
                model_admin,
                request,
                "integrations/admin/import_preview.html",
                system=system,
                fates=fates,
                counts=_counts(fates),
                confirm_form=confirm,
                takes_any=any(f.kind in (NEW, REVIEW) for f in fates),
            )
        form.add_error(None, _("Too much text for one import: split the rows into several."))
    return _page(
        model_admin, request, "integrations/admin/import_form.html", form=form, media=form.media
    )


def _confirm(model_admin, request) -> TemplateResponse:
    confirm = ImportConfirmForm(request.POST, user=request.user)
    if not confirm.is_valid():
        messages.error(request, " ".join(str(e) for e in confirm.errors.get("token", [])))
        form = PlatformImportForm()
        return _page(
            model_admin, request, "integrations/admin/import_form.html", form=form, status=400
        )
    system, rows = confirm.cleaned_data["token"]["system"], confirm.cleaned_data["token"]["rows"]
    fates = [take_in_row(request, system, row) for row in rows]
    counts = _counts(fates)
    audit_request(
        request,
        "import.platform_cases",
        obj=system,
        rows=len(rows),
        new=counts[NEW],
        review=counts[REVIEW],
        duplicate=counts[DUPLICATE],
        error=counts[ERROR],
    )
    messages.success(
        request,
        _(
            "%(new)s case(s) created, %(review)s sent to the review queue, "
            "%(duplicate)s already taken in, %(error)s not taken in."
        )
        % counts,
    )
    return _page(
        model_admin,
        request,
        "integrations/admin/import_result.html",
        system=system,
        fates=fates,
        counts=counts,
    )
