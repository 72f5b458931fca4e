"""Every demo role logs in through the real forms in Chromium and walks its main menu.

On every page: no server error, no console error or uncaught exception. And
no serious or critical axe-core (WCAG 2.1 A/AA) violation: axe-core runs once
per role and view, and once per role for the error page (axe costs ~0.5 s a
page; the other pages of a view share its template). Of the probes a role is refused, only the first is
rendered; the rest are asked without rendering. The pages come from the
rendered menu (nav.mainnav), so pages added to the menu later are covered
without touching this file.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app.demo import DEMO_USERS
from tests.browser.conftest import PageErrors, log_in

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def _axe_violations(page, axe_js) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_js))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: tags, resultTypes: ['violations']})", AXE_TAGS
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def _describe(violations: list[dict]) -> list[str]:
    lines = []
    for v in violations:
        lines.append(f"axe {v['impact']}: {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {node['target']}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return lines


class AxeOnce:
    """Remembers which (view, status) pairs axe-core has checked for one role."""

    def __init__(self, app):
        self.adapter = app.url_map.bind("localhost")
        self.checked: set[tuple[str, int]] = set()

    def endpoint(self, path: str) -> str:
        try:
            return self.adapter.match(path, method="GET")[0]
        except Exception:  # noqa: BLE001 - a 404 or redirect rule: count it under its path
            return path

    def due(self, url: str, status: int) -> bool:
        if status != 200:
            endpoint = "error page"  # one template for every refusal
        else:
            endpoint = self.endpoint(urlsplit(url).path)
        if (endpoint, status) in self.checked:
            return False
        self.checked.add((endpoint, status))
        return True


def _check_page(page, errors: PageErrors, axe_js, url: str, allowed=(200,), axe_once: AxeOnce | None = None
                ) -> list[str]:
    response = page.goto(url, wait_until="load")
    status = response.status if response else None
    problems = [] if status in allowed else [f"HTTP status {status}"]
    if status is not None and status < 500 and (axe_once is None or axe_once.due(url, status)):
        problems += _describe(_axe_violations(page, axe_js))
    # The browser logs a console error for every 4xx page; an expected refusal is not a problem.
    return problems + [e for e in errors.take() if not (status in allowed and str(status) in e)]


#: Link discovery stays inside these sections, skips downloads and stops at this many pages.
CRAWL_PREFIXES = ("/cases/", "/reports/", "/overview/", "/admin/", "/processes/", "/meetings/", "/interventions/",
                  "/yearly/")
CRAWL_SKIP = (".pdf", ".csv", ".json")
MAX_DISCOVERED = 45
#: No section may take more than this share of the discovered pages, so every section is reached.
MAX_PER_SECTION = 10
#: Pages of one view (endpoint) beyond this many add little but time: the view's template, and axe-core's
#: verdict on it, are already covered; the rest of the budget goes to views not yet seen.
MAX_PER_VIEW = 2


def _case_probe_paths(live_server) -> list[str]:
    """Every GET page of the cases blueprint that needs only a case code, for the first demo case.

    Each role is sent to all of them: the ones it may not open must answer with an
    accessible 403 page, never an error.
    """
    from sqlalchemy import select

    from app.cases.models import Case
    from app.extensions import db

    app = live_server.app
    with app.app_context():
        codes = list(db.session.scalars(select(Case.code).order_by(Case.code)))
    rules = [
        rule for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("cases.") and "GET" in rule.methods and set(rule.arguments) == {"code"}
        and not rule.rule.endswith(".pdf")
    ]
    with app.test_request_context():
        from flask import url_for

        return [url_for(rule.endpoint, code=code) for code in codes[:1] for rule in rules]


PROCESS_SECTIONS = ("processes.", "meetings.", "interventions.", "yearly.")


def _process_probe_paths(live_server) -> list[str]:
    """Every GET page of the process domain for the first demo process, meeting, action item and intervention.

    Each role is sent to all of them: pages it may not open must answer with an accessible 403 page.
    """
    from sqlalchemy import select

    from app.extensions import db
    from app.overview.figures import current_week
    from app.processes.models import ActionItem, Intervention, Meeting, MeetingKind, Milestone, Process

    app = live_server.app
    with app.app_context():
        process = db.session.scalar(select(Process).order_by(Process.id))
        milestone = db.session.scalar(select(Milestone).where(Milestone.process_id == process.id)) if process else None
        meeting = db.session.scalar(select(Meeting).where(Meeting.kind == MeetingKind.PROCESS).order_by(Meeting.held_on))
        action = db.session.scalar(select(ActionItem).order_by(ActionItem.id))
        intervention = db.session.scalar(select(Intervention).order_by(Intervention.id))
        year, week = current_week()
        values = {"process_id": process and process.id, "milestone_id": milestone and milestone.id,
                  "meeting_id": meeting and meeting.id, "action_id": action and action.id,
                  "intervention_id": intervention and intervention.id, "year": year, "week": week,
                  "kind": "situation"}
    assert all(v is not None for v in values.values()), f"the demo lacks process data: {values}"
    with app.test_request_context():
        from flask import url_for

        return [url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
                for rule in app.url_map.iter_rules()
                if rule.endpoint.startswith(PROCESS_SECTIONS) and "GET" in rule.methods
                and not rule.rule.endswith(".pdf") and set(rule.arguments) <= set(values)]


@pytest.mark.browser
@pytest.mark.parametrize("email", [u[0] for u in DEMO_USERS], ids=[u[3][0] + ":" + u[0].split("@")[0] for u in DEMO_USERS])
def test_role_pages_are_accessible_and_error_free(browser, live_server, axe_js, email):
    # bypass_csp lets axe-core be injected; the CSP itself is checked in test_security_headers.
    context = browser.new_context(bypass_csp=True, locale="sv-SE")
    try:
        page = context.new_page()
        errors = PageErrors(page)
        login_problems = []

        def check_login_page(page):
            problems = _describe(_axe_violations(page, axe_js)) + errors.take()
            if problems:
                login_problems.append(f"{urlsplit(page.url).path}:\n  " + "\n  ".join(problems))

        log_in(page, live_server, email, check_page=check_login_page)
        login_problems += errors.take()
        assert not login_problems, f"{email}: problems while logging in:\n" + "\n".join(login_problems)

        nav_links = page.eval_on_selector_all("nav.mainnav a[href]", "els => els.map(a => a.href)")
        assert nav_links, f"{email}: the main navigation has no links"
        targets = [live_server.url + live_server.paths["index"]]
        for href in nav_links:
            if urlsplit(href).netloc != urlsplit(live_server.url).netloc:
                continue  # the crawl stays on Lots
            if href.split("#")[0] not in targets:
                targets.append(href.split("#")[0])
        targets.append(live_server.url + live_server.paths["change_password"])

        # Every menu page, then the links those pages offer inside the crawled sections (what this role can
        # reach by clicking), breadth first; each page is loaded once, checked, and its links collected.
        axe_once = AxeOnce(live_server.app)
        report = []
        seen = set(targets)
        queue = [(url, "") for url in targets]
        discovered = 0
        per_section: dict[str, int] = {}
        per_view: dict[str, int] = {}
        for url in targets:
            view = axe_once.endpoint(urlsplit(url).path)
            per_view[view] = per_view.get(view, 0) + 1
        while queue:
            url, label = queue.pop(0)
            problems = _check_page(page, errors, axe_js, url, axe_once=axe_once)
            if problems:
                report.append(f"{urlsplit(url).path}{label}:\n  " + "\n  ".join(problems))
            for href in page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)"):
                href = href.split("#")[0]
                parts = urlsplit(href)
                if (discovered < MAX_DISCOVERED and parts.netloc == urlsplit(live_server.url).netloc
                        and parts.path.startswith(CRAWL_PREFIXES) and not parts.path.endswith(CRAWL_SKIP)
                        and href not in seen):
                    section = "/" + parts.path.split("/")[1] + "/"
                    view = axe_once.endpoint(parts.path)
                    if per_section.get(section, 0) >= MAX_PER_SECTION or per_view.get(view, 0) >= MAX_PER_VIEW:
                        continue
                    per_section[section] = per_section.get(section, 0) + 1
                    per_view[view] = per_view.get(view, 0) + 1
                    seen.add(href)
                    discovered += 1
                    queue.append((href, " (linked)"))
        # And every case and process page by its address (what this role must be refused cleanly).
        probes = [live_server.url + path for path in _case_probe_paths(live_server) + _process_probe_paths(live_server)]
        # A refusal is one template: the browser renders (and axe checks) the first 403 of the role, and each
        # page the role may open; the other refusals are asked through the same session without rendering
        # (their status is what matters; tests/cases/test_route_matrix.py checks every route's status too).
        refusal_rendered = False
        for url in probes:
            if refusal_rendered:
                status = context.request.get(url, max_redirects=0).status
                if status == 403:
                    continue
                if status >= 500:
                    report.append(f"{urlsplit(url).path} (probe):\n  HTTP status {status}")
                    continue
            problems = _check_page(page, errors, axe_js, url, allowed=(200, 403), axe_once=axe_once)
            if problems:
                report.append(f"{urlsplit(url).path} (probe):\n  " + "\n  ".join(problems))
            refusal_rendered = refusal_rendered or ("error page", 403) in axe_once.checked
        total = len(targets) + discovered + len(probes)
        assert not report, f"{email} ({total} pages):\n" + "\n".join(report)
    finally:
        context.close()
