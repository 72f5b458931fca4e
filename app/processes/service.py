"""Operations on processes and milestones: create, change, change status, delete.

Each function validates what the rules demand (known and active agencies,
areas and categories; a responsible officer of the owning agency; no
dependency cycles; nothing done before what it waits for), flushes, and
writes one audit event with ids, statuses and dates only, never free text.
A change made against an older ``version`` than the stored one raises
ProcessConflict and saves nothing (optimistic locking, as in app.cases.plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any, Callable, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.admin.models import Agency
from app.db import db, flush_in_savepoint, utcnow
from app.overview.models import Area, Category
from app.processes import schedule
from app.processes.access import MAX_ID
from app.processes.models import (CLOSED_STATUSES, Milestone, Process, ProcessStatus, ProcessType, WorkStatus,
                                  process_agency)
from app.security import audit
from app.security.models import Role, User

MAX_NAME = 200
MAX_TITLE = 200
MAX_GOAL = 5_000
MAX_NOTE = 5_000
PROCESS_LEADER_ROLE = "process_leader"

CONFLICT_MESSAGE = _l("Uppgiften har ändrats av någon annan sedan du öppnade den. Ladda om sidan och gör om "
                      "ändringen. Inget har sparats.")
#: Fields of a process that update_process may change.
PROCESS_FIELDS = ("name", "type", "status", "owner_id", "owner_agency_id", "agency_ids", "goal", "start_date",
                  "end_date", "area_ids", "category_ids")
#: Fields of a milestone that update_milestone may change (change_status only status and completion_note).
MILESTONE_FIELDS = ("title", "agency_id", "responsible_id", "due_date", "status", "depends_on_ids",
                    "completion_note")


class ProcessError(ValueError):
    """A change the rules refuse; the message is shown to the user and nothing is saved."""


class ProcessConflict(ProcessError):
    """Someone else saved the object since this user opened it."""


# ------------------------------------------------------------------ validation helpers


def _text(value: str | None, max_len: int, missing=None) -> str:
    value = (value or "").strip()
    if missing is not None and not value:
        raise ProcessError(missing)
    if len(value) > max_len:
        raise ProcessError(_l("Högst %(max)d tecken.", max=max_len))
    return value


def _enum(enum_cls, value, message):
    try:
        return enum_cls(value)
    except ValueError:
        raise ProcessError(message) from None


def _ids(values: Iterable[Any] | None, message) -> list[int]:
    """Whole-number ids in range, without duplicates (ProcessError otherwise)."""
    ids: list[int] = []
    for value in values or ():
        try:
            ident = int(value)
        except (TypeError, ValueError):
            raise ProcessError(message) from None
        if not 0 < ident <= MAX_ID:
            raise ProcessError(message)
        if ident not in ids:
            ids.append(ident)
    return ids


def _load_active(model, values, message, keep: Iterable[int] = ()) -> list:
    """The rows with these ids; ProcessError if any id is unknown, or inactive and not among ``keep`` (rows
    already linked stay linked after they are deactivated; only new links must be to active rows)."""
    ids = _ids(values, message)
    if not ids:
        return []
    usable = model.active.is_(True)
    keep = [i for i in keep if i]
    if keep:
        usable = usable | model.id.in_(keep)
    rows = list(db.session.scalars(select(model).where(model.id.in_(ids), usable)))
    if len(rows) != len(ids):
        raise ProcessError(message)
    return sorted(rows, key=lambda row: ids.index(row.id))


def _active_agency(value, keep: Iterable[int] = ()) -> Agency:
    agencies = _load_active(Agency, [value] if value not in (None, "") else [], _l("Okänd eller inaktiv myndighet."),
                            keep)
    if not agencies:
        raise ProcessError(_l("Välj en myndighet."))
    return agencies[0]


def _owner(value, current: int | None = None) -> User:
    ids = _ids([value] if value not in (None, "") else [], _l("Välj en processledare som ägare."))
    user = db.session.get(User, ids[0]) if ids else None
    if user is not None and user.id == current:
        return user  # the owner stays the owner, even if no longer active
    if user is None or not user.active or PROCESS_LEADER_ROLE not in user.role_names:
        raise ProcessError(_l("Ägaren måste vara en aktiv processledare."))
    return user


def _check_period(start: date | None, end: date | None) -> None:
    if not isinstance(start, date):
        raise ProcessError(_l("Ange ett startdatum."))
    if end is not None and end < start:
        raise ProcessError(_l("Slutdatum kan inte ligga före startdatum."))


def _check_version(obj, expected_version) -> None:
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ProcessConflict(CONFLICT_MESSAGE) from None
    if expected != obj.version:
        raise ProcessConflict(CONFLICT_MESSAGE)


def _id_list(ids: Iterable[int], limit: int = 60) -> str:
    """Ids for an audit detail, comma-separated, cut at a whole id so the event stays within its size limit."""
    out = ""
    for ident in ids:
        part = f"{out},{ident}" if out else str(ident)
        if len(part) > limit:
            break
        out = part
    return out


def _flush_or_conflict(apply: Callable[[], None]) -> None:
    """Make the changes in a savepoint; a concurrent writer's newer version becomes a ProcessConflict."""
    flush_in_savepoint(apply, lambda: ProcessConflict(CONFLICT_MESSAGE))


