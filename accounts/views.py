"""The second-factor page of the back office: set up an authenticator, or give a code."""

from __future__ import annotations

import base64

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django_otp import login as otp_login

from accounts import twofactor
from audit.request import client_ip
from audit.services import record


class CodeForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("one-time password", "Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


@login_required(login_url="admin:login")
def second_factor(request):
    user = request.user
    if not twofactor.required(user) or twofactor.session_verified(request.session):
        return redirect("admin:index")
    form = CodeForm(request.POST or None)
    context = {**admin.site.each_context(request), "form": form, "title": _("Second factor")}
    if twofactor.enrolled(user):
        if request.method == "POST" and form.is_valid():
            device = twofactor.check(user, form.cleaned_data["code"])
            record("auth.second_factor", actor=user, ip=client_ip(request), success=bool(device))
            if device is not None:
                otp_login(request, device)
                return redirect("admin:index")
            form.add_error("code", _("This code is not right (or was already used)."))
        return render(request, "admin/accounts/second_factor.html", context)
    device = twofactor.pending_device(user)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.confirm(user, device, form.cleaned_data["code"])
        record(
            "auth.second_factor_enrolled", actor=user, ip=client_ip(request), success=bool(codes)
        )
        if codes:
            otp_login(request, device)
            return render(
                request, "admin/accounts/second_factor.html", {**context, "recovery_codes": codes}
            )
        form.add_error("code", _("This code is not right: check the clock of your phone."))
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "admin/accounts/second_factor.html",
        {**context, "enrolling": True, "secret": secret, "config_url": device.config_url},
    )
