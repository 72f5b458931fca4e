"""The main menu: each entry names its permission, so a role sees only what it can use."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.security.authz import can
from app.security.permissions import Permission


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    permission: Permission


NAV: list[NavItem] = [
    NavItem("main.index", _l("Start"), Permission.HOME_VIEW),
    NavItem("cases.index", _l("Ärenden"), Permission.CASE_LIST),
    NavItem("cases.new", _l("Ny aktualisering"), Permission.CASE_CREATE),
    NavItem("cases.emergency_reviews", _l("Nödåtkomster"), Permission.EMERGENCY_REVIEW),
    NavItem("overview.index", _l("Lägesbild"), Permission.OVERVIEW_PUBLISHED),
    NavItem("overview.period", _l("Perioder"), Permission.OVERVIEW_READ),
    NavItem("processes.index", _l("Processer"), Permission.PROCESS_LIST),
    NavItem("processes.due", _l("Försenat och på gång"), Permission.PROCESS_LIST),
    NavItem("meetings.index", _l("Möten"), Permission.MEETING_VIEW),
    NavItem("interventions.index", _l("Insatser"), Permission.INTERVENTION_READ),
    NavItem("yearly.index", _l("Årsdokument"), Permission.YEARLY_READ),
    NavItem("reports.new", _l("Rapportera"), Permission.REPORT_CREATE),
    NavItem("reports.mine", _l("Mina rapporter"), Permission.REPORT_OWN),
    NavItem("reports.index", _l("Rapporter"), Permission.REPORT_READ),
    NavItem("reports.import_upload", _l("Importera"), Permission.REPORT_IMPORT),
    NavItem("admin.agencies", _l("Myndigheter"), Permission.AGENCY_MANAGE),
    NavItem("taxonomy.areas", _l("Områden"), Permission.TAXONOMY_MANAGE),
    NavItem("taxonomy.categories", _l("Kategorier"), Permission.TAXONOMY_MANAGE),
    NavItem("taxonomy.api_tokens", _l("API-nycklar"), Permission.API_TOKEN_MANAGE),
    NavItem("admin.users", _l("Användare"), Permission.USER_MANAGE),
    NavItem("audit.events", _l("Granskningslogg"), Permission.AUDIT_READ),
    NavItem("audit.access", _l("Åtkomstrapport"), Permission.AUDIT_READ),
]


def nav_items() -> list[NavItem]:
    """Menu entries the current user is allowed to open."""
    return [item for item in NAV if can(item.permission, route_level=True)]


def role_labels(user) -> str:
    from app.admin.forms import ROLE_LABELS

    return ", ".join(str(ROLE_LABELS.get(name, name)) for name in user.role_names)


def init_app(app) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["role_labels"] = role_labels
