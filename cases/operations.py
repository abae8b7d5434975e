"""The one table of case operations: what can be done to a case, by whom, through what.

Each ``Operation`` names a service of ``cases.services`` (or ``ratings.services``),
the input it takes over HTTP, where it is posted, and its guard: the same
``check_may_…`` function the service calls under its lock before it changes
anything. ``Operation.applies(person, case)`` is that guard answering yes or no
instead of raising, so

- the API's ``available_actions`` on a case (``cases.api.serializers``),
- the buttons on the back office's case page (``cases.admin``),
- and the services themselves

agree by construction: an operation listed for a person is one the server
accepts from them (unless what they type is invalid or the case moved
meanwhile), and one not listed is refused with the guard's own error
(``InvalidTransition`` → 409, ``PermissionDenied`` → 403).

Operations acting on something inside the case (an invitation, a supervision
order, an extension request) find it with ``target``: the asker's own pending
invitation for accept/decline, an open invitation for withdraw, the oldest
open order, the pending extension request. No such thing: not applicable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from cases import services
from cases.choices import ExtensionState, InvitationState, OrderState
from cases.models import Case
from core.errors import InvalidTransition, PermissionDenied


def _the_case(case: Case, person) -> Case:
    return case


def _my_pending_invitation(case: Case, person):
    """The person's own pending invitation; a superuser (who answers for anyone) any one."""
    if not getattr(person, "pk", None):
        return None
    pending = [i for i in _invitations(case) if i.state == InvitationState.PENDING]
    mine = next((i for i in pending if i.person_id == person.pk), None)
    if mine is None and person.is_superuser and person.is_active:
        return next(iter(pending), None)
    return mine


def _an_open_invitation(case: Case, person):
    open_states = (InvitationState.PENDING, InvitationState.ACCEPTED)
    return next((i for i in _invitations(case) if i.state in open_states), None)


def _invitations(case: Case) -> list:
    """The case's invitations, oldest first (the prefetched ones when the view has them)."""
    return sorted(case.invitations.all(), key=lambda i: i.pk)


def _oldest_open_order(case: Case, person):
    if getattr(case, "open_order_id", True) is None:  # annotated by the case's read: none
        return None
    return case.supervision_orders.filter(state=OrderState.OPEN).order_by("pk").first()


def _pending_extension(case: Case, person):
    if getattr(case, "pending_extension_id", True) is None:  # annotated: none
        return None
    return case.extension_requests.filter(state=ExtensionState.PENDING).order_by("pk").first()


def _transition(name: str) -> Callable[[Any, Case, Any], None]:
    return lambda target, case, person: services.check_may_transition(case, name, person)


def _on_case(check: Callable[[Case, Any], None]) -> Callable[[Any, Case, Any], None]:
    return lambda target, case, person: check(case, person)


def _check_may_rate(target, case: Case, person) -> None:
    from ratings.services import check_may_rate

    check_may_rate(case, person)


@dataclass(frozen=True)
class Operation:
    """One thing a person can do to a case.

    ``name``: the stable name clients see in ``available_actions``;
    ``label``: its words on a button; ``service``: the dotted path of the
    service that does it; ``method``/``path``: where the API takes it
    (``{id}`` is the case, ``{invitation}``/``{order}``/``{extension}`` the
    ``target``); ``input``: the dotted path of the API's input serializer;
    ``guard(target, case, person)``: raises ``InvalidTransition`` or
    ``PermissionDenied`` when it does not apply (the service calls the same
    check); ``target(case, person)``: what it acts on, ``None`` when nothing.
    """

    name: str
    label: str | Promise
    description: str
    service: str
    method: str
    path: str
    input: str
    guard: Callable[[Any, Case, Any], None]
    target: Callable[[Case, Any], Any] = _the_case

    def applies(self, person, case: Case) -> bool:
        """Whether the server would accept this operation from ``person`` on ``case`` now
        (input aside)."""
        target = self.target(case, person)
        if target is None:
            return False
        try:
            self.guard(target, case, person)
        except (InvalidTransition, PermissionDenied):
            return False
        return True

    def service_function(self) -> Callable[..., Any]:
        return import_string(self.service)

    def input_serializer(self) -> type:
        return import_string(self.input)


