"""Spreadsheets as Chinese offices make them: encodings, headers, every problem shown, NUL.

Files are uploaded through the admin (preview, then confirm) or given to
``manage.py import_sheet``, as a clerk would; the exports are opened as a
clerk's spreadsheet program would.
"""

from __future__ import annotations

import codecs
import io
import re

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from cases.resources import CaseResource
from core.spreadsheets import SpreadsheetResource, describe_errors
from departments.models import StaffMembership
from departments.resources import StaffMembershipResource
from ratings.models import Criterion
from ratings.resources import CriterionResource, RatingResource
from templates.models import TemplateField
from templates.resources import TemplateFieldResource
from tests.api.client import as_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CRITERIA = "代码,名称,权重,排序,启用\r\nspeed,响应速度,0.5,3,是\r\n"

#: How Chinese Excel and WPS save the same sheet as text.
SAVED_AS = {
    "gbk": CRITERIA.encode("gbk"),  # "CSV (逗号分隔)" on a Chinese Windows
    "gb18030": CRITERIA.encode("gb18030"),
    "utf-8-bom": CRITERIA.encode("utf-8-sig"),  # "CSV UTF-8"
    "utf-8": CRITERIA.encode("utf-8"),
    # "Unicode 文本": UTF-16 LE with its BOM, tab-separated
    "utf-16-tabs": codecs.BOM_UTF16_LE + CRITERIA.replace(",", "\t").encode("utf-16-le"),
    "utf-16-commas": codecs.BOM_UTF16_LE + CRITERIA.encode("utf-16-le"),
}


def upload(client, url_name: str, data: bytes, name: str, fmt: int):
    return client.post(
        reverse(url_name),
        {"resource": 0, "format": fmt, "import_file": SimpleUploadedFile(name, data)},
    )


def upload_csv(client, data: bytes, url_name: str = "admin:ratings_criterion_import"):
    return upload(client, url_name, data, "sheet.csv", 1)


def confirm(client, response, url_name: str = "admin:ratings_criterion_process_import"):
    form = response.context["confirm_form"]
    assert form is not None, response.context["form"].errors
    return client.post(reverse(url_name), {**form.initial})


@pytest.mark.parametrize("saved_as", sorted(SAVED_AS))
def test_a_csv_saved_by_chinese_excel_imports_in_the_admin(client, world, saved_as):
    client.force_login(world.superuser)

    preview = upload_csv(client, SAVED_AS[saved_as])
    done = confirm(client, preview)

    assert done.status_code == 302
    assert Criterion.objects.get(code="speed").name == "响应速度"


@pytest.mark.parametrize("saved_as", sorted(SAVED_AS))
def test_import_sheet_reads_the_same_files(world, tmp_path, saved_as):
    path = tmp_path / "criteria.csv"
    path.write_bytes(SAVED_AS[saved_as])

    call_command("import_sheet", "criteria", str(path), stdout=io.StringIO())

    assert Criterion.objects.get(code="speed").name == "响应速度"


def test_a_file_in_no_encoding_we_read_is_refused_saying_what_to_do(client, world, tmp_path):
    from core.spreadsheets import UnreadableText, decode_text

    data = "代码,名称,权重,排序,启用\r\n".encode() + b"x,\x80\x80,1,1,\xff\r\n"
    with pytest.raises(UnreadableText) as refused:
        decode_text(data)
    client.force_login(world.superuser)

    response = upload_csv(client, data)

    errors = response.context["form"].errors["import_file"]
    assert errors == [str(refused.value)] and "Error" not in errors[0]
    path = tmp_path / "criteria.csv"
    path.write_bytes(data)
    with pytest.raises(CommandError, match=re.escape(str(refused.value))):
        call_command("import_sheet", "criteria", str(path))


# ------------------------------------------------------------------ headers


def staff_sheet(headers, *rows) -> tablib.Dataset:
    return tablib.Dataset(*rows, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [
        ["用户名", "姓名", "部门代码", "职务", "联系电话", "在岗", "启用"],
        ["账号", "名字", "部门代码", "职位", "手机号", "是否在岗", "是否在用"],
        ["username", "person_name", "department", "title", "phone", "on_duty", "is_active"],
    ],
    ids=["clerks-words", "aliases", "field-names"],
)
def test_a_staff_sheet_in_a_clerks_words_fills_every_column(world, headers):
    UserFactory(username="zl001", name="沈队员")
    data = staff_sheet(
        headers, ["zl001", "沈队员", world.dept_a.code, "队员", "13800000001", "否", "是"]
    )

    result = StaffMembershipResource(actor=world.superuser).import_data(data)

    assert describe_errors(result) == []
    member = StaffMembership.objects.get(user__username="zl001")
    assert (member.title, member.phone, member.on_duty) == ("队员", "13800000001", False)