# ------------------------------------------------------------------ choices for the forms


def process_leader_choices(include: int | None = None) -> list[tuple[int, str]]:
    """Active process leaders (plus ``include``, the current owner) as (id, "Name (Agency)")."""
    leaders = User.active.is_(True) & User.roles.any(Role.name == PROCESS_LEADER_ROLE)
    stmt = (select(User.id, User.full_name, Agency.name).join(Agency, User.agency_id == Agency.id)
            .where(leaders | (User.id == (include or -1))).order_by(User.full_name, User.id))
    return [(uid, f"{name} ({agency})") for uid, name, agency in db.session.execute(stmt)]


def agency_choices(include: Iterable[int] = ()) -> list[tuple[int, str]]:
    """Active agencies by name (plus those in ``include``, e.g. already chosen but since deactivated)."""
    include = [i for i in include if i]
    clause = Agency.active.is_(True) | Agency.id.in_(include) if include else Agency.active.is_(True)
    stmt = select(Agency.id, Agency.name).where(clause).order_by(Agency.name, Agency.id)
    return [(ident, name) for ident, name in db.session.execute(stmt)]


def area_choices(include: Iterable[int] = ()) -> list[tuple[int, str]]:
    include = [i for i in include if i]
    clause = Area.active.is_(True) | Area.id.in_(include) if include else Area.active.is_(True)
    stmt = select(Area.id, Area.name).where(clause).order_by(Area.name, Area.id)
    return [(ident, name) for ident, name in db.session.execute(stmt)]


def category_choices(include: Iterable[int] = (), locale: str | None = None) -> list[tuple[int, str]]:
    """Active categories in their list order, named in the UI language."""
    include = [i for i in include if i]
    clause = Category.active.is_(True) | Category.id.in_(include) if include else Category.active.is_(True)
    stmt = select(Category).where(clause).order_by(Category.sort_order, Category.name_sv, Category.id)
    return [(category.id, category.name(locale)) for category in db.session.scalars(stmt)]


def participant_agency_choices(process: Process) -> list[tuple[int, str]]:
    agencies = list(process.agencies)
    if process.owner_agency is not None and process.owner_agency not in agencies:
        agencies.append(process.owner_agency)
    return [(a.id, a.name) for a in sorted(agencies, key=lambda a: (a.name, a.id))]


def officer_choices(process: Process, include: int | None = None) -> list[tuple[int, str]]:
    """Active users of the process's agencies, as "Name (Agency)" (the service checks the owning agency)."""
    ids = list(process.participant_agency_ids)
    stmt = (select(User.id, User.full_name, Agency.name).join(Agency, User.agency_id == Agency.id)
            .where((User.active.is_(True) & User.agency_id.in_(ids)) | (User.id == (include or -1)))
            .order_by(Agency.name, User.full_name, User.id))
    return [(uid, f"{name} ({agency})") for uid, name, agency in db.session.execute(stmt)]


# ------------------------------------------------------------------ the list


