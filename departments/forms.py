"""Forms of the departments' admin pages: staff are existing, ordinary people."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from core.errors import DomainError
from departments.models import StaffMembership
from departments.services import check_staff_member


class StaffMembershipForm(forms.ModelForm):
    """A membership names an existing, ordinary account (``actor`` bound per request)."""

    actor = None
    ip = None

    class Meta:
        model = StaffMembership
        fields = ("user", "department", "title", "phone", "on_duty", "is_active")

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        department = cleaned.get("department") or getattr(self.instance, "department", None)
        if user is not None and cleaned.get("is_active", True) and self.has_changed():
            try:
                check_staff_member(user, department, actor=self.actor)
            except DomainError as error:
                self.add_error("user", ValidationError(str(error), code=error.code))
        return cleaned


class StaffMembershipFormSet(BaseInlineFormSet):
    """The staff on a department's page; each newly named person is checked."""

    actor = None
    ip = None

    def clean(self):
        super().clean()
        for form in self.forms:
            user = getattr(form, "cleaned_data", {}).get("user")
            if user is None or self._should_delete_form(form) or not form.has_changed():
                continue
            if not form.cleaned_data.get("is_active", True):
                continue
            try:
                check_staff_member(user, self.instance, actor=self.actor)
            except DomainError as error:
                form.add_error("user", ValidationError(str(error), code=error.code))
