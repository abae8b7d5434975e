"""Exports auditors open in a spreadsheet program, the dashboard, and anonymity everywhere."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cases.models import Case
from ratings.models import Rating
from templates.models import CaseTemplate
from tests.api.client import as_user

pytestmark = pytest.mark.django_db
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def download(user, kind, filetype, **params):
    response = as_user(user).get(
        reverse("api:analytics-export", args=[kind]), {**MARCH, "filetype": filetype, **params}
    )
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    return b"".join(response.streaming_content)


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())  # spreadsheet programs then read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(body: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_ranking_opens_with_chinese_headers_in_both_formats(world, sample, settings):
    settings.JINSHAO_RATING_MIN_GROUP = 2
    for rows in (
        csv_rows(download(world.auditor, "ranking", "csv")),
        xlsx_rows(download(world.auditor, "ranking", "xlsx")),
    ):
        assert rows[0][:4] == ["排名", "类别内排名", "部门", "类型"]
        first = rows[1]
        assert str(first[2]) == "城管执法局" and str(first[11]) in ("85.0", "85")


def test_the_case_list_carries_its_times(world, sample):
    rows = csv_rows(download(world.auditor, "cases", "csv"))
    header, body = rows[0], rows[1:]
    assert len(body) == 4  # the draft was never raised
    case_a = next(r for r in body if r[0] == "T-A")
    assert case_a[header.index("响应用时（分钟）")] == "10.0"
    assert case_a[header.index("处置用时（小时）")] == "1.83"
    assert case_a[header.index("受邀部门")] == "城管执法局、水务局"


def test_cells_that_would_run_as_formulas_are_escaped(world, sample):
    Case.objects.filter(number="T-A").update(title='=HYPERLINK("http://evil","点我")')
    Rating.objects.filter(case__number="T-A").update(comment="+SUM(A1:A9)")
    cases = csv_rows(download(world.auditor, "cases", "csv"))
    assert next(r for r in cases if r[0] == "T-A")[1].startswith("'=HYPERLINK")
    ratings = xlsx_rows(download(world.auditor, "ratings", "xlsx"))
    assert any(str(cell).startswith("'+SUM") for row in ratings for cell in row if cell)


def test_nobody_can_tell_who_rated(world, sample, client):
    """The callers' names, usernames and ids appear in no rating view of any kind."""
    callers = [world.official, world.other_official]
    marks = {m for c in callers for m in (c.name, c.username)}
    bodies = [
        download(world.auditor, "ratings", "csv"),
        download(world.auditor, "ratings", "xlsx"),
        download(world.auditor, "ranking", "csv"),
    ]
    pages = [
        as_user(world.auditor).get(reverse(f"api:analytics-{name}"), MARCH)
        for name in ("overview", "departments", "timeliness")
    ]
    year = as_user(world.head_a).get(
        reverse("api:department-ratings", args=[world.dept_a.pk]), {"year": 2026}
    )
    client.force_login(world.superuser)
    rating = Rating.objects.first()
    assert rating is not None
    changelist = client.get(reverse("admin:ratings_rating_changelist"))
    pages += [
        year,
        changelist,
        client.get(reverse("admin:ratings_rating_change", args=[rating.pk])),
    ]
    # Each view answered and shows ratings: a refusal or an empty page proves nothing.
    assert [p.status_code for p in pages] == [200] * len(pages)
    assert year.json()["year"] == 2026 and len(year.json()["months"]) == 12
    assert len(changelist.context["cl"].result_list) == Rating.objects.count()
    bodies += [p.content for p in pages]
    for body in bodies:
        text = body.decode("utf-8", "ignore") if body[:2] != b"PK" else _xlsx_text(body)
        for mark in marks:
            assert mark not in text, mark


def _xlsx_text(body: bytes) -> str:
    return " ".join(str(c) for row in xlsx_rows(body) for c in row if c is not None)


def test_per_case_ratings_in_the_admin_are_for_auditors_and_superusers(world, sample, client):
    world.head_a.is_staff = True
    world.head_a.save()
    client.force_login(world.head_a)
    url = reverse("admin:ratings_rating_changelist")
    assert client.get(url).status_code == 403
    world.auditor.is_staff = True
    world.auditor.save()
    for reader in (world.auditor, world.superuser):
        client.force_login(reader)
        page = client.get(url)
        assert page.status_code == 200, reader
        assert len(page.context["cl"].result_list) == Rating.objects.count() > 0, reader


def test_exports_follow_the_askers_scope(world, sample):
    response = as_user(world.official).get(
        reverse("api:analytics-export", args=["ratings"]), {"filetype": "csv"}
    )
    assert response.status_code == 403
    rows = csv_rows(download(world.commander, "cases", "csv", area=world.other_community.pk))
    assert [r[0] for r in rows[1:]] == ["T-B"]


def test_the_dashboard_shows_the_same_figures_in_chinese(world, sample, client):
    world.leader.is_staff = True
    world.leader.save()
    client.force_login(world.leader)
    page = client.get(reverse("analytics-dashboard"), {"from": "2026-03-01", "to": "2026-03-31"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "发起案件" in html and "南桥镇" in html
    # the charts are drawn in the browser from the figures embedded as JSON
    embedded = html.split('id="jd-figures" type="application/json">')[1].split("</script>")[0]
    assert "占道经营" in json.loads(embedded)["categories"]["totals"][0]["name"]
    assert page.context["overview"]["raised"] == 4  # the number the API gives
    assert "http://" not in html.split("<body")[1].split("jd-grid")[0] or "cdn" not in html
    assert '<script src="http' not in html and "cdn." not in html


def test_the_dashboard_is_refused_to_people_without_indicators(world, client):
    world.staff_a.is_staff = True
    world.staff_a.save()
    client.force_login(world.staff_a)
    assert client.get(reverse("analytics-dashboard")).status_code == 403


def test_a_suggestion_becomes_a_template_in_one_click(world, sample, client):
    category = Case.objects.get(number="T-C").category
    url = reverse("analytics-accept-suggestion")
    body = {"category": category.pk, "departments": [world.dept_a.pk, world.dept_b.pk]}
    world.leader.is_staff = True
    world.leader.save()
    client.force_login(world.leader)
    client.post(url, body)
    assert not CaseTemplate.objects.filter(category=category).exists()  # leaders may not
    client.force_login(world.superuser)
    response = client.post(url, body)
    template = CaseTemplate.objects.get(category=category)
    assert response.status_code == 302 and str(template.pk) in response["Location"]
    assert set(template.default_departments.values_list("name", flat=True)) == {
        "城管执法局",
        "水务局",
    }


def test_only_auditors_are_offered_and_given_the_ratings_export(world, sample, client):
    """Rows of the ratings export name the case: commanders, leaders, the system
    administrator get 403 (as on the case's own ratings page) and no link to it."""
    for user in (world.commander, world.grid_leader, world.leader, world.sysadmin):
        response = as_user(user).get(
            reverse("api:analytics-export", args=["ratings"]), {**MARCH, "filetype": "csv"}
        )
        assert response.status_code == 403, user
        assert response.json()["error"]["code"] == "permission_denied"
    links = {}
    for user in (world.leader, world.auditor):
        user.is_staff = True
        user.save()
        client.force_login(user)
        page = client.get(reverse("analytics-dashboard"), {"from": "2026-03-01"})
        links[user.username] = " ".join(url for _label, url in page.context["exports"])
    assert "exports/ratings/" not in links["leader"] and "exports/ranking/" in links["leader"]
    assert "exports/ratings/" in links["auditor"]