def late_clause(today: date):
    """SQL twin of dates.is_late: open (not done or cancelled) and the due date has passed."""
    return and_(Milestone.status.not_in(list(CLOSED_STATUSES)), Milestone.due_date < today)


def late_count_subquery(today: date):
    return (select(func.count(Milestone.id)).where(Milestone.process_id == Process.id, late_clause(today))
            .correlate(Process).scalar_subquery())


@dataclass(frozen=True)
class ProcessFilter:
    q: str = ""
    status: ProcessStatus | None = None
    type: ProcessType | None = None
    agency_id: int | None = None
    sort: str = "name"


#: Sort keys of the process list (a leading "-" sorts descending).
PROCESS_SORTS = ("name", "start", "status", "late")


def search_processes(visible, filters: ProcessFilter, today: date, page: int, per_page: int):
    """Filter, sort and paginate a visibility-filtered SELECT of processes (access.visible_processes_query)."""
    stmt = visible
    if filters.q:
        stmt = stmt.where(Process.name.icontains(filters.q, autoescape=True))
    if filters.status:
        stmt = stmt.where(Process.status == filters.status)
    if filters.type:
        stmt = stmt.where(Process.type == filters.type)
    if filters.agency_id:
        stmt = stmt.where(or_(
            Process.owner_agency_id == filters.agency_id,
            select(process_agency.c.process_id).where(process_agency.c.process_id == Process.id,
                                                      process_agency.c.agency_id == filters.agency_id).exists()))
    key = filters.sort.lstrip("-")
    column = {"name": Process.name, "start": Process.start_date, "status": Process.status,
              "late": late_count_subquery(today)}.get(key, Process.name)
    descending = filters.sort.startswith("-")
    stmt = stmt.order_by(column.desc() if descending else column.asc(), Process.name, Process.id)
    stmt = stmt.options(joinedload(Process.owner))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def late_counts(processes: list[Process], today: date) -> dict[int, int]:
    """Late milestones per process (the same rule as the sort and as dates.is_late)."""
    ids = [p.id for p in processes]
    if not ids:
        return {}
    stmt = (select(Milestone.process_id, func.count(Milestone.id))
            .where(Milestone.process_id.in_(ids), late_clause(today)).group_by(Milestone.process_id))
    return {pid: count for pid, count in db.session.execute(stmt)}


def milestones_of(process: Process) -> list[Milestone]:
    """The process's milestones with their dependencies and people, in a few queries."""
    stmt = (select(Milestone).where(Milestone.process_id == process.id)
            .options(selectinload(Milestone.depends_on), selectinload(Milestone.dependents),
                     joinedload(Milestone.responsible))
            .order_by(Milestone.due_date, Milestone.id))
    return list(db.session.scalars(stmt))


# ------------------------------------------------------------------ processes


def _process_values(values: dict[str, Any], process: Process | None = None) -> dict[str, Any]:
    """Checked and converted process values (ProcessError for anything the user must correct).

    Editing ``process``, what it already links to may stay even if since deactivated.
    """
    unknown = set(values) - set(PROCESS_FIELDS)
    if unknown:
        raise TypeError(f"a process has no field(s) {sorted(unknown)}")
    out: dict[str, Any] = {}
    if "name" in values:
        out["name"] = _text(values["name"], MAX_NAME, _l("Ange ett namn."))
    if "type" in values:
        out["type"] = _enum(ProcessType, values["type"], _l("Välj en typ av process i listan."))
    if "status" in values:
        out["status"] = _enum(ProcessStatus, values["status"], _l("Välj en status i listan."))
    if "owner_id" in values:
        out["owner"] = _owner(values["owner_id"], process.owner_id if process else None)
    if "owner_agency_id" in values:
        out["owner_agency"] = _active_agency(values["owner_agency_id"], [process.owner_agency_id] if process else [])
    if "agency_ids" in values:
        out["agencies"] = _load_active(Agency, values["agency_ids"],
                                       _l("En vald deltagande myndighet finns inte eller är inaktiv."),
                                       [a.id for a in process.agencies] if process else [])
    if "goal" in values:
        out["goal"] = _text(values["goal"], MAX_GOAL)
    if "start_date" in values:
        out["start_date"] = values["start_date"]
    if "end_date" in values:
        out["end_date"] = values["end_date"] or None
    if "area_ids" in values:
        out["areas"] = _load_active(Area, values["area_ids"], _l("Ett valt område finns inte eller är inaktivt."),
                                    [a.id for a in process.areas] if process else [])
    if "category_ids" in values:
        out["categories"] = _load_active(Category, values["category_ids"],
                                         _l("En vald kategori finns inte eller är inaktiv."),
                                         [c.id for c in process.categories] if process else [])
    return out


