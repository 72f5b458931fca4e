"""Demo processes for the fictitious municipality Norrvik. Every name and text is invented.

Three cross-agency processes run by the demo process leader (EST area work at
the station, SSPF, and building up the exit programme), each with milestones
and dependencies: some done, some in progress, some late, some due within two
weeks. Process meetings with minutes, decisions and action items (one late),
last week's EST meeting with its agenda, and three area interventions. One of
them, extra evening patrols at the station, has an effect built into the demo
incidents (app.overview.demo imports the constants below): from its start the
accepted reports of its categories in its area drop by about 45 %, so its
evaluation shows a clear reduction. Dates count from today, so the demo always
looks current. Loading twice adds nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.db import db
from app.processes.dates import local_today
from app.processes.models import (
    ActionItem,
    Intervention,
    InterventionKind,
    Meeting,
    MeetingKind,
    Milestone,
    Process,
    ProcessStatus,
    ProcessType,
    WorkStatus,
)

#: The demo intervention with an evaluable effect (shared with app.overview.demo, which builds the effect in).
DEMO_INTERVENTION_AREA = "stationen"
DEMO_INTERVENTION_CATEGORIES = ("narkotika", "ordningsstorning")
#: Share of the targeted reports that no longer happen once the intervention has started.
DEMO_INTERVENTION_EFFECT = 0.45
#: The intervention starts on the Monday this many weeks before the current week's Monday.
DEMO_INTERVENTION_WEEKS_AGO = 17
#: Areas without an intervention in the demo period and no trend of their own: the natural comparison.
DEMO_COMPARISON_AREAS = ("ostra_hamnen", "angsvik", "kvarnbacken", "tallasen")
DEMO_INTERVENTION_TITLE = "Extra kvällspatrullering vid Stationsområdet (fiktiv)"

LEADER = "processledare@norrvik.example.org"
POLICE_OFFICER = "polis@norrvik.example.org"
HOUSING_OFFICER = "bostad@norrvik.example.org"
COORDINATOR = "samordnare@norrvik.example.org"
ANALYST = "analytiker@norrvik.example.org"

UNIT = "Förebyggande enheten Norrvik (fiktiv)"
SOCIAL = "Socialtjänsten Norrvik (fiktiv)"
POLICE = "Polisen lokalpolisområde Norrvik (fiktiv)"
PROBATION = "Kriminalvården frivård (fiktiv)"
SCHOOL = "Norrviksskolan (fiktiv)"
YOUTH = "Fritidsgården Ljuset (fiktiv)"
HOUSING = "Bostadsbolaget Norrvikshem (fiktivt)"
EMPLOYMENT = "Arbetsförmedlingen (fiktiv)"
SECURITY = "Trygghetsbevakning AB (fiktivt)"
NGO = "Föreningen Vägen ut (fiktiv)"

PLANNED, IN_PROGRESS, DONE = WorkStatus.PLANNED, WorkStatus.IN_PROGRESS, WorkStatus.DONE


def demo_intervention_start(today: date) -> date:
    """The start of the demo intervention: a Monday, DEMO_INTERVENTION_WEEKS_AGO weeks before this week's."""
    return today - timedelta(days=today.weekday(), weeks=DEMO_INTERVENTION_WEEKS_AGO)


