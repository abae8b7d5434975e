"""Forms of the area tree's admin pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from accounts.choices import Role
from core.errors import DomainError
from grids.models import Workstation
from grids.services import check_workstation_people


class WorkstationForm(forms.ModelForm):
    """A workstation names existing, ordinary people only (never an administrator account).

    ``actor`` is bound per request (``accounts.forms.for_request``); a refusal
    is an error on the field that names the person.
    """

    actor = None
    ip = None

    class Meta:
        model = Workstation
        fields = (
            "grid",
            "name",
            "address",
            "phone",
            "commander",
            "deputy_commanders",
            "grid_leader",
        )

    def clean(self):
        cleaned = super().clean()
        grid = cleaned.get("grid")
        posts = {
            "commander": [(cleaned.get("commander"), Role.COMMANDER)],
            "grid_leader": [(cleaned.get("grid_leader"), Role.GRID_LEADER)],
            "deputy_commanders": [(p, None) for p in cleaned.get("deputy_commanders") or ()],
        }
        for field, people in posts.items():
            try:
                check_workstation_people(
                    [(p, r) for p, r in people if p is not None], grid=grid, actor=self.actor
                )
            except DomainError as error:
                self.add_error(field, ValidationError(str(error), code=error.code))
        return cleaned
