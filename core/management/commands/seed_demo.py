"""``manage.py seed_demo``: the model district of Fengxian, with a year of cases.

Reference data (areas, workstations, departments, staff, roles, templates,
criteria) is created once: a second run finds the district and leaves it as
it is. Cases are topped up to ``--cases`` (default 3,771, the district's
year): existing demo cases are kept and only the difference is added, so the
command is idempotent and can scale an existing demo up for benchmarks.

History is written with ``bulk_create`` in chunks, not through
``cases.services``: this builds past data in bulk (a million cases in
minutes), it does not change the state of live cases. The rows keep every
invariant the services keep (milestone times in order and consistent with the
state, an accepted invitation behind every started case, every participating
department rated on a closed case, case numbers continuing in
``CaseNumberSequence``), and the tests check them.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.choices import Role
from accounts.models import RoleAssignment, User
from accounts.services import grant_roles_in_bulk
from analytics.facts import refresh_all
from cases.choices import CaseState, EventKind, InvitationState
from cases.models import Case, CaseEvent, CaseNumberSequence, Invitation
from chat.choices import MessageKind
from chat.models import Message
from chat.payloads import SYSTEM_TEXTS
from core import demo_data as data
from core.crypto import digest
from departments.models import Department, StaffMembership
from grids.choices import AreaLevel, CommunityKind
from grids.geometry import bounding_box, rectangle
from grids.models import Area, Workstation
from grids.services import sync_workstation_roles
from notifications.models import Notification
from notifications.services import notify_for_event
from ratings.models import Criterion, Rating, Score
from templates.models import CaseTemplate, Category, TemplateField

DEMO_PASSWORD = "Jinshao@2024"
CHUNK = 2000
#: The demo district's frame (west, south, east, north), around Fengxian's real centre.
DISTRICT_FRAME = (121.30, 30.80, 121.72, 31.02)
#: Towns are laid out on this many columns (and as many rows as needed).
TOWN_COLUMNS = 4
#: The newest cases whose events fill the demo inboxes.
NOTIFIED_CASES = 300

#: The open states forced onto the most recent cases, so every state is present.
TAIL_STATES: list[str] = [
    CaseState.DRAFT,
    CaseState.PENDING_REVIEW,
    CaseState.DISPATCHED,
    CaseState.IN_PROGRESS,
    CaseState.PENDING_RATING,
]
STATE_ORDER: list[str] = [
    CaseState.DRAFT,
    CaseState.PENDING_REVIEW,
    CaseState.DISPATCHED,
    CaseState.IN_PROGRESS,
    CaseState.PENDING_RATING,
    CaseState.CLOSED,
]
CANCEL_RATE = 0.02
DECLINE_RATE = 0.12


@dataclass
class DemoWorld:
    """What case generation draws from, loaded from the database."""

    communities: list[Area]
    community_weights: list[float]
    official_of: dict[int, int]  # community id → village official user id
    commander_of: dict[int, int | None]  # community id → commander user id
    town_of: dict[int, int]  # community id → town id
    templates: list[CaseTemplate]
    template_weights: list[float]
    template_departments: dict[int, list[str]]
    department_by_code: dict[str, Department]
    department_names: dict[int, str]
    person_names: dict[int, str]
    staff_of: dict[int, list[int]]  # department id → member user ids
    criteria: list[Criterion]
    boxes: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    places: random.Random = field(default_factory=random.Random)
    logins: list[tuple[str, str, str]] = field(default_factory=list)


class Command(BaseCommand):
    help = "Create the demo district of Fengxian (idempotent); --cases N tops cases up to N."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=3771, help="Demo cases wanted in all.")
        parser.add_argument("--staff", type=int, default=2000, help="Department staff to create.")
        parser.add_argument(
            "--seed", type=int, default=2024, help="Random seed (same seed, same data)."
        )
        parser.add_argument("--no-cases", action="store_true", help="Reference data only.")
        parser.add_argument("--quiet", action="store_true", help="Print nothing but errors.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even with DEBUG off (creates accounts with a known password).",
        )

    def handle(self, *args, **opts):
        if not settings.DEBUG and not opts["allow_production"]:
            raise CommandError(
                "seed_demo creates accounts with a known password; with DEBUG off it needs "
                "--allow-production."
            )
        self.quiet = opts["quiet"]
        rng = random.Random(opts["seed"])
        if Area.objects.filter(code=data.DISTRICT[0]).exists():
            self.say("Demo district found: reference data left as it is.")
        else:
            with transaction.atomic():
                self.create_reference_data(rng, staff=opts["staff"])
        self.draw_boundaries(random.Random(opts["seed"] + 1))
        if not opts["no_cases"]:
            world = self.load_world(rng)
            world.places = random.Random(opts["seed"] + 2)
            self.top_up_cases(rng, world, target=opts["cases"])
        self.print_logins()

    def say(self, message: str) -> None:
        if not self.quiet:
            self.stdout.write(message)

    # ------------------------------------------------------------ reference

    def create_reference_data(self, rng: random.Random, *, staff: int) -> None:
        self.password = make_password(DEMO_PASSWORD)
        self.names = _NameMaker(rng)
        district, towns, grids, communities = self.create_areas(rng)
        departments = self.create_departments(district, towns)
        self.create_people(rng, district, towns, grids, communities, departments, staff)
        self.create_templates(departments)
        self.create_platforms(communities)
        for code, name, weight in data.CRITERIA:
            Criterion.objects.get_or_create(code=code, defaults={"name": name, "weight": weight})
        self.say(
            f"Created {len(towns)} towns, {len(grids)} grids, {len(communities)} communities, "
            f"{len(departments)} departments, {User.objects.count()} accounts."
        )

    def create_areas(self, rng):
        code, name = data.DISTRICT
        district = Area.objects.create(code=code, name=name, level=AreaLevel.DISTRICT)
        towns, grids, communities = [], [], []
        ordinal = "一二三四五六七八九十"
        for position, (suffix, town_name, grid_count) in enumerate(data.TOWNS):
            town = Area.objects.create(
                code=f"{code}{suffix}",
                name=town_name,
                level=AreaLevel.TOWN,
                parent=district,
                position=position,
            )
            towns.append(town)
            real = list(data.REAL_COMMUNITIES.get(town_name, []))
            used = set(real)
            for g in range(grid_count):
                grid = Area(
                    code=f"{town.code}G{g + 1:02d}",
                    name=f"{town_name}第{ordinal[g]}网格",
                    level=AreaLevel.GRID,
                    parent=town,
                    position=g,
                )
                grid.path = grid.build_path()
                grids.append(grid)
                for c in range(data.COMMUNITIES_PER_GRID):
                    cname = real.pop(0) if real else self.names.community(used)
                    kind = (
                        CommunityKind.VILLAGE if cname.endswith("村") else CommunityKind.RESIDENTIAL
                    )
                    community = Area(
                        code=f"{grid.code}C{c + 1:02d}",
                        name=cname,
                        level=AreaLevel.COMMUNITY,
                        parent=grid,
                        community_kind=kind,
                        position=c,
                    )
                    community.path = f"{grid.path}{community.code}/"  # grid has no pk yet
                    communities.append(community)
        Area.objects.bulk_create(grids)
        for community in communities:
            community.parent_id = community.parent.pk
        Area.objects.bulk_create(communities)
        return district, towns, grids, communities

    def create_departments(self, district, towns):
        departments = [
            Department(code=c, name=n, short_name=n.removeprefix("区"), level="district", kind=k)
            for c, n, k in data.DISTRICT_DEPARTMENTS
        ]
        for town in towns:
            for suffix, dname, kind in data.TOWN_DEPARTMENTS:
                departments.append(
                    Department(
                        code=f"{town.code}-{suffix}",
                        name=f"{town.name}{dname}",
                        short_name=dname,
                        level="town",
                        kind=kind,
                        town=town,
                    )
                )
        Department.objects.bulk_create(departments)
        through = Department.served_areas.through
        through.objects.bulk_create(
            through(department_id=d.pk, area_id=(d.town_id or district.pk)) for d in departments
        )
        return departments

    def create_platforms(self, communities) -> None:
        """The city's unified platform and the 12345 hotline, mapped onto the demo district.

        Their codes are the platform's own style (类别 WG-…, 区域 the community's
        code), so a delivery from either becomes a case at once; codes they
        add later land in the review queue. No callback URL: nothing is sent
        from the demo until an administrator sets one.
        """
        from integrations.models import AreaMapping, CategoryMapping, ExternalSystem

        templates = list(CaseTemplate.objects.all())
        for code, name, source, prefix in (
            ("ywtg", "奉贤区城运中心（一网统管）", "grid_platform", "WG"),
            ("rx12345", "12345 市民服务热线", "hotline_12345", "RX"),
        ):
            system = ExternalSystem.objects.create(code=code, name=name, source=source)
            CategoryMapping.objects.bulk_create(
                CategoryMapping(
                    system=system,
                    external_code=f"{prefix}-{t.code}",
                    external_name=t.name,
                    template=t,
                )
                for t in templates
            )
            AreaMapping.objects.bulk_create(
                AreaMapping(system=system, external_code=c.code, external_name=c.name, community=c)
                for c in communities
            )

    def _user(self, username: str, name: str, **extra) -> User:
        return User(username=username, name=name, password=self.password, **extra)

    def create_people(self, rng, district, towns, grids, communities, departments, staff):
        names = self.names
        users: list[User] = [
            self._user("admin", "系统超级管理员", is_staff=True, is_superuser=True),
            self._user("xitong", "系统管理员", is_staff=True),
            self._user("anquan", "安全管理员", is_staff=True),
            self._user("shenji", "审计管理员", is_staff=True),
            self._user("kaohe01", names.person(), is_staff=True),
            self._user("kaohe02", names.person()),
            self._user("lingdao01", names.person(), is_staff=True),
        ]
        users += [self._user(f"lingdao{i + 2:02d}", names.person()) for i in range(len(towns))]
        users += [self._user(f"cun{i + 1:03d}", names.person()) for i in range(len(communities))]
        users += [self._user(f"zhihui{i + 1:02d}", names.person()) for i in range(len(grids))]
        users += [self._user(f"wangge{i + 1:02d}", names.person()) for i in range(len(grids))]
        users += [
            self._user(f"juzhang{i + 1:02d}", names.person()) for i in range(len(departments))
        ]
        users += [self._user(f"s{i + 1:04d}", names.person()) for i in range(staff)]
        User.objects.bulk_create(users, batch_size=CHUNK)
        by_name = {
            u.username: u for u in User.objects.filter(username__in=[u.username for u in users])
        }

        roles = [
            RoleAssignment(user=by_name["xitong"], role=Role.SYSADMIN),
            RoleAssignment(user=by_name["anquan"], role=Role.SECADMIN),
            RoleAssignment(user=by_name["shenji"], role=Role.AUDITADMIN),
            RoleAssignment(user=by_name["kaohe01"], role=Role.AUDITOR),
            RoleAssignment(user=by_name["kaohe02"], role=Role.AUDITOR),
            RoleAssignment(user=by_name["lingdao01"], role=Role.LEADER, area=district),
        ]
        roles += [
            RoleAssignment(user=by_name[f"lingdao{i + 2:02d}"], role=Role.LEADER, area=t)
            for i, t in enumerate(towns)
        ]
        roles += [
            RoleAssignment(user=by_name[f"cun{i + 1:03d}"], role=Role.VILLAGE_OFFICIAL, area=c)
            for i, c in enumerate(communities)
        ]
        memberships = []
        for i, dept in enumerate(departments):
            head = by_name[f"juzhang{i + 1:02d}"]
            roles.append(RoleAssignment(user=head, role=Role.DEPARTMENT_HEAD, department=dept))
            memberships.append(
                StaffMembership(
                    user=head,
                    department=dept,
                    title="负责人",
                    phone=_phone(rng),
                )
            )
        for i in range(staff):
            dept = departments[i % len(departments)]
            person = by_name[f"s{i + 1:04d}"]
            memberships.append(
                StaffMembership(
                    user=person,
                    department=dept,
                    title=rng.choice(data.TITLES),
                    phone=_phone(rng),
                    on_duty=rng.random() > 0.08,
                )
            )
            roles.append(RoleAssignment(user=person, role=Role.STAFF, department=dept))
        for membership in memberships:  # bulk_create skips save(), which keeps the digest
            membership.phone_digest = digest(membership.phone)
        StaffMembership.objects.bulk_create(memberships, batch_size=CHUNK)
        # One checked, audited grant of every role, by the demo's superuser.
        grant_roles_in_bulk(roles, actor=by_name["admin"], via="seed_demo")
        self.create_workstations(grids, communities, by_name)

    def create_workstations(self, grids, communities, by_name):
        by_grid = defaultdict(list)
        for i, community in enumerate(communities):
            by_grid[community.parent_id].append(by_name[f"cun{i + 1:03d}"])
        for i, grid in enumerate(grids):
            station = Workstation.objects.create(
                grid=grid,
                name=f"{grid.name}联勤联动工作站",
                commander=by_name[f"zhihui{i + 1:02d}"],
                grid_leader=by_name[f"wangge{i + 1:02d}"],
                phone=f"021-5716{i:04d}",
            )
            station.deputy_commanders.set(by_grid[grid.pk][:2])
            sync_workstation_roles(station, actor=by_name["admin"])

    def create_templates(self, departments):
        categories = {}
        for position, (code, name, children) in enumerate(data.CATEGORIES):
            parent = Category.objects.create(code=code, name=name, position=position)
            for child_position, (child_code, child_name) in enumerate(children):
                categories[child_code] = Category.objects.create(
                    code=child_code,
                    name=child_name,
                    parent=parent,
                    position=child_position,
                )
        by_code = {d.code: d for d in departments}
        for position, spec in enumerate(data.TEMPLATES):
            code, name, category, dept_codes, priority, hours, skeleton, fields = spec
            template = CaseTemplate.objects.create(
                code=code,
                name=name,
                category=categories[category],
                description=skeleton,
                default_priority=priority,
                handling_limit_hours=hours,
                position=position,
            )
            template.default_departments.set([by_code[c] for c in dept_codes if c in by_code])
            TemplateField.objects.bulk_create(
                TemplateField(
                    template=template,
                    key=key,
                    label=label,
                    kind=kind,
                    required=required,
                    choices=choices,
                    position=i,
                )
                for i, (key, label, kind, required, choices) in enumerate(fields)
            )

    # ---------------------------------------------------------------- cases

    def load_world(self, rng: random.Random) -> DemoWorld:
        communities = list(
            Area.objects.communities().select_related("parent__parent").order_by("path")
        )
        officials = dict(
            RoleAssignment.objects.filter(
                role=Role.VILLAGE_OFFICIAL, area__in=communities
            ).values_list("area_id", "user_id")
        )
        commanders = dict(
            Workstation.objects.exclude(commander=None).values_list("grid_id", "commander_id")
        )
        staff_of = defaultdict(list)
        for dept_id, user_id in StaffMembership.objects.active().values_list(
            "department_id", "user_id"
        ):
            staff_of[dept_id].append(user_id)
        templates = list(CaseTemplate.objects.filter(is_active=True).prefetch_related("fields"))
        template_departments: dict[int, list[str]] = {t.pk: [] for t in templates}
        for spec in data.TEMPLATES:
            match = next((t for t in templates if t.code == spec[0]), None)
            if match:
                template_departments[match.pk] = list(spec[3])
        # Hot spots: a few communities and templates draw most cases (Pareto weights).
        local = random.Random(rng.random())
        return DemoWorld(
            communities=communities,
            community_weights=[local.paretovariate(1.5) for _ in communities],
            official_of=officials,
            commander_of={c.pk: commanders.get(c.parent_id) for c in communities},
            town_of={c.pk: c.parent.parent_id for c in communities},
            templates=templates,
            template_weights=[local.paretovariate(1.2) for _ in templates],
            template_departments=template_departments,
            department_by_code={d.code: d for d in Department.objects.all()},
            department_names=dict(Department.objects.values_list("pk", "name")),
            person_names=dict(
                User.objects.filter(memberships__isnull=False).values_list("pk", "name")
            ),
            staff_of=staff_of,
            criteria=list(Criterion.objects.active()),
            boxes={c.pk: bounding_box(c.boundary) for c in communities if c.boundary},
        )

    def draw_boundaries(self, rng: random.Random) -> None:
        """Plausible boundaries and populations for a demo district that has none.

        The district is a rectangle around Fengxian's centre, tiled exactly:
        towns on a 4-column layout, each town's grids as horizontal bands,
        each grid's communities as vertical strips. Populations are drawn per
        community (1,500–9,000 residents) and summed up the tree.
        """
        district = Area.objects.filter(code=data.DISTRICT[0]).first()
        if district is None or district.boundary is not None:
            return
        tiles: dict[int, tuple[float, float, float, float]] = {district.pk: DISTRICT_FRAME}
        towns = list(Area.objects.filter(parent=district).order_by("position", "code"))
        west, south, east, north = DISTRICT_FRAME
        rows = math.ceil(len(towns) / TOWN_COLUMNS)
        width, height = (east - west) / TOWN_COLUMNS, (north - south) / rows
        for n, town in enumerate(towns):
            x, y = west + (n % TOWN_COLUMNS) * width, north - (n // TOWN_COLUMNS + 1) * height
            tiles[town.pk] = (x, y, x + width, y + height)
        children = defaultdict(list)
        for area in Area.objects.filter(path__startswith=district.path, level__gt=AreaLevel.TOWN):
            children[area.parent_id].append(area)
        population: dict[int, int] = defaultdict(int)
        for town in towns:
            self._split(tiles, children, town.pk, across=False)
            for grid in children[town.pk]:
                self._split(tiles, children, grid.pk, across=True)
                for community in children[grid.pk]:
                    people = rng.randint(1500, 9000)
                    for pk in (community.pk, grid.pk, town.pk, district.pk):
                        population[pk] += people
        areas = list(Area.objects.filter(pk__in=list(tiles)))
        for area in areas:
            area.boundary = rectangle(*tiles[area.pk])
            area.population = population.get(area.pk) or None
        Area.objects.bulk_update(areas, ["boundary", "population"], batch_size=500)
        self.say(f"Drew boundaries for {len(areas)} areas.")

    @staticmethod
    def _split(tiles, children, parent_id: int, *, across: bool) -> None:
        """Cut a parent's tile into equal strips for its children (in order)."""
        kids = sorted(children[parent_id], key=lambda a: (a.position, a.code))
        west, south, east, north = tiles[parent_id]
        for n, kid in enumerate(kids):
            if across:  # vertical strips, west to east
                step = (east - west) / len(kids)
                tiles[kid.pk] = (west + n * step, south, west + (n + 1) * step, north)
            else:  # horizontal bands, north to south
                step = (north - south) / len(kids)
                tiles[kid.pk] = (west, north - (n + 1) * step, east, north - n * step)

    def top_up_cases(self, rng: random.Random, world: DemoWorld, *, target: int) -> None:
        prefix = f"{settings.JINSHAO_CASE_NUMBER_PREFIX}-"
        existing = Case.objects.filter(number__startswith=prefix).count()
        missing = target - existing
        if missing <= 0:
            self.say(f"{existing} demo cases present: none added.")
            return
        now = timezone.now().replace(microsecond=0)
        start = now - timedelta(days=365)
        span = (now - start).total_seconds()
        sequences = {s.year: s.last for s in CaseNumberSequence.objects.all()}
        done = 0
        while done < missing:
            n = min(CHUNK, missing - done)
            slice_start = start + timedelta(seconds=span * done / missing)
            slice_len = span * n / missing
            times = sorted(
                slice_start + timedelta(seconds=rng.random() * slice_len) for _ in range(n)
            )
            is_last_chunk = done + n == missing
            with transaction.atomic():
                self.write_chunk(rng, world, times, now, sequences, tail=is_last_chunk)
            reset_queries()  # with DEBUG on, Django keeps every (huge) INSERT it ran
            done += n
            if not self.quiet and (done % 20000 == 0 or done == missing):
                self.stdout.write(f"  cases: {existing + done}/{target}")
        self.say(f"Added {missing} cases ({Invitation.objects.count()} invitations in all).")
        self.fill_inboxes(now)
        refresh_all()  # bulk writes skip the signals that keep the daily figures fresh
        if connection.vendor == "postgresql":
            # Fresh statistics: with the ones from before the bulk load, the planner
            # guesses a hundred rows where there are a hundred thousand.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def fill_inboxes(self, now) -> None:
        """Notifications for the newest cases, as the services would have written them.

        Cases are bulk-written without the services, so their inboxes are filled
        here from their events; only the newest cases, so the demo phones show
        a lived-in inbox without costing a query per event of the whole year.
        Anything older than a day is marked read. Growing a demo (``--cases N`` on top
        of one) fills again: the newest cases may be old ones whose events already have
        their room's line and whose rooms already talked, and those are left as they are.
        """
        newest = Case.objects.order_by("-created_at").values_list("pk", flat=True)[:NOTIFIED_CASES]
        events = (
            CaseEvent.objects.filter(case__in=list(newest))
            .exclude(Exists(Message.objects.filter(event=OuterRef("pk"))))
            .select_related("case__community", "invitation")
            .order_by("created_at", "id")
        )
        lines = []
        for event in events.iterator(chunk_size=500):
            notify_for_event(event, push=False)
            if EventKind(event.kind) in SYSTEM_TEXTS:  # the room's line for the step
                lines.append(
                    Message(
                        case_id=event.case_id,
                        kind=MessageKind.SYSTEM,
                        event=event,
                        created_at=event.created_at,
                    )
                )
        Message.objects.bulk_create(lines, batch_size=1000)
        Notification.objects.filter(created_at__lt=now - timedelta(days=1)).update(read_at=now)
        self.talk_in_open_rooms(list(newest), now)

    def talk_in_open_rooms(self, case_ids: list[int], now) -> None:
        """A few lines of conversation in each room still being worked, after its last step."""
        cases = Case.objects.filter(pk__in=case_ids, state=CaseState.IN_PROGRESS).exclude(
            Exists(Message.objects.filter(case=OuterRef("pk"), kind=MessageKind.TEXT))
        )
        messages = []
        for case in cases.prefetch_related("invitations", "events"):
            people = [case.caller_id] + [
                i.person_id for i in case.invitations.all() if i.state == InvitationState.ACCEPTED
            ]
            last_step = max(e.created_at for e in case.events.all())
            gap = max((now - last_step) / (len(data.CHAT_LINES) + 1), timedelta(seconds=1))
            for n, line in enumerate(data.CHAT_LINES):
                messages.append(
                    Message(
                        case=case,
                        kind=MessageKind.TEXT,
                        sender_id=people[n % len(people)],
                        text=line,
                        created_at=min(last_step + gap * (n + 1), now),
                    )
                )
        Message.objects.bulk_create(messages, batch_size=1000)

    def write_chunk(self, rng, world, times, now, sequences, *, tail: bool) -> None:
        plans = [self.plan_case(rng, world, created, now) for created in times]
        if tail:  # the newest cases stand in every open state
            for plan, state in zip(plans[-len(TAIL_STATES) :], TAIL_STATES, strict=False):
                plan.cancelled = False
                plan.truncate(state)
        for plan in plans:
            year = timezone.localtime(plan.case.created_at).year
            sequences[year] = sequences.get(year, 0) + 1
            plan.case.number = f"{settings.JINSHAO_CASE_NUMBER_PREFIX}-{year}-{sequences[year]:06d}"
        Case.objects.bulk_create([p.case for p in plans])
        for year, last in sequences.items():
            CaseNumberSequence.objects.update_or_create(year=year, defaults={"last": last})
        Invitation.objects.bulk_create([i for p in plans for i in p.bind_invitations()])
        Rating.objects.bulk_create([r for p in plans for r in p.bind_ratings()])
        CaseEvent.objects.bulk_create([e for p in plans for e in p.bind_events()], batch_size=CHUNK)
        Score.objects.bulk_create([s for p in plans for s in p.bind_scores()], batch_size=CHUNK)

    def plan_case(self, rng, world, created, now) -> _CasePlan:
        community = rng.choices(world.communities, weights=world.community_weights)[0]
        template = rng.choices(world.templates, weights=world.template_weights)[0]
        caller_id = world.official_of[community.pk]
        invitees = self.pick_invitees(rng, world, template, community)
        plan = _CasePlan(rng, world, template, community, caller_id, invitees, created, now)
        box = world.boxes.get(community.pk)
        if box is not None:  # a point well inside the community's rectangle
            west, south, east, north = box
            u, v = world.places.uniform(0.02, 0.98), world.places.uniform(0.02, 0.98)
            plan.case.longitude = Decimal(f"{west + (east - west) * u:.6f}")
            plan.case.latitude = Decimal(f"{south + (north - south) * v:.6f}")
        return plan

    def pick_invitees(self, rng, world, template, community) -> list[tuple[int, int]]:
        town_id = world.town_of[community.pk]
        codes = []
        for code in world.template_departments.get(template.pk, []):
            if code.startswith("@"):
                town_code = next(
                    (
                        c
                        for c, d in world.department_by_code.items()
                        if d.town_id == town_id and c.endswith(code[1:])
                    ),
                    None,
                )
                code = town_code
            if code:
                codes.append(code)
        if rng.random() < 0.3:
            codes.append(rng.choice(list(world.department_by_code)))
        pairs = []
        for code in dict.fromkeys(codes):
            dept = world.department_by_code[code]
            staff = world.staff_of.get(dept.pk, [])
            if not staff:
                continue
            count = min(len(staff), 1 + (rng.random() < 0.4) + (rng.random() < 0.1))
            pairs += [(dept.pk, person) for person in rng.sample(staff, count)]
        return pairs

    def print_logins(self) -> None:
        if self.quiet:
            return
        rows = [
            ("superuser 超级管理员", "admin", "—"),
            ("sysadmin 系统管理员", "xitong", "—"),
            ("secadmin 安全管理员", "anquan", "—"),
            ("auditadmin 审计管理员", "shenji", "—"),
            ("village_official 村居书记", "cun001", _scope("cun001")),
            ("commander 指挥长", "zhihui01", _scope("zhihui01")),
            ("grid_leader 网格长", "wangge01", _scope("wangge01")),
            ("staff 部门人员", "s0001", _scope("s0001")),
            ("department_head 部门负责人", "juzhang01", _scope("juzhang01")),
            ("leader 领导", "lingdao01", _scope("lingdao01")),
            ("auditor 考核人员", "kaohe01", "—"),
        ]
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for role, username, scope in rows:
            self.stdout.write(f"  {role:<30} {username:<10} {scope}")


