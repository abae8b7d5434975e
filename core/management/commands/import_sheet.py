"""``manage.py import_sheet KIND FILE``: the admin's spreadsheet import, from the shell.

All or nothing, like the admin: a file with any bad row imports nothing and
every bad row is listed; the command then exits with status 1.

``--actor USERNAME`` names who imports: the import runs with that person's
rights (the admin's import permission) and is audited in their name. Staff
and workstation files name people and grant roles, so they need it; the
role rules of ``accounts.services`` apply as in the admin.
"""

from __future__ import annotations

from pathlib import Path

import tablib
from django.conf import settings
from django.contrib.auth import get_permission_codename
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import User
from core.spreadsheets import (
    ImportTooLarge,
    UnreadableText,
    check_csv_size,
    describe_errors,
    read_csv,
    read_xlsx,
)
from departments.resources import DepartmentResource, StaffMembershipResource
from grids.resources import AreaResource, WorkstationResource
from ratings.resources import CriterionResource
from templates.resources import CaseTemplateResource, CategoryResource, TemplateFieldResource

RESOURCES = {
    "areas": AreaResource,
    "workstations": WorkstationResource,
    "departments": DepartmentResource,
    "staff": StaffMembershipResource,
    "categories": CategoryResource,
    "templates": CaseTemplateResource,
    "template-fields": TemplateFieldResource,
    "criteria": CriterionResource,
}


#: Kinds whose rows name people and grant roles: who imports must be named.
NAMING_PEOPLE = frozenset({"staff", "workstations"})


def importing_actor(username: str | None, kind: str) -> User | None:
    """The active account named by ``--actor``, holding the admin's import permission."""
    if not username:
        if kind in NAMING_PEOPLE:
            raise CommandError(_("This file names people: say who imports with --actor USERNAME."))
        return None
    actor = User.objects.filter(username=username, is_active=True).first()
    opts = RESOURCES[kind]._meta.model._meta
    code = get_permission_codename(settings.IMPORT_EXPORT_IMPORT_PERMISSION_CODE, opts)
    if actor is None or not actor.has_perm(f"{opts.app_label}.{code}"):
        raise CommandError(
            _("%(username)s may not import this kind of file.") % {"username": username}
        )
    return actor


def load_dataset(path: Path) -> tablib.Dataset:
    """Read an xlsx or csv file (chosen by its extension) into a dataset, within the
    import bounds (``core.spreadsheets``: rows, unpacked size). A csv may be in any
    encoding ``core.spreadsheets.decode_text`` reads (UTF-8 with or without BOM,
    UTF-16 with BOM, GBK/GB18030); a .txt is Excel's tab-separated "Unicode text"."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return read_xlsx(path.read_bytes())
    if suffix in (".csv", ".txt"):
        check_csv_size(path.stat().st_size)  # before reading it into memory
        return read_csv(path.read_bytes())
    raise CommandError(_("Give an .xlsx or .csv file."))


class Command(BaseCommand):
    help = "Import a spreadsheet (xlsx or csv) of areas, departments, staff, templates… (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(RESOURCES))
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file, change nothing."
        )
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help="Who imports (needed for staff and workstations; audited in their name).",
        )

    def handle(self, *args, kind, file, dry_run, actor=None, **opts):
        who = importing_actor(actor, kind)
        if not file.is_file():
            raise CommandError(_("No such file: %(file)s") % {"file": file})
        try:
            dataset = load_dataset(file)
        except CommandError:
            raise
        except (ImportTooLarge, UnreadableText) as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:  # a corrupt or lying file
            raise CommandError(_("The file cannot be read: %(error)s") % {"error": exc}) from exc
        resource = RESOURCES[kind](**({"actor": who} if kind in NAMING_PEOPLE else {}))
        result = resource.import_data(dataset, dry_run=dry_run, user=who)
        problems = describe_errors(result, resource)
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(
                _("Nothing was imported: %(n)d problem(s) in the file.") % {"n": len(problems)}
            )
        totals = result.totals
        self.stdout.write(
            _("%(verb)s: %(new)d new, %(update)d updated, %(skip)d unchanged.")
            % {
                "verb": _("Checked") if dry_run else _("Imported"),
                "new": totals.get("new", 0),
                "update": totals.get("update", 0),
                "skip": totals.get("skip", 0),
            }
        )
