"""Spreadsheet import and export: round trips, bad files, a whole new town, formula escaping."""

from __future__ import annotations

import io

import pytest
import tablib
from django.core.management import CommandError, call_command

from accounts.choices import Role
from accounts.models import RoleAssignment, User
from cases.resources import CaseResource
from core.spreadsheets import escape_cell
from departments.models import Department, StaffMembership
from departments.resources import DepartmentResource, StaffMembershipResource
from grids.models import Area, Workstation
from grids.resources import AreaResource, WorkstationResource
from ratings.models import Criterion
from ratings.resources import CriterionResource, RatingResource
from templates.models import CaseTemplate, Category, TemplateField
from templates.resources import CaseTemplateResource, CategoryResource, TemplateFieldResource

pytestmark = pytest.mark.django_db


def as_file(dataset: tablib.Dataset, fmt: str) -> tablib.Dataset:
    """Export to bytes in ``fmt`` and read back, as a person's download then upload would."""
    data = dataset.export(fmt)
    return tablib.Dataset().load(data, format=fmt)


def snapshot(model, key, fields):
    return {
        getattr(o, key) if isinstance(key, str) else key(o): tuple(
            (
                sorted(str(x) for x in getattr(o, f).all())
                if hasattr(getattr(o, f), "all")
                else str(getattr(o, f))
            )
            for f in fields
        )
        for o in model.objects.all()
    }


#: Every importable resource in dependency order, with how to compare its rows.
ROUND_TRIPS = [
    (AreaResource, Area, "code", ["name", "level", "parent", "path", "community_kind", "position"]),
    (
        DepartmentResource,
        Department,
        "code",
        ["name", "level", "kind", "town", "served_areas", "is_active"],
    ),
    (
        StaffMembershipResource,
        StaffMembership,
        lambda m: (m.user.username, m.department.code),
        ["title", "phone", "on_duty", "is_active"],
    ),
    (
        WorkstationResource,
        Workstation,
        lambda w: w.grid.code,
        ["name", "commander", "grid_leader", "deputy_commanders"],
    ),
    (CategoryResource, Category, "code", ["name", "parent", "position", "is_active"]),
    (
        CaseTemplateResource,
        CaseTemplate,
        "code",
        [
            "name",
            "category",
            "default_priority",
            "handling_limit_hours",
            "default_departments",
            "is_active",
        ],
    ),
    (
        TemplateFieldResource,
        TemplateField,
        lambda f: (f.template.code, f.key),
        ["label", "kind", "required", "choices", "position"],
    ),
    (CriterionResource, Criterion, "code", ["name", "weight", "position", "is_active"]),
]


#: Resources whose rows name people: they import as someone (``accounts.services`` rules).
NAMING_PEOPLE = (StaffMembershipResource, WorkstationResource)


def importer(resource, world):
    """The resource, importing as the superuser where its rows name people."""
    return resource(actor=world.superuser) if resource in NAMING_PEOPLE else resource()


def _wipe_configuration():
    """Empty every configured table (people stay: they are not a spreadsheet)."""
    from cases.models import Case

    Case.objects.all().delete()
    TemplateField.objects.all().delete()
    CaseTemplate.objects.all().delete()
    Category.objects.filter(parent__isnull=False).delete()
    Category.objects.all().delete()
    Criterion.objects.all().delete()
    RoleAssignment.objects.all().delete()
    StaffMembership.objects.all().delete()
    Workstation.objects.all().delete()
    Department.objects.all().delete()
    for level in (5, 4, 3, 2, 1):
        Area.objects.filter(level=level).delete()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_into_an_empty_database(world, fmt):
    """Export every resource, empty the tables, import the files back: the same rows."""
    TemplateField.objects.filter(key="goods").update(choices="果蔬\n熟食\n=1+1")
    Department.objects.filter(code="SW").update(phone="-8021")
    before = {model: snapshot(model, key, fields) for _r, model, key, fields in ROUND_TRIPS}
    assert all(before.values())
    # Staff phones are exported whole only when asked (departments.admin asks for those who may).
    whole = {StaffMembershipResource: {"phones_whole": True}}
    files = [
        (resource, as_file(resource(**whole.get(resource, {})).export(), fmt))
        for resource, *_ in ROUND_TRIPS
    ]
    _wipe_configuration()
    for resource, exported in files:
        result = importer(resource, world).import_data(exported)
        assert not result.has_errors() and not result.has_validation_errors(), (
            resource.__name__,
            [(r.number, r.error_dict) for r in result.invalid_rows],
            [(n, [str(e.error) for e in errs]) for n, errs in result.row_errors()],
        )
    for _r, model, key, fields in ROUND_TRIPS:
        assert snapshot(model, key, fields) == before[model], model


