"""Signal receivers: whatever path changes an account, its logins and sockets follow.

Hooked on the models and on Django's and django-axes' own signals, so the
admin, the API, the shell and management commands are all covered:
- a new password, or deactivation: every refresh token is blacklisted (and
  the access tokens minted from them stop), sockets re-check and close;
  deactivation also deletes the person's browser sessions (a new password
  already ends them through the session hash);
- a lock-out: refresh tokens blacklisted, sockets opened before it close;
- a role granted, changed or removed: the person's sockets re-check;
- a browser log-out: the sockets opened with that session close;
- a confirmed authenticator removed (a lost phone reset) and none of its kind
  left: every refresh token, session and socket ends.
"""

from __future__ import annotations

from accounts import logins
from core.realtime import access_changed

#: What a save compares with the row as it was.
_WATCHED = ("password", "is_active")


def remember_credentials(sender, instance, update_fields=None, **kwargs) -> None:
    """Before a user is saved: keep the stored password hash and active flag to compare."""
    instance._jinshao_before = None
    if instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(_WATCHED):
        return
    instance._jinshao_before = sender.objects.filter(pk=instance.pk).values(*_WATCHED).first()


def end_logins_on_credential_change(sender, instance, created=False, **kwargs) -> None:
    """After a user is saved: a changed password or deactivation ends every login."""
    before = getattr(instance, "_jinshao_before", None)
    instance._jinshao_before = None
    if created or before is None:
        return
    deactivated = before["is_active"] and not instance.is_active
    if before["password"] != instance.password or deactivated:
        logins.end_logins(instance, sessions=deactivated)


def recheck_on_role_change(sender, instance, **kwargs) -> None:
    """A role assignment saved or deleted: the person's sockets re-check their rooms."""
    access_changed(instance.user_id)


def end_logins_on_lockout(sender, *, username=None, **kwargs) -> None:
    """django-axes locked the account out (from one address): its tokens and sockets end."""
    from accounts.models import User

    user = User.objects.filter(username=username).first() if username else None
    if user is not None:
        logins.end_logins(user, sessions=False)


def close_sockets_on_logout(sender, request=None, user=None, **kwargs) -> None:
    """A browser logged out: the sockets opened with that session close at once."""
    session = getattr(request, "session", None)
    if user is not None and session is not None and session.session_key:
        access_changed(user.pk, session=logins.session_digest(session.session_key))


def end_logins_on_device_removal(sender, instance, **kwargs) -> None:
    """A confirmed second-factor device was deleted (admin, shell, service): if the person
    has no confirmed device of that kind left, every login they hold ends.

    Setting up a new authenticator replaces the recovery codes after creating
    the new set (``accounts.twofactor.confirm``), so that does not end them.
    """
    if not instance.confirmed:
        return
    from accounts.models import User

    user = User.objects.filter(pk=instance.user_id).first()
    if user is None:
        return  # the account itself is being deleted
    if type(instance).objects.filter(user=user, confirmed=True).exists():
        return
    logins.end_logins(user, sessions=True)