#: (name, type, owner-agency-relative: agencies, areas, categories, goal, start days ago, end days ahead,
#:  milestones: (title, agency, due in days (negative = past), status, indexes of dependencies, responsible))
DEMO_PROCESSES = [
    {
        "name": "Trygg i Stationsområdet (fiktiv)", "type": ProcessType.EST_AREA,
        "agencies": (POLICE, HOUSING, SOCIAL, YOUTH, SECURITY),
        "areas": ("stationen", "centrum"), "categories": ("narkotika", "samling", "ordningsstorning", "otrygg_plats"),
        "goal": ("Fiktivt: färre otrygghetsskapande händelser kring stationen kvällstid och att fler boende "
                 "känner sig trygga att gå genom gångtunneln."),
        "start": 200, "end": 165,
        "milestones": [
            ("Gemensam lägesbild för stationsområdet framtagen", UNIT, -170, DONE, (), LEADER),
            ("Trygghetsvandring med boende och handlare", POLICE, -140, DONE, (0,), POLICE_OFFICER),
            ("Belysningsinventering i gångtunneln", HOUSING, -60, DONE, (1,), HOUSING_OFFICER),
            ("Avtal om fältassistenter kvällstid", SOCIAL, -12, IN_PROGRESS, (0,), None),
            ("Ny belysning i gångtunneln installerad", HOUSING, -4, PLANNED, (2,), HOUSING_OFFICER),
            ("Uppföljande trygghetsvandring", POLICE, 9, PLANNED, (4,), POLICE_OFFICER),
            ("Utvärdering av kvällspatrulleringen till styrgruppen", UNIT, 45, PLANNED, (3, 5), LEADER),
        ],
    },
    {
        "name": "SSPF Norrvik (fiktiv)", "type": ProcessType.SSPF,
        "agencies": (SCHOOL, SOCIAL, POLICE, YOUTH),
        "areas": ("skolparken",), "categories": ("personal", "klotter", "skadegorelse"),
        "goal": ("Fiktivt: en fungerande SSPF-samverkan mellan skola, socialtjänst, polis och fritid, med "
                 "gemensamma rutiner och uppföljning varje termin."),
        "start": 300, "end": 400,
        "milestones": [
            ("Samverkansöverenskommelse undertecknad", UNIT, -260, DONE, (), LEADER),
            ("Rutin för orosanmälan mellan skola och socialtjänst", SCHOOL, -190, DONE, (0,), None),
            ("Utbildningsdag för SSPF-gruppen", UNIT, -120, DONE, (0,), LEADER),
            ("Gemensam rutin för informationsdelning med samtycke", SOCIAL, -20, IN_PROGRESS, (1,), COORDINATOR),
            ("Kartläggning av riskmiljöer kring Skolparken", POLICE, 5, PLANNED, (2,), POLICE_OFFICER),
            ("Terminsuppföljning till styrgruppen", UNIT, 60, PLANNED, (3, 4), LEADER),
        ],
    },
    {
        "name": "Utveckling av avhopparverksamheten (fiktiv)", "type": ProcessType.EXIT_DEVELOPMENT,
        "agencies": (SOCIAL, POLICE, PROBATION, HOUSING, EMPLOYMENT, NGO),
        "areas": (), "categories": (),
        "goal": ("Fiktivt: en avhopparverksamhet med avtal och rutiner hos alla berörda aktörer, så att en "
                 "avhoppare får skydd och stöd utan glapp mellan myndigheterna."),
        "start": 400, "end": 330,
        "milestones": [
            ("Samverkansavtal med Kriminalvården", PROBATION, -300, DONE, (), None),
            ("Rutin för skyddat boende med bostadsbolaget", HOUSING, -150, DONE, (0,), HOUSING_OFFICER),
            ("Avtal om arbetsträning med Arbetsförmedlingen", EMPLOYMENT, -15, IN_PROGRESS, (0,), None),
            ("Mentorsprogram med Föreningen Vägen ut startat", NGO, 12, PLANNED, (0,), None),
            ("Utbildning i hotbedömning för handläggare", POLICE, 30, PLANNED, (), POLICE_OFFICER),
            ("Utvärdering av verksamhetens första år", UNIT, 120, PLANNED, (1, 2, 3, 4), LEADER),
        ],
    },
]


def _names(model, codes) -> list:
    if not codes:
        return []
    found = {obj.code: obj for obj in db.session.scalars(select(model).where(model.code.in_(codes)))}
    return [found[c] for c in codes if c in found]


def _at(day: date, hour: int = 15) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def _process(spec: dict, today: date, agencies: dict, users: dict) -> Process:
    from app.overview.models import Area, Category

    leader = users.get(LEADER)
    process = Process(name=spec["name"], type=spec["type"], status=ProcessStatus.ACTIVE, owner=leader,
                      owner_agency_id=agencies[UNIT].id, goal=spec["goal"],
                      start_date=today - timedelta(days=spec["start"]), end_date=today + timedelta(days=spec["end"]))
    process.agencies = [agencies[name] for name in spec["agencies"]]
    process.areas = _names(Area, spec["areas"])
    process.categories = _names(Category, spec["categories"])
    db.session.add(process)
    made: list[Milestone] = []
    for title, agency, due_in, status, deps, responsible in spec["milestones"]:
        due = today + timedelta(days=due_in)
        person = users.get(responsible) if responsible else None
        milestone = Milestone(process=process, title=title, agency_id=agencies[agency].id, due_date=due,
                              status=status, responsible=person)
        milestone.depends_on = [made[i] for i in deps]
        if status == DONE:
            milestone.completed_at = _at(due - timedelta(days=2))
            milestone.completed_by_id = (person or leader).id if (person or leader) else None
            milestone.completion_note = "Fiktivt: genomfört enligt plan."
        made.append(milestone)
    db.session.add_all(made)
    return process


