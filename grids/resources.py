"""Spreadsheet import/export of the area tree (stub: filled in by the import-export work)."""

from import_export import resources

from grids.models import Area, Workstation


class AreaResource(resources.ModelResource):
    class Meta:
        model = Area


class WorkstationResource(resources.ModelResource):
    class Meta:
        model = Workstation