BAD_FILES = [
    # (resource, rows in export-column order, the bad data-row numbers)
    (
        DepartmentResource,
        [
            ["NEW1", "新部门", "", "district", "enforcement", "", "310120", "", "是"],
            ["NEW2", "坏层级", "", "省级", "enforcement", "", "", "", "是"],
            ["NEW3", "镇级无镇", "", "town", "management", "", "", "", "是"],
            ["NEW4", "未知区域", "", "district", "management", "", "NOWHERE", "", "是"],
        ],
        {2, 3, 4},
    ),
    (
        StaffMembershipResource,
        [
            ["stranger", "路人", "CG", "队员", "", "是", "是"],  # existing accounts only
            ["leader", "钱镇长", "NOPE", "队员", "", "是", "是"],
            ["auditor", "孙考核", "CG", "队员", "", "也许", "是"],
        ],
        {2, 3},
    ),
    (
        CategoryResource,
        [
            ["K1", "新类别", "", 1, "是"],
            ["K2", "坏上级", "NOPE", 1, "是"],
        ],
        {2},
    ),
    (
        CaseTemplateResource,
        [
            ["t_new", "新模板", "NOPE", "", "normal", 24, "", 1, "是"],
            ["t_new2", "新模板二", None, "", "特急特急", 24, "", 1, "是"],
            ["t_new3", "新模板三", None, "", "normal", 24, "CG,NOPE", 1, "是"],
        ],
        {1, 2, 3},
    ),
    (
        TemplateFieldResource,
        [
            ["street_vending", "ok_field", "好字段", "text", "否", "", "", 5],
            ["street_vending", "pick", "无选项", "choice", "是", "", "", 6],
            ["street_vending", "Bad Key", "坏键", "text", "否", "", "", 7],
            ["NOPE", "x", "未知模板", "text", "否", "", "", 8],
        ],
        {2, 3, 4},
    ),
    (
        CriterionResource,
        [
            ["speed", "速度", "1", 3, "是"],
            ["heavy", "过重", "1000", 4, "是"],
        ],
        {2},
    ),
    (
        WorkstationResource,
        [
            ["310120101", "错层工作站", "", "", "commander", "", ""],
        ],
        {1},
    ),
]


@pytest.mark.parametrize(
    ("resource", "rows", "bad"), BAD_FILES, ids=lambda v: getattr(v, "__name__", "")
)
def test_a_bad_file_imports_nothing_and_names_every_bad_row(world, resource, rows, bad):
    model = resource._meta.model
    before = model.objects.count()
    category = world.template.category.code
    rows = [[category if c is None else c for c in r] for r in rows]
    data = tablib.Dataset(*rows, headers=resource().get_export_headers())
    result = importer(resource, world).import_data(data)
    assert model.objects.count() == before
    reported = {n for n, _ in result.row_errors()} | {r.number for r in result.invalid_rows}
    assert reported == bad


def sheet(headers, *rows):
    return tablib.Dataset(*rows, headers=headers)


