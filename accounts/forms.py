"""The back office's log-in form."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm

from accounts.lockout import one_attempt_at_a_time


class LoginForm(AdminAuthenticationForm):
    """Django's admin log-in, one attempt at a time per account and address, so
    django-axes' lock-out check and failure count happen together."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username is None:
            return super().clean()  # nothing to check a password for
        with one_attempt_at_a_time(self.request, username):
            return super().clean()