def _meeting(*, kind=MeetingKind.PROCESS, process=None, title: str, held_on: date, attendees, minutes: str,
             decisions: str, agenda=None, leader=None, iso=None) -> Meeting:
    meeting = Meeting(kind=kind, process=process, title=title, held_on=held_on,
                      iso_year=iso[0] if iso else None, iso_week=iso[1] if iso else None,
                      agenda=json.dumps(agenda, ensure_ascii=False, sort_keys=True) if agenda is not None else None,
                      created_by_id=leader.id if leader else None)
    meeting.attendees = list(attendees)
    meeting.minutes = minutes
    meeting.decisions = decisions
    db.session.add(meeting)
    return meeting


def _action(meeting: Meeting, title: str, agency, due: date, status: WorkStatus = PLANNED) -> ActionItem:
    item = ActionItem(meeting=meeting, title=title, agency_id=agency.id, due_date=due, status=status)
    if status == DONE:
        item.completed_at = _at(due - timedelta(days=1))
        item.completion_note = "Fiktivt: klart."
    db.session.add(item)
    return item


def _est_agenda(today: date, analyst) -> tuple[tuple[int, int], dict]:
    """Last ISO week and its agenda, frozen as the EST meeting opened it: hotspots and the analysts' analysis."""
    from app.overview import publishing
    from app.processes.est import proposed_agenda

    iso = (today - timedelta(weeks=1)).isocalendar()
    if publishing.get_note(iso.year, iso.week) is None and analyst is not None:
        publishing.save_note(
            iso.year, iso.week, by=analyst,
            analysis=("Fiktiv demoanalys: klotter i Kvarnbacken ökade under veckan, framför allt vid garagelängan, "
                      "och skadegörelsen i Tallåsen. Stationsområdet fortsatt lugnare kvällstid sedan den extra patrulleringen startade."),
            focus="Kvarnbacken (klotter) och Stationsområdet kvällstid.")
    return (iso.year, iso.week), proposed_agenda(iso.year, iso.week)


def _interventions(today: date, agencies: dict, processes: dict[str, Process], leader) -> list[Intervention]:
    from app.overview.models import Area, Category

    specs = [
        (DEMO_INTERVENTION_TITLE, InterventionKind.EXTRA_PATROLS, POLICE, "Trygg i Stationsområdet (fiktiv)",
         (DEMO_INTERVENTION_AREA,), DEMO_INTERVENTION_CATEGORIES, demo_intervention_start(today),
         demo_intervention_start(today) + timedelta(weeks=26),
         ("Fiktivt: polis och ordningsvakter patrullerar gångtunneln och pendelparkeringen fredag och lördag "
          "kl. 19–01. Beslutat i EST-mötet efter en period med många rapporter om langning och stök.")),
        ("Fältassistenter kvällstid i Björkbacken (fiktiv)", InterventionKind.FIELD_WORKERS, SOCIAL, None,
         ("bjorkbacken",), ("samling", "brand"), today - timedelta(days=30), today + timedelta(days=60),
         "Fiktivt: två fältassistenter i Björkbacken tisdag–lördag kvällstid, i samarbete med fritidsgården."),
        ("Belysning lagad i Centrum (fiktiv)", InterventionKind.LIGHTING, HOUSING, None,
         ("centrum",), ("otrygg_plats", "skadegorelse", "ordningsstorning"), today - timedelta(days=365),
         today - timedelta(days=330),
         "Fiktivt: trasig belysning vid torget och i parkeringshuset byttes ut; buskage röjdes."),
    ]
    made = []
    for title, kind, agency, process_name, areas, categories, start, end, description in specs:
        intervention = Intervention(title=title, kind=kind, agency_id=agencies[agency].id, description=description,
                                    process=processes.get(process_name) if process_name else None,
                                    start_date=start, end_date=end, created_by_id=leader.id if leader else None)
        intervention.areas = _names(Area, areas)
        intervention.categories = _names(Category, categories)
        db.session.add(intervention)
        made.append(intervention)
    return made