def test_the_staff_export_names_people_not_things():
    with translation.override("zh-hans"):
        headers = StaffMembershipResource().get_export_headers()
        assert headers[:3] == ["用户名", "姓名", "部门代码"]
        # 名称 is a thing's name and 标题 a headline: not a person's name and post.
        assert "名称" not in headers and "标题" not in headers
    with translation.override("en"):
        assert StaffMembershipResource().get_export_headers() == [
            "Username",
            "name",
            "Department code",
            "Post",
            "Contact phone",
            "On duty",
            "Active",
        ]


def test_unknown_and_missing_columns_refuse_the_file_listing_the_expected_headers(world):
    data = tablib.Dataset(["speed", "速度", "5", 3], headers=["代码", "名称", "分值", "排序"])

    result = CriterionResource().import_data(data)

    problems = "\n".join(describe_errors(result, CriterionResource()))
    assert "分值" in problems  # the unknown column is named
    with translation.override("zh-hans"):
        expected = CriterionResource().get_export_headers()
    assert expected == ["代码", "名称", "权重", "排序", "启用"]
    assert "、".join(expected) in problems  # and every header the sheet must have
    assert "权重、启用" in problems  # the missing ones
    assert not Criterion.objects.filter(code="speed").exists()


def test_the_admin_refuses_unknown_columns_before_reading_any_row(client, world):
    client.force_login(world.superuser)
    data = "代码,名称,分值,排序,启用,备注\r\nspeed,速度,5,3,是,\r\n".encode("gbk")

    response = upload_csv(client, data)

    assert response.context.get("confirm_form") is None
    page = response.content.decode()
    assert "分值、备注" in page and "代码、名称、权重、排序、启用" in page
    assert not Criterion.objects.filter(code="speed").exists()


def test_the_refusal_lists_the_staff_headers_in_the_sheets_order(world):
    data = staff_sheet(["姓名", "职务", "联系电话"], ["沈队员", "队员", "13800000001"])

    problems = describe_errors(StaffMembershipResource(actor=world.superuser).import_data(data))

    with translation.override("zh-hans"):
        expected = "、".join(StaffMembershipResource().get_export_headers())
    assert expected in problems[-1], problems
    assert not StaffMembership.objects.filter(title="队员").exists()


def test_a_column_given_twice_or_data_without_a_header_is_refused(world):
    twice = tablib.Dataset(
        ["speed", "速度", "1", "2", 3, "是"],
        headers=["代码", "名称", "权重", "比重", "排序", "启用"],
    )
    unnamed = tablib.Dataset(
        ["speed", "速度", "1", 3, "是", "备注"],
        headers=["代码", "名称", "权重", "排序", "启用", ""],
    )
    for data, named in ((twice, r"权重、比重"), (unnamed, r"\bF\b")):
        problems = "\n".join(describe_errors(CriterionResource().import_data(data)))
        assert re.search(named, problems), problems
    assert not Criterion.objects.filter(code="speed").exists()
    # Empty columns after the sheet's own (Excel keeps some) are no problem.
    empty = tablib.Dataset(
        ["speed", "速度", "1", 3, "是", None],
        headers=["代码", "名称", "权重", "排序", "启用", None],
    )
    assert describe_errors(CriterionResource().import_data(empty)) == []
    assert Criterion.objects.filter(code="speed").exists()


def _every_resource() -> list[type[SpreadsheetResource]]:
    """Every spreadsheet of every app, so a new one is checked here without being listed."""
    import importlib

    found = []
    for app in ("grids", "departments", "templates", "ratings", "cases", "integrations"):
        module = importlib.import_module(f"{app}.resources")
        found += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, SpreadsheetResource)
            and obj.__module__ == module.__name__
            and getattr(obj._meta, "model", None) is not None
        ]
    return found


EXPORTED = _every_resource()
#: The others are exported only: cases are raised and ratings given, never imported.
IMPORTABLE = [r for r in EXPORTED if r not in (CaseResource, RatingResource)]


@pytest.mark.parametrize("resource", IMPORTABLE, ids=lambda r: r.__name__)
def test_no_header_names_two_columns(resource):
    """An alias shared by two columns of one sheet would fill the wrong one."""
    from core.spreadsheets import header_key

    instance = resource()
    owners: dict[str, str] = {}
    for name, field in instance.fields.items():
        for key in instance.column_names(name, field):
            assert owners.setdefault(key, name) == name, (key, owners[key], name)
    for alias_of in instance.header_aliases:
        assert alias_of in instance.fields, alias_of
    assert header_key("办理时限（小时）") == header_key("办理时限(小时)")


# ------------------------------------------------------------------ every problem, shown


