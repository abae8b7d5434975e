"""Spreadsheets of the two mapping tables: their codes to our templates and communities.

Rows are known by (system code, their code); an import is all-or-nothing like
every other sheet (``core.spreadsheets.SpreadsheetResource``): a bad system
code, template code or community code is reported by its column and row, and
nothing of the file is saved.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields

from core.spreadsheets import CodeWidget, SpreadsheetResource
from grids.choices import AreaLevel
from grids.models import Area
from integrations.models import AreaMapping, CategoryMapping, ExternalSystem
from templates.models import CaseTemplate


class CommunityCodeWidget(CodeWidget):
    """An area by its code that must be a village or community (cases are raised there)."""

    def clean(self, value, row=None, **kwargs):
        area = super().clean(value, row, **kwargs)
        if area is not None and area.level != AreaLevel.COMMUNITY:
            raise ValueError(
                _("“%(value)s” is %(name)s, not a village or community.")
                % {"value": value, "name": area.name}
            )
        return area


def system_field() -> fields.Field:
    return fields.Field(
        attribute="system",
        column_name=gettext_lazy("System code"),
        widget=CodeWidget(ExternalSystem, "code"),
    )


def their_code_field() -> fields.Field:
    return fields.Field(attribute="external_code", column_name=gettext_lazy("Their code"))


def their_name_field() -> fields.Field:
    return fields.Field(attribute="external_name", column_name=gettext_lazy("Their name"))


class MappingResource(SpreadsheetResource):
    """Shared by both tables: a row whose key cannot be read is a new row, then an invalid one."""

    header_aliases = {
        "system": ("系统编码", "外部系统代码"),
        "external_code": ("外部代码", "平台代码", "对方编码"),
        "external_name": ("外部名称", "平台名称"),
    }

    def get_instance(self, instance_loader, row):
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:
            # An unknown system code: the system column reports it, with the
            # row's other problems, when the row is read (an invalid row, not a crash).
            return None


class CategoryMappingResource(MappingResource):
    system = system_field()
    external_code = their_code_field()
    external_name = their_name_field()
    template = fields.Field(
        attribute="template",
        column_name=gettext_lazy("Our template code"),
        widget=CodeWidget(CaseTemplate, "code"),
    )

    header_aliases = {**MappingResource.header_aliases, "template": ("模板代码", "案件模板代码")}

    class Meta:
        model = CategoryMapping
        import_id_fields = ("system", "external_code")
        fields = ("system", "external_code", "external_name", "template")

    select_related = ("system", "template")


class AreaMappingResource(MappingResource):
    system = system_field()
    external_code = their_code_field()
    external_name = their_name_field()
    community = fields.Field(
        attribute="community",
        column_name=gettext_lazy("Our community code"),
        widget=CommunityCodeWidget(Area, "code"),
    )

    header_aliases = {**MappingResource.header_aliases, "community": ("村居代码", "社区代码")}

    class Meta:
        model = AreaMapping
        import_id_fields = ("system", "external_code")
        fields = ("system", "external_code", "external_name", "community")

    select_related = ("system", "community")
