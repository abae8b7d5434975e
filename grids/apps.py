from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = _("Areas and workstations")

    def ready(self) -> None:
        from django.db.models.signals import post_save, pre_save

        from grids import receivers
        from grids.models import Area

        pre_save.connect(receivers.remember_path, sender=Area, dispatch_uid="grids_area_path")
        post_save.connect(
            receivers.recheck_rooms_on_move, sender=Area, dispatch_uid="grids_area_moved"
        )
