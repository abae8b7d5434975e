"""The dashboard takes the API's parameters, shows every refused filter, and defines its figures."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from analytics.selectors import DEFINITIONS


def _page(client, user, **params):
    user.is_staff = True
    user.save()
    client.force_login(user)
    response = client.get(reverse("analytics-dashboard"), params)
    assert response.status_code == 200
    return response


def test_from_and_to_are_honoured(client, world, sample):
    day = _page(client, world.auditor, **{"from": "2026-03-02", "to": "2026-03-02"})
    assert (day.context["scope"].first_day, day.context["scope"].last_day) == (
        date(2026, 3, 2),
        date(2026, 3, 2),
    )
    assert day.context["overview"]["raised"] == 4 and not day.context["errors"]
    after = _page(client, world.auditor, **{"from": "2026-03-03", "to": "2026-03-31"})
    assert after.context["overview"]["raised"] == 0


def test_a_community_area_is_kept_and_the_district_is_named(client, world, sample):
    page = _page(client, world.auditor, area=world.community.pk, **{"from": "2026-03-01"})
    assert page.context["scope"].area == world.community and not page.context["errors"]
    assert page.context["overview"]["raised"] == 3  # A, C, D in 曙光村
    whole = _page(client, world.auditor).content.decode()
    assert "---------" not in whole


def test_every_refused_filter_is_shown(client, world, sample):
    page = _page(client, world.auditor, **{"from": "not-a-day", "to": "2026-03-31"})
    assert len(page.context["errors"]) == 1 and "errorlist" in page.content.decode()
    page = _page(client, world.auditor, **{"from": "2026-03-31", "to": "2026-03-01"})
    assert page.context["errors"]  # the period ends before it starts
    outside = _page(client, world.leader, area=world.district.pk)
    assert outside.context["errors"]  # not the leader's own area: refused, not dropped


def test_the_default_window_is_a_whole_year_with_both_ends(client, world):
    scope = _page(client, world.auditor).context["scope"]
    today = timezone.localdate()
    assert scope.last_day == today
    assert scope.first_day == today.replace(year=today.year - 1)


def test_each_headline_figure_says_what_it_measures(client, world, sample):
    page = _page(client, world.auditor).content.decode()
    with translation.override("zh-hans"):  # the page's language
        for key in ("overdue", "department_response", "closure_rate", "percentiles"):
            assert escape(str(DEFINITIONS[key])) in page