def test_a_bad_area_file_imports_nothing_and_reports_every_bad_row(world):
    before = Area.objects.count()
    data = sheet(
        AreaResource().get_export_headers(),
        ["310120102", "奉城镇", 2, "310120", "", 1, "是"],  # good
        ["310120102G01", "奉城第一网格", 3, "NOPE", "", 1, "是"],  # unknown parent
        ["310120102G02", "奉城第二网格", "火星", "310120102", "", 2, "是"],  # bad level
        ["bad code!", "坏代码", 3, "310120102", "", 3, "是"],  # bad code characters
    )
    result = AreaResource().import_data(data)
    assert Area.objects.count() == before
    bad_rows = {n for n, _ in result.row_errors()} | {r.number for r in result.invalid_rows}
    assert bad_rows == {2, 3, 4}


def test_level_must_match_the_parent(world):
    data = sheet(
        AreaResource().get_export_headers(),
        [
            "X1",
            "错层社区",
            4,
            world.town.code,
            "village",
            1,
            "是",
        ],  # community directly under a town
    )
    result = AreaResource().import_data(data)
    assert result.has_validation_errors() and not Area.objects.filter(code="X1").exists()


def test_a_whole_new_town_from_spreadsheets(world):
    from tests.factories import UserFactory

    # The security administrator opens the accounts; the staff list only names them.
    UserFactory(username="zl001", name="沈队员")
    UserFactory(username="zl002", name="陆队员")
    people = User.objects.count()
    areas = sheet(
        ["代码", "名称", "层级", "上级代码", "村居类型", "排序", "启用"],
        ["310120107", "柘林镇", 2, "310120", "", 7, "是"],
        ["310120107G01", "柘林镇第一网格", 3, "310120107", "", 1, "是"],
        ["310120107G01C01", "胡桥村", 4, "310120107G01", "village", 1, "是"],
        ["310120107G01C02", "迎龙村", 4, "310120107G01", "village", 2, "是"],
    )
    departments = sheet(
        ["代码", "名称", "简称", "层级", "类型", "所属镇代码", "服务区域代码", "电话", "启用"],
        [
            "310120107-CGZD",
            "柘林镇城管中队",
            "城管中队",
            "town",
            "enforcement",
            "310120107",
            "310120107",
            "",
            "是",
        ],
    )
    staff = sheet(
        ["用户名", "姓名", "部门代码", "职务", "电话", "在岗", "启用"],
        ["zl001", "沈队员", "310120107-CGZD", "队员", "13800000001", "是", "是"],
        ["zl002", "陆队员", "310120107-CGZD", "队员", "13800000002", "否", "是"],
    )
    templates = sheet(
        [
            "代码",
            "名称",
            "问题类别代码",
            "描述模板",
            "默认优先级",
            "办理时限（小时）",
            "默认部门代码",
            "排序",
            "启用",
        ],
        [
            "zl_vending",
            "柘林占道经营",
            world.template.category.code,
            "",
            "normal",
            24,
            "310120107-CGZD",
            1,
            "是",
        ],
    )
    for resource, data in (
        (AreaResource, areas),
        (DepartmentResource, departments),
        (StaffMembershipResource, staff),
        (CaseTemplateResource, templates),
    ):
        with_headers = _localise(resource, data)
        result = importer(resource, world).import_data(with_headers)
        assert not result.has_errors() and not result.has_validation_errors(), (
            resource,
            [(r.number, r.error_dict) for r in result.invalid_rows],
        )
    town = Area.objects.get(code="310120107")
    assert Area.objects.subtree(town).count() == 4
    dept = Department.objects.get(code="310120107-CGZD")
    assert list(dept.served_areas.all()) == [town]
    assert StaffMembership.objects.filter(department=dept).count() == 2
    assert RoleAssignment.objects.filter(role=Role.STAFF, department=dept).count() == 2
    assert User.objects.count() == people  # nobody created
    assert list(CaseTemplate.objects.get(code="zl_vending").default_departments.all()) == [dept]


def _localise(resource, data):
    """Use the resource's own (current-language) headers for a sheet written in column order."""
    headers = resource().get_export_headers()
    assert len(headers) == len(data.headers), (headers, data.headers)
    return tablib.Dataset(*data, headers=headers)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exports_escape_formulae(world, fmt):
    Department.objects.filter(code="CG").update(
        name='=HYPERLINK("http://x")', phone="+8613800000000"
    )
    exported = as_file(DepartmentResource().export(), fmt)
    names = exported[str(DepartmentResource().fields["name"].column_name)]
    phones = exported[str(DepartmentResource().fields["phone"].column_name)]
    assert '\'=HYPERLINK("http://x")' in names
    assert "'+8613800000000" in phones
    # Re-importing the escaped file restores the original text.
    DepartmentResource().import_data(exported)
    assert Department.objects.get(code="CG").name == '=HYPERLINK("http://x")'