def create_process(actor, *, name: str, type, status=ProcessStatus.PLANNED, owner_id: int, owner_agency_id: int,
                   agency_ids=(), goal: str = "", start_date: date, end_date: date | None = None, area_ids=(),
                   category_ids=()) -> Process:
    """Start a process; nothing is saved if any value is refused."""
    values = _process_values(dict(name=name, type=type, status=status, owner_id=owner_id,
                                  owner_agency_id=owner_agency_id, agency_ids=agency_ids, goal=goal,
                                  start_date=start_date, end_date=end_date, area_ids=area_ids,
                                  category_ids=category_ids))
    _check_period(values["start_date"], values["end_date"])
    process = Process(**values)
    db.session.add(process)
    db.session.flush()
    audit.record("process.create", obj=process, actor=actor,
                 detail={"status": process.status.value, "type": process.type.value,
                         "agencies": _id_list(sorted(process.participant_agency_ids))})
    return process


def _differs(old, new) -> bool:
    """Collections compare as sets of ids (their order is the display order), everything else by value."""
    if isinstance(new, list):
        return {row.id for row in old or ()} != {row.id for row in new}
    return old != new


def _check_milestone_owners_stay(process: Process, values: dict[str, Any]) -> None:
    """An agency that owns milestones must keep taking part (its officers update them and must see the process)."""
    agencies = values.get("agencies", process.agencies)
    owner_agency = values.get("owner_agency", process.owner_agency)
    remaining = {a.id for a in agencies} | ({owner_agency.id} if owner_agency is not None else set())
    leaving = sorted({m.agency.name for m in process.milestones if m.agency_id not in remaining})
    if leaving:
        raise ProcessError(_l("%(names)s äger delmål i processen och måste vara kvar som deltagande myndighet. "
                              "Flytta eller ta bort delmålen först.", names=", ".join(leaving)))


def update_process(process: Process, actor, *, expected_version, **changes) -> Process:
    """Change a process if nobody else has since ``expected_version`` (else ProcessConflict, nothing saved)."""
    _check_version(process, expected_version)
    values = _process_values(changes, process)
    _check_period(values.get("start_date", process.start_date), values.get("end_date", process.end_date))
    changed = sorted(name for name, value in values.items() if _differs(getattr(process, name), value))
    if not changed:
        return process
    if "agencies" in changed or "owner_agency" in changed:
        _check_milestone_owners_stay(process, values)
    old_status = process.status

    def apply() -> None:
        for name in changed:
            setattr(process, name, values[name])
        if process.owner_agency is not None:
            process.owner_agency_id = process.owner_agency.id

    _flush_or_conflict(apply)
    detail = {"fields": ",".join(changed)}
    if "status" in changed:
        detail.update(status_from=old_status.value, status=process.status.value)
    audit.record("process.update", obj=process, actor=actor, detail=detail)
    return process


def delete_process(process: Process, actor) -> None:
    """Remove a process and its milestones; refused while it has meetings (their minutes are records)."""
    if process.meetings:
        raise ProcessError(_l("Processen har möten och kan inte tas bort. Sätt status Avbruten i stället, "
                              "eller ta först bort mötena."))
    ident, count = process.id, len(process.milestones)
    db.session.delete(process)
    db.session.flush()
    audit.record("process.delete", object_type="process", object_id=ident, actor=actor,
                 detail={"milestones": count})


# ------------------------------------------------------------------ milestones