def _scope(username: str) -> str:
    assignment = (
        RoleAssignment.objects.filter(user__username=username)
        .select_related("area", "department")
        .first()
    )
    if assignment is None:
        return "—"
    return str(assignment.area or assignment.department or "—")


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


class _NameMaker:
    """Plausible Chinese names, deterministic for a seed."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def person(self) -> str:
        given = "".join(self.rng.choices(data.GIVEN, k=self.rng.choice((1, 2))))
        return self.rng.choice(data.SURNAMES) + given

    def community(self, used: set[str]) -> str:
        while True:
            stem = self.rng.choice(data.NAME_HEADS) + self.rng.choice(data.NAME_TAILS)
            name = stem + self.rng.choice(("村", "村", "村", "居委会"))
            if name not in used:
                used.add(name)
                return name


def _lognormal_minutes(rng, mean: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


class _CasePlan:
    """One generated case with its invitations, events and ratings, before insert."""

    def __init__(self, rng, world, template, community, caller_id, invitees, created, now):
        self.rng, self.world, self.now = rng, world, now
        self.commander_id = world.commander_of.get(community.pk) or caller_id
        self.invitees = invitees
        answers = {f.key: _sample_answer(rng, f) for f in template.fields.all() if f.required}
        place = rng.choice(data.CASE_TITLE_PLACES)
        self.case = Case(
            title=f"{community.name}{place}{template.name}",
            # The skeleton's {placeholders} filled in, as a caller would.
            description=re.sub(r"\{[^}]*\}", f"{community.name}{place}", template.description),
            category_id=template.category_id,
            template=template,
            answers=answers,
            community=community,
            address=f"{community.name}{place}",
            caller_id=caller_id,
            priority=template.default_priority,
            created_at=created,
        )
        self.times = self._timeline(created, template)
        self.cancelled = rng.random() < CANCEL_RATE
        state = max((s for s in STATE_ORDER if self.times[s] <= now), key=STATE_ORDER.index)
        self.truncate(state)

    def _timeline(self, created: datetime, template) -> dict[str, datetime]:
        rng = self.rng
        submitted = created + timedelta(minutes=rng.uniform(1, 30))
        dispatched = submitted + timedelta(minutes=rng.uniform(3, 60))
        accepted = dispatched + timedelta(minutes=max(1.0, _lognormal_minutes(rng, 25, 0.8)))
        completed = accepted + timedelta(hours=max(0.5, _lognormal_minutes(rng, 58, 0.9)))
        closed = completed + timedelta(hours=rng.uniform(0.5, 36))
        self.limit = self.case.handling_limit()
        return {
            CaseState.DRAFT: created,
            CaseState.PENDING_REVIEW: submitted,
            CaseState.DISPATCHED: dispatched,
            CaseState.IN_PROGRESS: accepted,
            CaseState.PENDING_RATING: completed,
            CaseState.CLOSED: closed,
        }

    def truncate(self, state: str) -> None:
        """Stop the case's life at ``state`` (moving it next to ``now`` if needed)."""
        if self.times[state] > self.now:
            shift = self.times[state] - self.now + timedelta(minutes=1)
            self.times = {s: t - shift for s, t in self.times.items()}
            self.case.created_at = self.times[CaseState.DRAFT]
        reached = STATE_ORDER[: STATE_ORDER.index(state) + 1]
        c, t = self.case, self.times
        c.submitted_at = (
            t[CaseState.PENDING_REVIEW] if CaseState.PENDING_REVIEW in reached else None
        )
        c.dispatched_at = t[CaseState.DISPATCHED] if CaseState.DISPATCHED in reached else None
        c.first_accepted_at = t[CaseState.IN_PROGRESS] if CaseState.IN_PROGRESS in reached else None
        c.completed_at = (
            t[CaseState.PENDING_RATING] if CaseState.PENDING_RATING in reached else None
        )
        c.closed_at = t[CaseState.CLOSED] if CaseState.CLOSED in reached else None
        if c.dispatched_at:
            c.response_deadline = c.dispatched_at + timedelta(
                minutes=settings.JINSHAO_RESPONSE_LIMIT_MINUTES
            )
            c.deadline = c.dispatched_at + self.limit
        else:
            c.response_deadline = c.deadline = None
        c.cancelled_at = None
        self.state = state
        if self.cancelled and state in (
            CaseState.DRAFT,
            CaseState.PENDING_REVIEW,
            CaseState.DISPATCHED,
            CaseState.CLOSED,
        ):
            # Cancelled before anyone accepted: at most dispatched.
            self.state = CaseState.CANCELLED
            last = CaseState.DISPATCHED if state == CaseState.CLOSED else state
            self.cancelled_from = last
            c.first_accepted_at = c.completed_at = c.closed_at = None
            if last != CaseState.DISPATCHED:
                c.dispatched_at = c.response_deadline = c.deadline = None
            c.cancelled_at = min(t[last] + timedelta(minutes=self.rng.uniform(5, 120)), self.now)
        _set_initial_state(c, self.state)

    # Rows that need the case's primary key, built after the case is inserted.

    def bind_invitations(self) -> list[Invitation]:
        c, rng = self.case, self.rng
        started = c.first_accepted_at is not None
        self.invitations = []
        for i, (dept_id, person_id) in enumerate(self.invitees):
            inv = Invitation(
                case=c,
                department_id=dept_id,
                person_id=person_id,
                invited_by_id=c.caller_id,
                invited_at=c.created_at,
            )
            if started:
                declined = i > 0 and rng.random() < DECLINE_RATE
                inv.state = InvitationState.DECLINED if declined else InvitationState.ACCEPTED
                inv.responded_at = c.first_accepted_at + timedelta(
                    minutes=0 if i == 0 else rng.uniform(1, 90)
                )
                inv.responded_at = min(inv.responded_at, c.completed_at or self.now)
                if declined:
                    inv.reason = rng.choice(data.DECLINE_REASONS)
            self.invitations.append(inv)
        return self.invitations

    def bind_events(self) -> list[CaseEvent]:
        c = self.case
        caller, commander = c.caller_id, self.commander_id
        events = [
            CaseEvent(
                case=c,
                kind=EventKind.CREATED,
                actor_id=caller,
                to_state=CaseState.DRAFT,
                created_at=c.created_at,
            )
        ]
        events += [
            CaseEvent(
                case=c,
                kind=EventKind.INVITED,
                actor_id=caller,
                invitation=inv,
                created_at=c.created_at,
                data={
                    "department": self.world.department_names[inv.department_id],
                    "person": self.world.person_names[inv.person_id],
                },
            )
            for inv in self.invitations
        ]
        steps = [
            (
                c.submitted_at,
                EventKind.SUBMITTED,
                caller,
                CaseState.DRAFT,
                CaseState.PENDING_REVIEW,
            ),
            (
                c.dispatched_at,
                EventKind.APPROVED,
                commander,
                CaseState.PENDING_REVIEW,
                CaseState.DISPATCHED,
            ),
        ]
        for at, kind, actor, src, dst in steps:
            if at:
                events.append(
                    CaseEvent(
                        case=c,
                        kind=kind,
                        actor_id=actor,
                        from_state=src,
                        to_state=dst,
                        created_at=at,
                    )
                )
        first = True
        for inv in self.invitations:
            if inv.state == InvitationState.ACCEPTED:
                events.append(
                    CaseEvent(
                        case=c,
                        kind=EventKind.ACCEPTED,
                        actor_id=inv.person_id,
                        invitation=inv,
                        from_state=CaseState.DISPATCHED if first else "",
                        to_state=CaseState.IN_PROGRESS if first else "",
                        created_at=inv.responded_at or c.created_at,
                        data={"department": self.world.department_names[inv.department_id]},
                    )
                )
                first = False
            elif inv.state == InvitationState.DECLINED:
                events.append(
                    CaseEvent(
                        case=c,
                        kind=EventKind.DECLINED,
                        actor_id=inv.person_id,
                        invitation=inv,
                        note=inv.reason,
                        created_at=inv.responded_at or c.created_at,
                        data={"department": self.world.department_names[inv.department_id]},
                    )
                )
        if c.completed_at:
            events.append(
                CaseEvent(
                    case=c,
                    kind=EventKind.COMPLETED,
                    actor_id=caller,
                    from_state=CaseState.IN_PROGRESS,
                    to_state=CaseState.PENDING_RATING,
                    created_at=c.completed_at,
                )
            )
        if c.cancelled_at:
            events.append(
                CaseEvent(
                    case=c,
                    kind=EventKind.CANCELLED,
                    actor_id=caller,
                    from_state=self.cancelled_from,
                    to_state=CaseState.CANCELLED,
                    note="重复上报，已撤销",
                    created_at=c.cancelled_at,
                )
            )
        events += [
            CaseEvent(
                case=c,
                kind=EventKind.RATED,
                data={"department": self.world.department_names[r.department_id]},
                created_at=r.created_at,
            )
            for r in self.ratings
        ]
        if c.closed_at:
            events.append(
                CaseEvent(
                    case=c,
                    kind=EventKind.CLOSED,
                    from_state=CaseState.PENDING_RATING,
                    to_state=CaseState.CLOSED,
                    created_at=c.closed_at,
                )
            )
        return events

    def bind_ratings(self) -> list[Rating]:
        c, rng = self.case, self.rng
        self.ratings, self.score_values = [], []
        if c.state != CaseState.CLOSED:
            return []
        departments = dict.fromkeys(
            i.department_id for i in self.invitations if i.state == InvitationState.ACCEPTED
        )
        criteria = self.world.criteria
        total_weight = sum(cr.weight for cr in criteria)
        for dept_id in departments:
            values = [100 if rng.random() < 0.9 else rng.randint(85, 99) for _ in criteria]
            overall = (
                sum(cr.weight * v for cr, v in zip(criteria, values, strict=True)) / total_weight
            )
            rating = Rating(
                case=c,
                department_id=dept_id,
                overall=Decimal(overall).quantize(Decimal("0.01")),
                created_at=c.closed_at - timedelta(minutes=1),
            )
            self.ratings.append(rating)
            self.score_values.append(values)
        return self.ratings

    def bind_scores(self) -> list[Score]:
        return [
            Score(rating=rating, criterion=cr, score=v)
            for rating, values in zip(self.ratings, self.score_values, strict=True)
            for cr, v in zip(self.world.criteria, values, strict=True)
        ]


def _set_initial_state(case: Case, state: str) -> None:
    """Give an unsaved, generated case its state.

    ``state`` is a protected django-fsm field: after construction only
    transitions may change it. A row built for bulk insert is still being
    constructed, so its initial value is replaced before it is ever saved.
    """
    case.__dict__.pop("state", None)
    case.state = state


def _sample_answer(rng, field):
    if field.kind == "number":
        return rng.randint(1, 20)
    if field.kind == "choice":
        return rng.choice(field.choice_list)
    if field.kind == "date":
        return timezone.localdate().isoformat()
    if field.kind == "photo":
        return [f"demo/photo-{rng.randrange(10**6):06d}.jpg"]
    return "现场核实"
