"""Demo incident data for the fictitious municipality Norrvik: areas, categories and two years of reports.

Every name and text is invented. The reports follow realistic patterns: more
in summer, on Friday and Saturday and in the evening; some areas are busier
than others (the station, the centre); moped driving peaks in summer and a
school area quietens in July; the centre drops after a lighting intervention
a year ago, and drug activity and disorder at the station drop by about 45 %
from the start of the demo processes' evaluable intervention (extra evening
patrols; the area, categories and start come from app.processes.demo). The
current and last week hold clear hotspots, and the newest reports of the
current week are still waiting for review.

The volume (about 46,000 reports) is built with ``new_report`` and inserted
in chunks of plain rows; only short fictitious descriptions are encrypted,
with one key per month. Loading twice adds nothing.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert, select

from app.admin.models import Agency, AgencyKind
from app.db import db
from app.overview.models import Area, IncidentReport, ReportSource, ReportStatus, Setting
from app.overview.service import STOCKHOLM, description_key, new_report
from app.overview.taxonomy import ensure_default_categories
from app.processes.demo import (DEMO_INTERVENTION_AREA, DEMO_INTERVENTION_CATEGORIES, DEMO_INTERVENTION_EFFECT,
                                demo_intervention_start)
from app.security.models import User

WEEKS = 104
CHUNK = 5000
_LON = (17.90, 17.925, 17.95, 17.975, 18.00)
_LAT = (59.40, 59.42, 59.44, 59.46)

#: code, name, (west, south, east, north), mean accepted reports per week, category weight factors, places
DEMO_AREAS = [
    ("centrum", "Centrum", (_LON[2], _LAT[1], _LON[3], _LAT[2]), 80,
     {"ordningsstorning": 1.6, "vald": 1.6, "hot": 1.4, "inbrott_stold": 1.3},
     ["vid torget", "vid busshållplatsen Centrum", "bakom köpcentret", "i parkeringshuset", "vid bibliotekets entré"]),
    ("stationen", "Stationsområdet", (_LON[1], _LAT[1], _LON[2], _LAT[2]), 75,
     {"narkotika": 3.0, "samling": 2.0, "otrygg_plats": 1.5},
     ["på perrongen", "i gångtunneln", "vid pendelparkeringen", "vid cykelgaraget", "vid kiosken"]),
    ("ostra_hamnen", "Östra hamnen", (_LON[3], _LAT[1], _LON[4], _LAT[2]), 40,
     {"nedskrapning": 1.6, "ordningsstorning": 1.3, "skadegorelse": 1.2},
     ["vid gästbryggan", "på kajen", "vid båtklubben", "vid glasskiosken"]),
    ("bjorkbacken", "Björkbacken", (_LON[0], _LAT[1], _LON[1], _LAT[2]), 55,
     {"brand": 2.2, "samling": 1.5, "skadegorelse": 1.3},
     ["i trapphuset", "vid tvättstugan", "på parkeringen", "vid lekplatsen", "vid miljöstugan"]),
    ("tallasen", "Tallåsen", (_LON[3], _LAT[2], _LON[4], _LAT[3]), 30,
     {"otrygg_plats": 2.2, "buskorning": 1.4},
     ["på motionsspåret", "vid elljusspåret", "i skogsdungen", "vid parkeringen vid badet"]),
    ("skolparken", "Skolparken", (_LON[0], _LAT[0], _LON[1], _LAT[1]), 45,
     {"klotter": 2.2, "skadegorelse": 1.6, "personal": 2.5},
     ["på skolgården", "vid idrottshallen", "bakom matsalen", "vid fotbollsplanen", "vid cykelstället"]),
    ("angsvik", "Ängsvik", (_LON[1], _LAT[0], _LON[3], _LAT[1]), 35,
     {"inbrott_stold": 1.4, "nedskrapning": 1.2},
     ["vid närbutiken", "vid återvinningsstationen", "i gångtunneln under vägen", "vid förskolan"]),
    ("industri_norr", "Industriområdet Norr", (_LON[0], _LAT[2], _LON[2], _LAT[3]), 25,
     {"buskorning": 3.0, "inbrott_stold": 2.5, "brand": 1.8, "samling": 0.5},
     ["vid lastkajen", "på grusplanen", "vid bensinstationen", "längs industrigatan"]),
    ("strandvagen", "Strandvägen", (_LON[3], _LAT[0], _LON[4], _LAT[1]), 40,
     {"nedskrapning": 2.5, "ordningsstorning": 1.5, "arrangemang": 1.5},
     ["vid badplatsen", "på strandpromenaden", "vid grillplatsen", "vid bryggan"]),
    ("kvarnbacken", "Kvarnbacken", (_LON[2], _LAT[2], _LON[3], _LAT[3]), 25,
     {"klotter": 1.5, "otrygg_plats": 1.3},
     ["vid kvarnen", "vid busshållplatsen Kvarnbacken", "i parken", "vid garagelängan"]),
]

CATEGORY_WEIGHTS = {
    "skadegorelse": 12, "klotter": 10, "nedskrapning": 10, "brand": 3, "samling": 9, "hot": 4, "vald": 5,
    "narkotika": 5, "otrygg_plats": 5, "personal": 3, "inbrott_stold": 7, "buskorning": 6,
    "ordningsstorning": 9, "sociala_medier": 2, "arrangemang": 2, "ovrigt": 3,
}
MONTH_FACTOR = [0.75, 0.75, 0.85, 0.95, 1.1, 1.3, 1.35, 1.25, 1.05, 0.95, 0.85, 0.8]
WEEKDAY_FACTOR = [0.8, 0.8, 0.9, 1.0, 1.3, 1.4, 1.0]
#: Relative frequency per hour of the day (evenings peak).
HOUR_WEIGHTS = [3, 2, 1.5, 1, 0.5, 0.5, 0.8, 1.5, 2, 2.5, 3, 3.5, 4, 4, 4, 4.5, 5, 6, 7.5, 8, 8, 7, 5.5, 4]
#: (week offset from the current week, area code, category code, extra reports): the hotspots.
#: Sized so that each stands out among the week's ~160 cells under the Benjamini–Hochberg rule (hotspots.py).
HOTSPOTS = [(0, "bjorkbacken", "brand", 14), (0, "stationen", "samling", 22), (-1, "kvarnbacken", "klotter", 16),
            (-1, "tallasen", "skadegorelse", 14)]

DESCRIPTIONS = {
    "skadegorelse": ["Krossad glasruta i busskuren.", "Sönderslagen belysning.", "Sparkade sönder en soptunna."],
    "klotter": ["Nytt klotter på väggen, ca 2 m brett.", "Taggar på elskåpet.", "Klotter på skyltarna."],
    "nedskrapning": ["Mycket skräp efter kvällen.", "Glasflaskor krossade på marken.", "Nedskräpat vid bänkarna."],
    "brand": ["Brand i sopkärl, släckt av räddningstjänsten.", "Bilbrand på parkeringen.", "Brand i container."],
    "samling": ["Grupp om ca 15 ungdomar, stökig stämning.", "Samling som gjorde att andra gick en annan väg."],
    "hot": ["Personal fick hotfulla kommentarer.", "Hot mot förbipasserande, polis tillkallad."],
    "vald": ["Slagsmål mellan flera personer.", "Bråk som skingrades när väktare kom."],
    "narkotika": ["Misstänkt langning, flera korta möten.", "Lukt av cannabis, flera personer samlade."],
    "otrygg_plats": ["Trasig belysning, mörkt och öde.", "Buskage skymmer gångvägen."],
    "personal": ["Personal utsattes för stenkastning.", "Personal trakasserades vid stängning."],
    "inbrott_stold": ["Inbrott i förråd.", "Cykelstölder, flera lås uppklippta.", "Stöld ur bil."],
    "buskorning": ["Mopeder kör i hög fart på gångvägen.", "A-traktorer kör i rondellen sent."],
    "ordningsstorning": ["Hög musik och stök sent på kvällen.", "Berusade personer stör."],
    "sociala_medier": ["Rykten i sociala medier om bråk i helgen.", "Uppmaning på sociala medier att samlas."],
    "arrangemang": ["Planerat evenemang, förstärkt bemanning.", "Information om kommande arrangemang."],
    "ovrigt": ["Övrig iakttagelse.", "Oklart läge, följs upp."],
}

#: Reporting organisations (names as in app/demo.py), how they send reports, and their share.
REPORTING_AGENCIES = [
    ("Polisen lokalpolisområde Norrvik (fiktiv)", AgencyKind.POLICE, ReportSource.IMPORT, 25),
    ("Trygghetsbevakning AB (fiktivt)", AgencyKind.SECURITY_COMPANY, ReportSource.API, 25),
    ("Bostadsbolaget Norrvikshem (fiktivt)", AgencyKind.HOUSING, ReportSource.FORM, 15),
    ("Fritidsgården Ljuset (fiktiv)", AgencyKind.YOUTH, ReportSource.FORM, 15),
    ("Norrviksskolan (fiktiv)", AgencyKind.SCHOOL, ReportSource.FORM, 12),
    ("Förebyggande enheten Norrvik (fiktiv)", AgencyKind.SOCIAL_SERVICES, ReportSource.FORM, 8),
]
DEMO_REPORTER = "rapportor@norrvik.example.org"
DEMO_ANALYST = "analytiker@norrvik.example.org"
#: The demo reporter "filed" their agency's form reports of the last weeks (so "Mina rapporter" has content).
REPORTER_WEEKS = 4
NEW_IN_CURRENT_WEEK = 15


def _rectangle(bounds) -> list[list[float]]:
    west, south, east, north = bounds
    return [[west, south], [east, south], [east, north], [west, north]]


def ensure_demo_areas() -> dict[str, Area]:
    """The Norrvik areas by code, created if missing."""
    existing = {a.code: a for a in db.session.scalars(select(Area))}
    for code, name, bounds, *_rest in DEMO_AREAS:
        if code not in existing:
            existing[code] = Area(code=code, name=name, polygon=json.dumps(_rectangle(bounds)), active=True)
            db.session.add(existing[code])
    db.session.flush()
    return existing


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _category_weights(factors: dict[str, float], month: int, codes: list[str]) -> list[float]:
    """Cumulative weights of the categories in an area and month (for random.choices)."""
    summer, winter = month in (6, 7, 8), month in (12, 1, 2)
    weights = []
    for code in codes:
        weight = CATEGORY_WEIGHTS.get(code, 1) * factors.get(code, 1.0)
        if code == "buskorning":
            weight *= 2.0 if summer else 0.3 if winter else 1.0
        if code == "nedskrapning" and summer:
            weight *= 1.5
        weights.append(weight)
    return list(itertools.accumulate(weights))


def _area_factor(code: str, day: date, today: date) -> float:
    factor = 1.0
    if code == "strandvagen":
        factor = 1.8 if day.month in (6, 7, 8) else 0.5 if day.month in (11, 12, 1, 2, 3) else 1.0
    elif code == "skolparken" and day.month == 7:
        factor = 0.5
    elif code == "centrum" and day >= today - timedelta(days=365):
        factor = 0.8  # better lighting since a year ago (the demo intervention)
    elif code == "bjorkbacken":
        factor = 0.85 + 0.3 * (1 - (today - day).days / (WEEKS * 7))  # slowly rising
    return factor


class _Builder:
    """Draws the reports of one demo run; deterministic for a given ``today``."""

    def __init__(self, today: date, cutoff: datetime, areas, categories, agencies, reporter, analyst):
        self.rng = random.Random(today.toordinal())
        self.today, self.cutoff = today, cutoff
        self.areas, self.categories = areas, categories
        self.codes = list(CATEGORY_WEIGHTS)
        self.agencies = [(agencies[name], source) for name, _kind, source, _share in REPORTING_AGENCIES]
        self.shares = [share for *_rest, share in REPORTING_AGENCIES]
        self.reporter, self.analyst = reporter, analyst
        self.current_monday = today - timedelta(days=today.weekday())
        self.keys: dict[tuple[int, int], object] = {}
        #: cumulative category weights per (area code, month)
        self.weights: dict[tuple[str, int], list[float]] = {}
        self.last_in_area: dict[int, IncidentReport] = {}
        self.serial = 0
        #: From this day the demo intervention's categories in its area drop (app.processes.demo).
        self.effect_from = demo_intervention_start(today)

    def key(self, day: date):
        period = (day.year, day.month)
        if period not in self.keys:
            self.keys[period] = description_key(day)
        return self.keys[period]

    def instant(self, day: date) -> datetime:
        hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
        local = datetime(day.year, day.month, day.day, hour, self.rng.randrange(60), tzinfo=STOCKHOLM)
        moment = local.astimezone(timezone.utc)
        if moment > self.cutoff:
            moment = self.cutoff - timedelta(minutes=self.rng.randrange(5, 180))
        return moment

    def report(self, day: date, area_spec, category_code: str | None = None) -> IncidentReport | None:
        """One report, or None when the demo intervention prevented it."""
        rng = self.rng
        code, _name, bounds, _rate, factors, places = area_spec
        area = self.areas[code]
        if category_code is None:
            weights = self.weights.get((code, day.month))
            if weights is None:
                weights = self.weights[(code, day.month)] = _category_weights(factors, day.month, self.codes)
            category_code = rng.choices(self.codes, cum_weights=weights)[0]
            if (code == DEMO_INTERVENTION_AREA and category_code in DEMO_INTERVENTION_CATEGORIES
                    and day >= self.effect_from and rng.random() < DEMO_INTERVENTION_EFFECT):
                return None
        agency, source = rng.choices(self.agencies, self.shares)[0]
        occurred = self.instant(day)
        local_day = occurred.astimezone(STOCKHOLM).date()
        self.serial += 1
        until = None
        if rng.random() < 0.1:
            until = min(occurred + timedelta(minutes=rng.randrange(30, 240)), self.cutoff)
            until = until if until > occurred else None
        point = rng.random() < 0.3
        reporter_id = None
        if source == ReportSource.FORM and agency.kind == AgencyKind.YOUTH and self.reporter is not None \
                and (self.today - local_day).days < REPORTER_WEEKS * 7:
            reporter_id = self.reporter.id
        report = new_report(
            occurred_at=occurred, occurred_until=until, area_id=area.id, category_id=self.categories[category_code].id,
            setting=Setting.SEMI_PUBLIC if rng.random() < 0.3 else Setting.PUBLIC,
            description=rng.choice(DESCRIPTIONS[category_code]) if rng.random() < 0.5 else None,
            organisation_id=agency.id, reporter_id=reporter_id, place=rng.choice(places),
            latitude=round(rng.uniform(bounds[1], bounds[3]), 5) if point else None,
            longitude=round(rng.uniform(bounds[0], bounds[2]), 5) if point else None,
            source=source, external_id=f"DEMO-{self.serial:06d}" if source != ReportSource.FORM else None,
            status=ReportStatus.ACCEPTED, key=self.key(local_day),
        )
        filed = min(occurred + timedelta(minutes=rng.randrange(5, 600)), self.cutoff)
        report.created_at = report.updated_at = filed
        self.review(report, area.id, filed)
        return report

    def review(self, report: IncidentReport, area_id: int, filed: datetime) -> None:
        roll = self.rng.random()
        previous = self.last_in_area.get(area_id)
        if roll < 0.015 and previous is not None:
            report.status, report.duplicate_of_id = ReportStatus.DUPLICATE, previous.id
        elif roll < 0.035:
            report.status = ReportStatus.REJECTED
            report.reject_reason = "Inte en trygghetshändelse i offentlig miljö (demo)."
        else:
            self.last_in_area[area_id] = report
        report.reviewed_at = min(filed + timedelta(hours=self.rng.randrange(2, 72)), self.cutoff)
        report.reviewed_by_id = self.analyst.id if self.analyst is not None else None

    def day_reports(self, day: date) -> list[IncidentReport]:
        reports = []
        for spec in DEMO_AREAS:
            lam = spec[3] / sum(WEEKDAY_FACTOR) * WEEKDAY_FACTOR[day.weekday()] * MONTH_FACTOR[day.month - 1]
            lam *= _area_factor(spec[0], day, self.today)
            drawn = (self.report(day, spec) for _ in range(_poisson(self.rng, lam)))
            reports.extend(report for report in drawn if report is not None)
        return reports

    def hotspot_reports(self) -> list[IncidentReport]:
        specs = {spec[0]: spec for spec in DEMO_AREAS}
        reports = []
        for offset, area_code, category_code, extra in HOTSPOTS:
            monday = self.current_monday + timedelta(weeks=offset)
            last = min(monday + timedelta(days=6), self.today)
            days = [monday + timedelta(days=n) for n in range((last - monday).days + 1)]
            reports.extend(self.report(self.rng.choice(days), specs[area_code], category_code) for _ in range(extra))
        return reports


def _lookup_agencies(agencies: dict[str, Agency] | None) -> dict[str, Agency]:
    found = dict(agencies or {})
    missing = [name for name, *_rest in REPORTING_AGENCIES if name not in found]
    if missing:
        found.update({a.name: a for a in db.session.scalars(select(Agency).where(Agency.name.in_(missing)))})
    for name, kind, _source, _share in REPORTING_AGENCIES:
        if name not in found:
            found[name] = Agency(name=name, kind=kind, active=True)
            db.session.add(found[name])
    db.session.flush()
    return found


def load_demo_incidents(today: date | None = None, agencies: dict[str, Agency] | None = None,
                        users: dict[str, User] | None = None) -> dict[str, float]:
    """Create the Norrvik areas, the default categories and two years of reports (once); returns a summary."""
    started = time.perf_counter()
    areas, categories = ensure_demo_areas(), ensure_default_categories()
    demo_area_ids = [areas[code].id for code, *_rest in DEMO_AREAS]
    if db.session.scalar(select(IncidentReport.id).where(IncidentReport.area_id.in_(demo_area_ids)).limit(1)):
        return {"reports": 0, "seconds": round(time.perf_counter() - started, 2)}
    now = datetime.now(timezone.utc)
    today = today or now.astimezone(STOCKHOLM).date()
    end_of_today = datetime.combine(today + timedelta(days=1), datetime.min.time(), STOCKHOLM).astimezone(timezone.utc)
    cutoff = min(end_of_today - timedelta(minutes=1), now)
    users = users or {}

    def user(email):
        return users.get(email) or db.session.scalar(select(User).where(User.email == email))

    builder = _Builder(today, cutoff, areas, categories, _lookup_agencies(agencies), user(DEMO_REPORTER),
                       user(DEMO_ANALYST))
    first = builder.current_monday - timedelta(weeks=WEEKS - 1)
    total, pending, day = 0, [], first
    while day <= today:
        pending.extend(builder.day_reports(day))
        if day == today:
            pending.extend(builder.hotspot_reports())
            _leave_newest_unreviewed(pending)
        if len(pending) >= CHUNK or day == today:
            _insert(pending)
            total += len(pending)
            pending = []
        day += timedelta(days=1)
    return {"reports": total, "seconds": round(time.perf_counter() - started, 2)}


def _insert(reports: list[IncidentReport]) -> None:
    """INSERT the reports built by new_report in one executemany, without the ORM unit of work.

    The ORM's per-object bookkeeping costs more than the data itself at this
    volume; the rows are exactly what the objects hold (derived columns and
    ciphertexts included), plus the column defaults the flush would add.
    """
    table = IncidentReport.__table__
    defaults = {c.key: c.default.arg for c in table.columns
                if c.default is not None and c.default.is_scalar}
    rows = []
    for report in reports:
        state = report.__dict__
        row = {c.key: state.get(c.key, defaults.get(c.key)) for c in table.columns}
        row["data_key_id"] = report.data_key.id
        rows.append(row)
    db.session.execute(insert(table), rows)


def _leave_newest_unreviewed(reports: list[IncidentReport]) -> None:
    """The newest reports of the current week are still waiting for an analyst."""
    for report in sorted(reports, key=lambda r: r.occurred_at)[-NEW_IN_CURRENT_WEEK:]:
        report.status, report.reviewed_at, report.reviewed_by_id = ReportStatus.NEW, None, None
        report.reject_reason = report.duplicate_of_id = None