def load_demo_processes(agencies: dict | None = None, users: dict | None = None, today: date | None = None) -> int:
    """Create the demo processes, meetings and interventions unless any process exists; returns processes added."""
    from app.admin.models import Agency
    from app.overview.demo import ensure_demo_areas
    from app.overview.taxonomy import ensure_default_categories
    from app.security.models import User

    if db.session.scalar(select(Process.id).limit(1)) is not None:
        return 0
    today = today or local_today()
    agencies = dict(agencies or {})
    agencies.update({a.name: a for a in db.session.scalars(select(Agency)) if a.name not in agencies})
    users = dict(users or {})
    users.update({u.email: u for u in db.session.scalars(select(User).where(
        User.email.in_([LEADER, POLICE_OFFICER, HOUSING_OFFICER, COORDINATOR, ANALYST]))) if u.email not in users})
    ensure_demo_areas()
    ensure_default_categories()
    leader = users.get(LEADER)

    processes = {spec["name"]: _process(spec, today, agencies, users) for spec in DEMO_PROCESSES}
    db.session.flush()
    station, exit_dev = processes["Trygg i Stationsområdet (fiktiv)"], processes["Utveckling av avhopparverksamheten (fiktiv)"]

    steering = _meeting(
        process=station, title="Styrgruppsmöte Trygg i Stationsområdet (fiktivt)", held_on=today - timedelta(days=21),
        attendees=[agencies[n] for n in (UNIT, POLICE, HOUSING, SOCIAL, SECURITY)], leader=leader,
        minutes=("Fiktivt protokoll: genomgång av delmålen. Belysningsinventeringen är klar; installationen "
                 "väntar på kostnadsförslag. Polisen rapporterar färre rapporter om langning sedan patrulleringen "
                 "startade. Avtalet om fältassistenter är försenat."),
        decisions=("1. Bostadsbolaget tar fram kostnadsförslag för ny belysning i gångtunneln.\n"
                   "2. Polisen bokar en uppföljande trygghetsvandring när belysningen är på plats.\n"
                   "3. Kvällspatrulleringen fortsätter året ut."))
    _action(steering, "Ta fram kostnadsförslag för belysning i gångtunneln", agencies[HOUSING],
            today - timedelta(days=7))
    _action(steering, "Boka uppföljande trygghetsvandring", agencies[POLICE], today + timedelta(days=5))
    _action(steering, "Sammanställa patrullernas iakttagelser till nästa möte", agencies[SECURITY],
            today - timedelta(days=14), DONE)

    working = _meeting(
        process=exit_dev, title="Arbetsgruppsmöte avhopparverksamheten (fiktivt)", held_on=today - timedelta(days=10),
        attendees=[agencies[n] for n in (UNIT, SOCIAL, EMPLOYMENT, NGO, PROBATION)], leader=leader,
        minutes=("Fiktivt protokoll: avtalet om arbetsträning har dragit ut på tiden; Arbetsförmedlingen "
                 "återkommer med ett utkast. Föreningen Vägen ut har rekryterat tre mentorer."),
        decisions="1. Utkast till avtal om arbetsträning skickas före nästa möte.\n2. Mentorsprogrammet startar som planerat.")
    _action(working, "Skicka utkast till avtal om arbetsträning", agencies[EMPLOYMENT], today + timedelta(days=4))
    _action(working, "Ta fram introduktionsmaterial för mentorer", agencies[NGO], today + timedelta(days=11))

    (year, week), agenda = _est_agenda(today, users.get(ANALYST))
    if db.session.scalar(select(Meeting.id).where(Meeting.kind == MeetingKind.EST, Meeting.iso_year == year,
                                                  Meeting.iso_week == week)) is None:
        monday = date.fromisocalendar(year, week, 1)
        est = _meeting(
            kind=MeetingKind.EST, title=f"EST-möte vecka {week} (fiktivt)", held_on=monday + timedelta(days=1),
            iso=(year, week), agenda=agenda, leader=leader,
            attendees=[agencies[n] for n in (UNIT, POLICE, SOCIAL, HOUSING, YOUTH, SECURITY)],
            minutes=("Fiktivt protokoll: veckans lägesbild gicks igenom. Klottret i Kvarnbacken diskuterades; "
                     "bostadsbolaget sanerar. Samlingarna vid stationen bedöms som ungdomar utan organisering."),
            decisions=("Fokusområden: Kvarnbacken (klotter) och Stationsområdet kvällstid. "
                       "Fältassistenter till stationen fredag kväll."))
        _action(est, "Sanera klotter vid garagelängan i Kvarnbacken", agencies[HOUSING], monday + timedelta(days=5))
        _action(est, "Fältassistenter vid stationen fredag kväll", agencies[SOCIAL], monday + timedelta(days=4), DONE)
        _action(est, "Extra kvällspatrull vid Stationsområdet fredag–lördag", agencies[POLICE],
                today + timedelta(days=3))

    _interventions(today, agencies, processes, leader)
    db.session.flush()
    return len(processes)