def test_escape_cell_covers_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert escape_cell(f"{start}cmd") == f"'{start}cmd"
    assert escape_cell("正常文本") == "正常文本"
    assert escape_cell(42) == 42


def test_case_export_has_times_and_departments(world, case_in):
    case = case_in("closed")
    dataset = CaseResource().export()
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row[str(CaseResource().fields["number"].column_name)] == case.number
    assert row[str(CaseResource().fields["town"].column_name)] == "南桥镇"
    assert row[str(CaseResource().fields["response_minutes"].column_name)] != ""
    assert "城管执法局" in row[str(CaseResource().fields["accepted"].column_name)]


def test_rating_export_names_no_rater(world, case_in):
    case_in("closed")
    dataset = RatingResource().export()
    text = dataset.export("csv")
    assert "办理结果" in text and "工作作风" in text
    for person in (world.official, world.staff_a, world.staff_b, world.commander):
        assert person.name not in text and person.username not in text
    assert len(dataset) == 2  # one row per participating department


def test_import_sheet_command(world, tmp_path):
    good = sheet(
        ["代码", "名称", "权重", "排序", "启用"],
        ["speed", "响应速度", "0.5", 3, "是"],
    )
    path = tmp_path / "criteria.xlsx"
    path.write_bytes(_localise(CriterionResource, good).export("xlsx"))
    out = io.StringIO()
    call_command("import_sheet", "criteria", str(path), stdout=out)
    assert Criterion.objects.filter(code="speed", name="响应速度").exists()

    bad = sheet(
        ["代码", "名称", "权重", "排序", "启用"],
        ["ok2", "好", "1", 4, "是"],
        ["bad", "坏", "很重", 5, "是"],
    )
    path = tmp_path / "criteria.csv"
    path.write_text(_localise(CriterionResource, bad).export("csv"), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_sheet", "criteria", str(path), stderr=err)
    assert not Criterion.objects.filter(code__in=["ok2", "bad"]).exists()
    assert "第 2 条数据（文件第 3 行）：权重" in err.getvalue()  # data row, file line, column


def test_import_sheet_refuses_a_lying_file(tmp_path):
    path = tmp_path / "areas.xlsx"
    path.write_bytes(b"this is not a spreadsheet")
    with pytest.raises(CommandError):
        call_command("import_sheet", "areas", str(path))


def test_exports_cost_a_fixed_number_of_queries(world, case_in, django_assert_max_num_queries):
    from cases.models import Case
    from ratings.models import Rating

    case_in("closed")
    with django_assert_max_num_queries(10) as few_cases:
        CaseResource().export(queryset=Case.objects.all())
    with django_assert_max_num_queries(10) as few_ratings:
        RatingResource().export(queryset=Rating.objects.all())
    for _ in range(15):
        case_in("closed")
    with django_assert_max_num_queries(len(few_cases.captured_queries)):
        assert len(CaseResource().export(queryset=Case.objects.all())) == 16
    with django_assert_max_num_queries(len(few_ratings.captured_queries)):
        assert len(RatingResource().export(queryset=Rating.objects.all())) == 32


# ------------------------------------------------------------------ bounds


def many_rows_xlsx(rows: int) -> bytes:
    """A criteria workbook of ``rows`` data rows, written in streaming mode (fast, small)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["代码", "名称", "权重", "排序", "启用"])
    for n in range(rows):
        sheet.append([f"bulk{n}", f"准则{n}", "1", n, "是"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bomb_xlsx(unpacked: int) -> bytes:
    """A real workbook whose sheet XML is padded to ``unpacked`` bytes (a few KB packed)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(many_rows_xlsx(1)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * unpacked)
            bomb.writestr(info.filename, data)
    return out.getvalue()


def admin_upload(client, data: bytes, name: str = "criteria.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    return client.post(
        reverse("admin:ratings_criterion_import"),
        {"resource": 0, "format": 0, "import_file": SimpleUploadedFile(name, data)},
    )


def test_the_admin_refuses_a_sheet_over_the_row_limit_naming_it(settings, client, world):
    from core.spreadsheets import _too_many_rows

    settings.JINSHAO_IMPORT_MAX_ROWS = 50
    client.force_login(world.superuser)

    response = admin_upload(client, many_rows_xlsx(51))

    assert response.status_code == 200 and response.context.get("confirm_form") is None
    errors = response.context["form"].errors["import_file"]
    assert errors == [str(_too_many_rows(50))] and "50" in errors[0]
    assert not Criterion.objects.filter(code__startswith="bulk").exists()
    # At the limit, the same file is previewed as usual.
    at_limit = admin_upload(client, many_rows_xlsx(50))
    assert at_limit.context["confirm_form"] is not None


def test_reading_stops_at_the_limit_instead_of_reading_every_row(settings, monkeypatch):
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    from core.spreadsheets import ImportTooLarge, read_xlsx

    data = many_rows_xlsx(5_000)
    read = []
    original = ReadOnlyWorksheet._cells_by_row

    def counting(self, *args, **kwargs):
        for row in original(self, *args, **kwargs):
            read.append(1)
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counting)
    with pytest.raises(ImportTooLarge):
        read_xlsx(data, max_rows=100)
    assert len(read) <= 102  # the header, the rows allowed, the one too many


