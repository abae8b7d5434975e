"""What gets audited without anyone calling the log: steps of cases, browser log-ins."""

from __future__ import annotations

from audit import services
from audit.request import client_ip


def _case_event_entry(case, event) -> dict:
    return {
        "action": f"case.{event.kind}",
        "actor": event.actor,
        "obj": case,
        "details": {
            "from": event.from_state,
            "to": event.to_state,
            "invitation": event.invitation_id,
        },
    }


def case_event(sender, *, case, event, batched: bool = False, **kwargs) -> None:
    """Every step of a case, in the step's own transaction (if the audit fails, so does it).

    ``batched``: written with its batch by ``case_events``."""
    if batched:
        return
    services.record(**_case_event_entry(case, event))


def case_events(sender, *, case, events, **kwargs) -> None:
    """A step's several events (``cases.services.record_events``): one record each, one
    INSERT."""
    services.record_many([_case_event_entry(case, event) for event in events])


def _via(request) -> str:
    return "token" if request is not None and request.path.startswith("/api/") else "session"


def logged_in(sender, request, user, **kwargs) -> None:
    services.record("auth.login", actor=user, ip=client_ip(request), details={"via": _via(request)})


def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.record(
            "auth.logout", actor=user, ip=client_ip(request), details={"via": "session"}
        )


def login_failed(sender, credentials, request=None, **kwargs) -> None:
    services.record(
        "auth.login_failed",
        ip=client_ip(request) if request is not None else None,
        success=False,
        details={"username": str(credentials.get("username", ""))[:150]},
    )


def admin_change(sender, instance, created, **kwargs) -> None:
    """Configuration changes made in the admin (Django writes a LogEntry for each)."""
    if not created:
        return
    flags = {1: "added", 2: "changed", 3: "deleted"}
    services.record(
        f"admin.{flags.get(instance.action_flag, 'other')}",
        actor=instance.user,
        details={
            "model": instance.content_type.model if instance.content_type_id else "",
            "object_id": instance.object_id or "",
            "object": instance.object_repr,
            "change": instance.get_change_message(),
        },
    )


def role_saved(sender, instance, created, **kwargs) -> None:
    """A role row written around ``accounts.services`` (the shell, a fixture): still recorded.

    The services record their own writes with actor and address; this net
    catches any other ``save()``, marked ``outside_service``, so no grant
    escapes the log and none is recorded twice.
    """
    from accounts.services import role_write_is_audited_by_service

    if role_write_is_audited_by_service():
        return
    services.record(
        "role.granted" if created else "role.changed",
        obj=instance,
        details={"user": instance.user_id, "role": instance.role, "outside_service": True},
    )


def role_deleted(sender, instance, **kwargs) -> None:
    """A role row deleted around ``accounts.services`` (a cascade, the shell): still recorded."""
    from accounts.services import role_write_is_audited_by_service

    if role_write_is_audited_by_service():
        return
    services.record(
        "role.revoked",
        details={
            "user": instance.user_id,
            "role": instance.role,
            "id": instance.pk,
            "outside_service": True,
        },
    )