def _dependencies(process: Process, values) -> list[Milestone]:
    ids = _ids(values, _l("Ett valt delmål att vänta på finns inte."))
    if not ids:
        return []
    rows = list(db.session.scalars(select(Milestone).where(Milestone.id.in_(ids))))
    if len(rows) != len(ids):
        raise ProcessError(_l("Ett valt delmål att vänta på finns inte."))
    return sorted(rows, key=lambda m: (m.due_date, m.id))


def _owning_agency(process: Process, value, current: int | None = None) -> Agency:
    ids = _ids([value] if value not in (None, "") else [], _l("Okänd myndighet."))
    if not ids:
        raise ProcessError(_l("Välj den myndighet som äger delmålet."))
    agency = db.session.get(Agency, ids[0])
    if agency is None or (not agency.active and agency.id != current):
        raise ProcessError(_l("Okänd myndighet."))
    if agency.id not in process.participant_agency_ids:
        raise ProcessError(_l("Myndigheten deltar inte i processen. Lägg först till den bland processens "
                              "deltagande myndigheter."))
    return agency


def _responsible(value, agency: Agency, current: int | None = None) -> User | None:
    if value in (None, ""):
        return None
    ids = _ids([value], _l("Okänd eller inaktiv handläggare."))
    user = db.session.get(User, ids[0])
    if user is None or (not user.active and user.id != current):
        raise ProcessError(_l("Okänd eller inaktiv handläggare."))
    if user.agency_id != agency.id:
        raise ProcessError(_l("Den ansvariga handläggaren måste tillhöra den myndighet som äger delmålet."))
    return user


def _check_done(status: WorkStatus, depends_on: list[Milestone]) -> None:
    try:
        schedule.check_can_complete(SimpleNamespace(depends_on=depends_on), status)
    except schedule.DependencyError as exc:
        raise ProcessError(str(exc)) from None


def _mark_completion(milestone: Milestone, actor) -> None:
    """Done: when and by whom; any other status clears both."""
    if milestone.status == WorkStatus.DONE:
        if milestone.completed_at is None:
            milestone.completed_at = utcnow()
            milestone.completed_by_id = getattr(actor, "id", None)
    else:
        milestone.completed_at = None
        milestone.completed_by_id = None


def create_milestone(process: Process, actor, *, title: str, agency_id, responsible_id=None, due_date: date,
                     status=WorkStatus.PLANNED, depends_on_ids=(), completion_note: str | None = None) -> Milestone:
    """Add a milestone; its dependencies must be this process's and it cannot start out done before them."""
    title = _text(title, MAX_TITLE, _l("Ange en rubrik."))
    agency = _owning_agency(process, agency_id)
    responsible = _responsible(responsible_id, agency)
    if not isinstance(due_date, date):
        raise ProcessError(_l("Ange ett slutdatum."))
    status = _enum(WorkStatus, status, _l("Välj en status i listan."))
    note = _text(completion_note, MAX_NOTE) or None
    depends_on = _dependencies(process, depends_on_ids)
    try:
        schedule.check_dependencies(None, milestones_of(process), depends_on)
    except schedule.DependencyError as exc:
        raise ProcessError(str(exc)) from None
    _check_done(status, depends_on)
    milestone = Milestone(process=process, title=title, agency_id=agency.id, responsible=responsible,
                          due_date=due_date, status=status, completion_note=note)
    milestone.depends_on = depends_on
    _mark_completion(milestone, actor)
    db.session.add(milestone)
    db.session.flush()
    audit.record("milestone.create", obj=milestone, actor=actor,
                 detail={"process": process.id, "agency": agency.id, "due": due_date.isoformat(),
                         "status": status.value, "depends_on": _id_list(d.id for d in depends_on)})
    return milestone


@dataclass(frozen=True)
class MilestoneChange:
    """What a saved change did: the fields changed and the milestones whose projected date moved."""

    milestone: Milestone
    fields: tuple[str, ...]
    pushes: list[schedule.Push]