def test_a_csv_over_the_row_limit_is_refused_too(settings, client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    settings.JINSHAO_IMPORT_MAX_ROWS = 3
    client.force_login(world.superuser)
    text = "代码,名称,权重,排序,启用\n" + "".join(f"bulk{n},准则{n},1,{n},是\n" for n in range(4))
    response = client.post(
        reverse("admin:ratings_criterion_import"),
        {"resource": 0, "format": 1, "import_file": SimpleUploadedFile("c.csv", text.encode())},
    )
    assert any("3" in e for e in response.context["form"].errors["import_file"])
    assert not Criterion.objects.filter(code__startswith="bulk").exists()


def test_a_zip_bomb_workbook_is_refused_before_it_is_opened(settings, client, world, monkeypatch):
    import openpyxl

    settings.JINSHAO_IMPORT_MAX_UNPACKED_BYTES = 2 * 1024 * 1024
    data = bomb_xlsx(3 * 1024 * 1024)
    assert len(data) < 50_000  # small on disk
    opened = []
    real_load = openpyxl.load_workbook
    monkeypatch.setattr(
        openpyxl, "load_workbook", lambda *a, **k: opened.append(1) or real_load(*a, **k)
    )
    client.force_login(world.superuser)

    response = admin_upload(client, data)

    errors = response.context["form"].errors["import_file"]
    assert any("2.0" in e and "MB" in e for e in errors), errors
    assert opened == [] and not Criterion.objects.filter(code="bulk0").exists()


def test_a_member_packed_past_the_ratio_is_refused(settings):
    from core.spreadsheets import MAX_RATIO, ImportTooLarge, check_xlsx_archive

    with pytest.raises(ImportTooLarge) as caught:
        check_xlsx_archive(bomb_xlsx(2 * 1024 * 1024))  # spaces pack far past the ratio
    assert str(MAX_RATIO) in str(caught.value) and "sheet" in str(caught.value)


def test_import_sheet_refuses_past_the_limits_and_imports_nothing(settings, tmp_path):
    settings.JINSHAO_IMPORT_MAX_ROWS = 10
    path = tmp_path / "criteria.xlsx"
    path.write_bytes(many_rows_xlsx(11))
    with pytest.raises(CommandError) as caught:
        call_command("import_sheet", "criteria", str(path))
    assert "10" in str(caught.value)
    assert not Criterion.objects.filter(code__startswith="bulk").exists()
