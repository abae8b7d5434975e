"""Every model of the project has a name a person reads (the permission lists show them all)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings


def _project_models():
    base = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        if base in Path(config.path).resolve().parents and ".venv" not in config.path:
            yield from config.get_models()


def test_every_project_model_declares_its_names():
    models = list(_project_models())
    assert {"analytics.caseday", "integrations.seensignature"} <= {
        m._meta.label_lower for m in models
    }
    unnamed = [
        m._meta.label
        for m in models
        if not {"verbose_name", "verbose_name_plural"} <= m._meta.original_attrs.keys()
    ]
    assert unnamed == []


@pytest.mark.django_db
def test_the_daily_figures_are_named_in_the_permission_lists():
    from django.contrib.auth.models import Permission

    from analytics.models import CaseDay

    permission = Permission.objects.get(codename="view_caseday")
    assert str(CaseDay._meta.verbose_name) in str(permission)
    assert "case day" not in str(permission)