def update_milestone(milestone: Milestone, actor, *, expected_version, **changes) -> MilestoneChange:
    """Change a milestone (process leader); reports the dependents a moved date pushes."""
    unknown = set(changes) - set(MILESTONE_FIELDS)
    if unknown:
        raise TypeError(f"a milestone has no field(s) {sorted(unknown)}")
    _check_version(milestone, expected_version)
    process = milestone.process
    values: dict[str, Any] = {}
    if "title" in changes:
        values["title"] = _text(changes["title"], MAX_TITLE, _l("Ange en rubrik."))
    agency, responsible = milestone.agency, milestone.responsible
    if "agency_id" in changes:
        agency = _owning_agency(process, changes["agency_id"], milestone.agency_id)
        values["agency_id"] = agency.id
    if "responsible_id" in changes or "agency_id" in changes:
        responsible = _responsible(changes.get("responsible_id", milestone.responsible_id), agency,
                                   milestone.responsible_id)
        values["responsible_id"] = responsible.id if responsible else None
    if "due_date" in changes:
        if not isinstance(changes["due_date"], date):
            raise ProcessError(_l("Ange ett slutdatum."))
        values["due_date"] = changes["due_date"]
    if "status" in changes:
        values["status"] = _enum(WorkStatus, changes["status"], _l("Välj en status i listan."))
    if "completion_note" in changes:
        values["completion_note"] = _text(changes["completion_note"], MAX_NOTE) or None
    all_milestones = milestones_of(process)
    depends_on = list(milestone.depends_on)
    if "depends_on_ids" in changes:
        depends_on = _dependencies(process, changes["depends_on_ids"])
        try:
            schedule.check_dependencies(milestone, all_milestones, depends_on)
        except schedule.DependencyError as exc:
            raise ProcessError(str(exc)) from None
    deps_changed = {d.id for d in depends_on} != {d.id for d in milestone.depends_on}
    changed = [name for name, value in values.items() if getattr(milestone, name) != value]
    if deps_changed:
        changed.append("depends_on")
    status = values.get("status", milestone.status)
    if "status" in changed or deps_changed:
        _check_done(status, depends_on)
    if not changed:
        return MilestoneChange(milestone, (), [])
    before = schedule.projected_dates(all_milestones)
    old_due, old_status = milestone.due_date, milestone.status

    def apply() -> None:
        for name in changed:
            if name in ("title", "due_date", "status", "completion_note"):
                setattr(milestone, name, values[name])
        if "agency_id" in changed:
            milestone.agency = agency
        if "responsible_id" in changed:
            milestone.responsible = responsible
        if deps_changed:
            milestone.depends_on = depends_on
        _mark_completion(milestone, actor)

    _flush_or_conflict(apply)
    after = schedule.projected_dates(all_milestones)
    pushed = [schedule.Push(m, before[m.id], after[m.id]) for m in all_milestones
              if m.id != milestone.id and m.id in before and before[m.id] != after.get(m.id)]
    detail = {"process": process.id, "milestone": milestone.id, "fields": ",".join(sorted(changed)),
              "status": milestone.status.value}
    if milestone.due_date != old_due:
        detail.update(due_from=old_due.isoformat(), due_to=milestone.due_date.isoformat())
    if milestone.status != old_status:
        detail["status_from"] = old_status.value
    if pushed:
        detail["pushed"] = len(pushed)
    audit.record("milestone.update", obj=milestone, actor=actor, detail=detail)
    return MilestoneChange(milestone, tuple(sorted(changed)), pushed)


def change_status(milestone: Milestone, actor, *, expected_version, status,
                  completion_note: str | None = None) -> MilestoneChange:
    """The owning agency's update: status and completion note only; done only once its dependencies are."""
    return update_milestone(milestone, actor, expected_version=expected_version, status=status,
                            completion_note=completion_note)


def delete_milestone(milestone: Milestone, actor) -> list[int]:
    """Remove a milestone; milestones that waited for it simply stop waiting. Returns their ids."""
    dependents = [m.id for m in milestone.dependents]
    ident, process_id = milestone.id, milestone.process_id
    milestone.depends_on = []
    milestone.dependents = []
    db.session.delete(milestone)
    db.session.flush()
    audit.record("milestone.delete", object_type="milestone", object_id=ident, actor=actor,
                 detail={"process": process_id, "dependents": _id_list(dependents)})
    return dependents