def problem_rows(page: str) -> list[list[str]]:
    """The cells of the problems table, row by row, as a person reads them."""
    table = page.split('class="import-problems"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_admin_shows_every_problem_with_excel_row_numbers(client, world):
    """Row errors and invalid rows together, each visible, numbered as Excel numbers rows."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    with translation.override("zh-hans"):
        sheet.append(TemplateFieldResource().get_export_headers())
    template = world.template.code
    sheet.append([template, "ok_field", "好字段", "text", "否", None, None, 5])  # Excel row 2
    sheet.append([template, "pick", "无选项", "choice", "是", None, None, 6])  # 3: no options
    sheet.append([template, "Bad Key", "坏键", "text", "否", None, None, 7])  # 4: bad key
    sheet.append(["NOPE", "x", "未知模板", "text", "否", None, None, 8])  # 5: unknown template
    out = io.BytesIO()
    book.save(out)
    client.force_login(world.superuser)

    response = upload(
        client, "admin:templates_templatefield_import", out.getvalue(), "fields.xlsx", 0
    )

    page = response.content.decode()
    rows = problem_rows(page)
    assert sorted({int(r[0]) for r in rows}) == [3, 4, 5], rows
    assert any(r[0] == "3" and r[1] == "选项" for r in rows), rows
    with translation.override("zh-hans"):  # 字段代码 once the catalogue has it
        key_column = str(TemplateFieldResource().fields["key"].column_name)
    assert any(r[0] == "4" and r[1] == key_column for r in rows), rows
    assert any(r[0] == "5" and "NOPE" in r[2] for r in rows), rows
    content = page.split('id="content"', 1)[1]
    assert "None" not in content
    assert "validation-error-container" not in content  # nothing hidden behind a hover
    assert not TemplateField.objects.filter(key="ok_field").exists()


def test_import_sheet_and_the_admin_number_rows_alike(world, tmp_path, client):
    path = tmp_path / "criteria.csv"
    path.write_text("代码,名称,权重,排序,启用\nok,好,1,1,是\nbad,坏,很重,2,是\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_sheet", "criteria", str(path), stderr=err)
    assert "文件第 3 行" in err.getvalue()
    client.force_login(world.superuser)
    rows = problem_rows(upload_csv(client, path.read_bytes()).content.decode())
    assert rows == [["3", "权重", "“很重”不是数字。"]]


# ------------------------------------------------------------------ NUL


NUL_SHEET = "代码,名称,权重,排序,启用\r\nok,好,1,1,是\r\nnul,坏\x00名,1,2,是\r\n"


def _nul_is_refused_naming_row_and_column(client, world):
    result = CriterionResource().import_data(tablib.Dataset().load(NUL_SHEET, format="csv"))
    problems = describe_errors(result, CriterionResource())
    assert len(problems) == 1 and "第 2 条数据（文件第 3 行）：名称" in problems[0], problems
    client.force_login(world.superuser)
    rows = problem_rows(upload_csv(client, NUL_SHEET.encode()).content.decode())
    assert [r[:2] for r in rows] == [["3", "名称"]]
    assert not Criterion.objects.filter(code__in=["ok", "nul"]).exists()


def test_a_nul_character_in_a_cell_is_refused_naming_row_and_column(client, world):
    _nul_is_refused_naming_row_and_column(client, world)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_nul_character_is_refused_on_postgresql_too(client, world):
    """PostgreSQL refuses NUL in text (``DataError``): the file is refused before it gets there."""
    _nul_is_refused_naming_row_and_column(client, world)


# ------------------------------------------------------------------ exports


@pytest.mark.parametrize("resource", EXPORTED, ids=lambda r: r.__name__)
def test_each_export_names_its_sheet_in_chinese(world, resource):
    with translation.override("zh-hans"):
        data = resource().export().export("xlsx")
        expected = str(resource._meta.model._meta.verbose_name_plural)
    title = load_workbook(io.BytesIO(data)).active.title
    assert title == expected and title != "Tablib Dataset"
    assert re.search(r"[\u4e00-\u9fff]", title), title


def test_the_admin_export_page_labels_columns_by_their_headers(client, world):
    client.force_login(world.superuser)
    page = client.get(reverse("admin:ratings_criterion_export")).content.decode()
    labels = re.findall(r'<label for="id_criterionresource_\w+">(.*?)</label>', page)
    assert labels == ["代码", "名称", "权重", "排序", "启用"]
    page = client.get(reverse("admin:ratings_rating_export")).content.decode()
    labels = re.findall(r'<label for="id_ratingresource_\w+">(.*?)</label>', page)
    assert labels[:2] == ["案件编号", "部门"] and "办理结果" in labels, labels


def test_the_ranking_workbook_shows_the_acceptance_rate_as_a_percentage(world, case_in):
    case_in("closed")
    response = as_user(world.auditor).get(
        reverse("api:analytics-export", args=["ranking"]), {"filetype": "xlsx"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [c.value for c in sheet[1]]
    rate = sheet.cell(row=2, column=header.index("接单率") + 1)
    assert isinstance(rate.value, int | float) and 0 < rate.value <= 1
    assert rate.number_format == "0.0%"