_S = "cases.api.serializers."

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "submit",
        _("Submit for review"),
        "The caller (or a commander) submits a draft for review: draft → pending_review.",
        "cases.services.submit_case",
        "POST",
        "cases/{id}/submit/",
        _S + "NoteSerializer",
        _transition("submit"),
    ),
    Operation(
        "approve",
        _("Approve and dispatch"),
        "A commander over the community approves a case pending review and dispatches it to "
        "the invited people (at least one pending invitation): pending_review → dispatched; "
        "the response and handling clocks start.",
        "cases.services.approve_case",
        "POST",
        "cases/{id}/approve/",
        _S + "NoteSerializer",
        _transition("approve"),
    ),
    Operation(
        "send_back",
        _("Send back for changes"),
        "A commander sends a case pending review back to its caller with a reason: "
        "pending_review → draft.",
        "cases.services.send_back_case",
        "POST",
        "cases/{id}/send_back/",
        _S + "ReasonSerializer",
        _transition("send_back"),
    ),
    Operation(
        "cancel",
        _("Cancel"),
        "The caller or a commander cancels a draft, pending or dispatched case with a reason: "
        "→ cancelled (final).",
        "cases.services.cancel_case",
        "POST",
        "cases/{id}/cancel/",
        _S + "ReasonSerializer",
        _transition("cancel"),
    ),
    Operation(
        "complete",
        _("Complete"),
        "The caller or a commander declares a case in progress handled (a department has "
        "accepted it): in_progress → pending_rating.",
        "cases.services.complete_case",
        "POST",
        "cases/{id}/complete/",
        _S + "NoteSerializer",
        _transition("complete"),
    ),
    Operation(
        "reopen",
        _("Reopen for handling"),
        "The caller or a commander reopens a case pending rating with a reason: "
        "pending_rating → in_progress.",
        "cases.services.reopen_case",
        "POST",
        "cases/{id}/reopen/",
        _S + "ReasonSerializer",
        _transition("reopen"),
    ),
    Operation(
        "edit_draft",
        _("Edit draft"),
        "Whoever may submit a draft edits its fields and answers.",
        "cases.services.update_draft",
        "PATCH",
        "cases/{id}/",
        _S + "CaseDraftUpdateSerializer",
        _on_case(services.check_may_edit_draft),
    ),
    Operation(
        "invite",
        _("Invite people"),
        "The caller or a commander invites a department's staff member (`Staff.id` of "
        "`departments/{id}/staff/`) to a case not yet ended.",
        "cases.services.invite_person",
        "POST",
        "cases/{id}/invitations/",
        _S + "InviteSerializer",
        _on_case(services.check_may_invite),
    ),
    Operation(
        "redispatch",
        _("Dispatch again"),
        "The caller or a commander invites others to a dispatched case waiting for a "
        "department (e.g. after a return); the response clock restarts.",
        "cases.services.redispatch_case",
        "POST",
        "cases/{id}/redispatch/",
        _S + "RedispatchSerializer",
        _on_case(services.check_may_redispatch),
    ),
    Operation(
        "accept",
        _("Accept the case"),
        "The invited person accepts their pending invitation; the first acceptance moves the "
        "case dispatched → in_progress. The answer carries the updated case.",
        "cases.services.accept_invitation",
        "POST",
        "invitations/{invitation}/accept/",
        _S + "NoteSerializer",
        services.check_may_answer_invitation,
        _my_pending_invitation,
    ),
    Operation(
        "decline",
        _("Decline the invitation"),
        "The invited person declines their pending invitation with a reason.",
        "cases.services.decline_invitation",
        "POST",
        "invitations/{invitation}/decline/",
        _S + "ReasonSerializer",
        services.check_may_answer_invitation,
        _my_pending_invitation,
    ),
    Operation(
        "withdraw",
        _("Withdraw an invitation"),
        "The caller or a commander takes an invited person off the case (pending or accepted "
        "invitation, case neither closed nor cancelled); they leave its room at once.",
        "cases.services.withdraw_invitation",
        "POST",
        "invitations/{invitation}/withdraw/",
        _S + "ReasonSerializer",
        services.check_may_withdraw,
        _an_open_invitation,
    ),
    Operation(
        "return",
        _("Return the case (department)"),
        "An invited department gives a live case back (退回) with a reason; its invitations end "
        "and the caller dispatches it again.",
        "cases.services.return_case",
        "POST",
        "cases/{id}/return/",
        _S + "ReasonSerializer",
        _on_case(services.check_may_return),
    ),
    Operation(
        "supervise",
        _("Issue a supervision order"),
        "A leader or grid leader over the community orders the handlers of a live case to act "
        "by a time (督办).",
        "cases.services.issue_supervision_order",
        "POST",
        "cases/{id}/supervision-orders/",
        _S + "SupervisionOrderCreateSerializer",
        _on_case(services.check_may_supervise),
    ),
    Operation(
        "answer_order",
        _("Answer a supervision order"),
        "A handler (or the commander) answers the case's oldest open supervision order.",
        "cases.services.answer_supervision_order",
        "POST",
        "supervision-orders/{order}/answer/",
        _S + "AnswerSerializer",
        services.check_may_answer_order,
        _oldest_open_order,
    ),
    Operation(
        "ask_extension",
        _("Ask for an extension"),
        "A handler asks for a later handling deadline of a live case (延期); the commander "
        "decides.",
        "cases.services.request_extension",
        "POST",
        "cases/{id}/extensions/",
        _S + "ExtensionCreateSerializer",
        _on_case(services.check_may_ask_extension),
    ),
    Operation(
        "decide_extension",
        _("Decide on the extension request"),
        "A commander approves or refuses (with a note) the case's pending extension request.",
        "cases.services.decide_extension",
        "POST",
        "extensions/{extension}/approve/ | extensions/{extension}/refuse/",
        _S + "DecisionSerializer",
        services.check_may_decide_extension,
        _pending_extension,
    ),
    Operation(
        "rate",
        _("Rate departments"),
        "The caller rates each participating department of a case pending rating on every "
        "active criterion (`rating-criteria/`); the last rating closes the case.",
        "ratings.services.rate_department",
        "POST",
        "cases/{id}/ratings/",
        _S + "RateSerializer",
        _check_may_rate,
    ),
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}

#: The state-machine transitions among the operations (the older ``allowed_transitions``).
TRANSITIONS = ("submit", "approve", "send_back", "cancel", "complete", "reopen")


def applies(name: str, person, case: Case) -> bool:
    """``BY_NAME[name].applies(person, case)``."""
    return BY_NAME[name].applies(person, case)


def available_operations(person, case: Case) -> list[str]:
    """The names of every operation ``person`` may take on ``case`` now, in table order."""
    return [op.name for op in OPERATIONS if op.applies(person, case)]
