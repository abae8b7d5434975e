"""Spreadsheets of categories, case templates and their form fields."""

from django.utils.translation import gettext_lazy as _
from import_export import fields

from core.spreadsheets import (
    ChoiceWidget,
    CodeListWidget,
    CodeWidget,
    IntegerCellWidget,
    SpreadsheetResource,
    YesNoWidget,
    active_field,
    code_field,
    name_field,
    order_field,
)
from departments.models import Department
from templates.choices import FieldKind, Priority
from templates.models import CaseTemplate, Category, TemplateField


class CategoryResource(SpreadsheetResource):
    code = code_field()
    name = name_field()
    parent = fields.Field(
        attribute="parent", column_name=_("Parent code"), widget=CodeWidget(Category, "code")
    )
    position = order_field()
    is_active = active_field()

    header_aliases = {"name": ("类别名称",), "parent": ("上级编码", "上级类别代码")}

    class Meta:
        model = Category
        import_id_fields = ("code",)
        fields = ("code", "name", "parent", "position", "is_active")

    select_related = ("parent",)


class CaseTemplateResource(SpreadsheetResource):
    code = code_field()
    name = name_field()
    category = fields.Field(
        attribute="category", column_name=_("Category code"), widget=CodeWidget(Category, "code")
    )
    description = fields.Field(attribute="description", column_name=_("Description skeleton"))
    default_priority = fields.Field(
        attribute="default_priority",
        column_name=_("Default priority"),
        widget=ChoiceWidget(Priority),
    )
    handling_limit_hours = fields.Field(
        attribute="handling_limit_hours",
        column_name=_("Handling limit (hours)"),
        widget=IntegerCellWidget(),
    )
    default_departments = fields.Field(
        attribute="default_departments",
        column_name=_("Default department codes"),
        widget=CodeListWidget(Department, "code"),
    )
    position = order_field()
    is_active = active_field()

    header_aliases = {
        "name": ("模板名称",),
        "category": ("问题类别", "类别代码"),
        "description": ("描述",),
        "default_priority": ("优先级",),
        "handling_limit_hours": ("办理时限", "时限（小时）"),
        "default_departments": ("默认部门",),
    }

    class Meta:
        model = CaseTemplate
        import_id_fields = ("code",)
        fields = (
            "code",
            "name",
            "category",
            "description",
            "default_priority",
            "handling_limit_hours",
            "default_departments",
            "position",
            "is_active",
        )

    select_related = ("category",)
    prefetch_related = ("default_departments",)


class TemplateFieldResource(SpreadsheetResource):
    """A template's form fields; choices one per line or separated by “|”."""

    template = fields.Field(
        attribute="template",
        column_name=_("Template code"),
        widget=CodeWidget(CaseTemplate, "code"),
    )
    key = fields.Field(attribute="key", column_name=_("Field code"))
    label = fields.Field(attribute="label", column_name=_("Field name"))
    kind = fields.Field(attribute="kind", column_name=_("Type"), widget=ChoiceWidget(FieldKind))
    required = fields.Field(
        attribute="required", column_name=_("Required"), widget=YesNoWidget(), default=False
    )
    choices = fields.Field(attribute="choices", column_name=_("Choices"))
    help_text = fields.Field(attribute="help_text", column_name=_("Help text"))
    position = order_field()

    header_aliases = {
        "key": ("字段键", "字段编码", "Key"),  # 字段键, 标签: the earlier export's words
        "label": ("标签", "名称", "Label"),
        "kind": ("字段类型",),
        "required": ("是否必填",),
        "help_text": ("填写说明", "说明"),
    }

    class Meta:
        model = TemplateField
        import_id_fields = ("template", "key")
        fields = (
            "template",
            "key",
            "label",
            "kind",
            "required",
            "choices",
            "help_text",
            "position",
        )

    select_related = ("template",)

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        column = self.fields["choices"].column_name
        if row.get(column):
            row[column] = "\n".join(
                c.strip() for c in str(row[column]).replace("|", "\n").splitlines() if c.strip()
            )
