"""The daily digest: what is newly due or late, per user, by mail; never personal data; once per day."""

from __future__ import annotations

import email
import json
from datetime import date, timedelta
from email import policy
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.processes.models import DigestLog

TODAY = date(2026, 11, 25)


@pytest.fixture()
def outbox(app, monkeypatch, tmp_path) -> Path:
    folder = tmp_path / "outbox"
    monkeypatch.setitem(app.config, "LOTS_MAIL_OUTBOX", str(folder))
    monkeypatch.setitem(app.config, "LOTS_BASE_URL", "https://lots.example.org")
    return folder


def mails(folder: Path) -> dict[str, email.message.EmailMessage]:
    """The .eml files in the outbox, by recipient (one mail per recipient expected)."""
    found = {}
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert message["To"] not in found, "two mails to one recipient"
        found[message["To"]] = message
    return found


def body(message) -> str:
    """Decoded text of every part (the raw file may be quoted-printable or base64)."""
    return "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")


def send(app, day=TODAY, dry_run=False):
    from app.processes.digest import send_digests

    with app.app_context():
        return send_digests(day, dry_run=dry_run)


def items(app, user, day=TODAY):
    from app.processes.digest import digest_items

    with app.app_context():
        return digest_items(user, day)


@pytest.fixture()
def world(factory, processes):
    """A process leader's process with police and housing; a process the housing company is not part of."""
    leader_agency = factory.agency(name="Förebyggande (test)")
    police, housing, other = (factory.agency(kind="police"), factory.agency(kind="housing"),
                              factory.agency(kind="other"))
    leader = factory.user(roles=("process_leader",), agency=leader_agency)
    officer = factory.user(roles=("partner",), agency=police)
    tenant = factory.user(roles=("partner",), agency=housing)
    process = processes.process(name="Trygg i test", agencies=[police, housing], owner=leader,
                                owner_agency=leader_agency)
    elsewhere = processes.process(name="Annan process", agencies=[other], owner_agency=other)
    m = {
        "late": processes.milestone(process, agency=police, title="Trygghetsvandring genomförd",
                                    due=TODAY - timedelta(days=3), status="in_progress"),
        "today": processes.milestone(process, agency=police, title="Belysning beställd", due=TODAY),
        "soon": processes.milestone(process, agency=housing, title="Avtal med fastighetsägare",
                                    due=TODAY + timedelta(days=10)),
        "far": processes.milestone(process, agency=police, title="Slutrapport skriven", due=TODAY + timedelta(days=40)),
        "done": processes.milestone(process, agency=police, title="Startmöte hållet", due=TODAY - timedelta(days=30),
                                    status="done"),
        "hidden": processes.milestone(elsewhere, agency=other, title="Annat delmål", due=TODAY - timedelta(days=1)),
    }
    meeting = processes.meeting(process, attendees=[police, housing], minutes="Protokoll.")
    action = processes.action_item(meeting, agency=housing, title="Skicka kostnadsförslag",
                                   due=TODAY - timedelta(days=2))
    return {"leader": leader, "officer": officer, "tenant": tenant, "m": m, "action": action, "meeting": meeting,
            "process": process}


def test_partner_gets_late_and_soon_milestones_of_their_own_agency_only(app, world):
    got = {i.title: i for i in items(app, world["officer"])}
    assert set(got) == {"Trygghetsvandring genomförd", "Belysning beställd"}
    assert got["Trygghetsvandring genomförd"].state == "late"
    assert got["Belysning beställd"].state == "due_soon"
    assert got["Trygghetsvandring genomförd"].key == f"milestone:{world['m']['late'].id}:late"
    today = world["m"]["today"]
    assert got["Belysning beställd"].link == f"/processes/{world['process'].id}#milestone-{today.id}"


def test_housing_partner_gets_their_milestone_and_their_late_action_item(app, world):
    got = {i.key: i for i in items(app, world["tenant"])}
    assert set(got) == {f"milestone:{world['m']['soon'].id}:due", f"action_item:{world['action'].id}:late"}
    assert got[f"action_item:{world['action'].id}:late"].link == \
        f"/meetings/{world['meeting'].id}#action-{world['action'].id}"


def test_process_leader_gets_everything_open_and_due_in_the_processes_they_own(app, world):
    got = {i.title for i in items(app, world["leader"])}
    assert got == {"Trygghetsvandring genomförd", "Belysning beställd", "Avtal med fastighetsägare",
                   "Skicka kostnadsförslag"}


def test_coordinator_and_partner_get_case_codes_and_dates_never_goals(app, factory, outbox):
    police = factory.agency(kind="police")
    coordinator = factory.user(roles=("coordinator",))
    officer = factory.user(roles=("partner",), agency=police)
    case = factory.case(coordinator, team=[police], items=[
        {"responsible_agency": police, "due_on": TODAY - timedelta(days=2), "goal": "Hemligt mål ett"},
        {"responsible_agency": police, "due_on": TODAY + timedelta(days=5), "goal": "Hemligt mål två"},
        {"responsible_agency": police, "due_on": TODAY + timedelta(days=60), "goal": "Hemligt mål tre"},
    ])
    mine = items(app, coordinator)
    assert sorted((i.kind, i.state) for i in mine) == [("plan_item", "due_soon"), ("plan_item", "late")]
    assert all(i.context == case.code and i.title == "" for i in mine)
    assert all(i.link == f"/cases/{case.code}/plan" for i in mine)
    assert {i.key for i in items(app, officer)} == {i.key for i in mine}

    summary = send(app)
    assert summary.sent == 2
    sent = mails(outbox)
    for user in (coordinator, officer):
        text = body(sent[user.email])
        assert case.code in text and f"https://lots.example.org/cases/{case.code}/plan" in text
        assert "Hemligt mål" not in text and "Påhittsson" not in text
    assert sent[coordinator.email]["Subject"] == "Lots: 2 nya saker att följa upp"


def test_second_run_the_same_day_sends_nothing_and_logs_once(app, db, world, outbox):
    first = send(app)
    assert first.sent == 3 and len(mails(outbox)) == 3
    second = send(app)
    assert second.sent == 0 and second.already_sent == 3
    assert len(list(outbox.glob("*.eml"))) == 3
    assert db.scalar(select(func.count()).select_from(DigestLog).where(DigestLog.sent_on == TODAY)) == 3
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "digest.send")).all()
    assert len(events) == 3
    assert all(e.actor_user_id is None and e.object_type == "user" for e in events)
    assert set(json.loads(events[0].detail)) == {"new", "open", "late", "day"}


def test_next_day_lists_only_what_is_new(app, db, world, outbox):
    send(app)
    for path in outbox.glob("*.eml"):
        path.unlink()
    summary = send(app, TODAY + timedelta(days=1))
    sent = mails(outbox)
    # Only the milestone due yesterday turned late: the police officer and the leader are told, housing is not.
    assert set(sent) == {world["officer"].email, world["leader"].email}
    text = body(sent[world["officer"].email])
    assert f"delmål {world['m']['today'].id}" in text
    assert f"delmål {world['m']['late'].id}" not in text
    # The officer's agency takes part in the process: the policy lets the title be mailed (digest:titles).
    assert "Belysning beställd – Trygg i test" in text
    assert "1 tidigare aviserad sak är fortfarande öppen." in text
    assert sent[world["officer"].email]["Subject"] == "Lots: 1 ny sak att följa upp"
    assert summary.nothing_new >= 1


def test_nothing_new_means_no_mail_and_no_log(app, db, world, outbox):
    summary = send(app, TODAY - timedelta(days=100))
    assert summary.sent == 0 and not mails(outbox)
    assert db.scalar(select(func.count()).select_from(DigestLog)) == 0


def test_dry_run_counts_without_writing(app, db, world, outbox):
    summary = send(app, dry_run=True)
    assert summary.sent == 3 and summary.new_items == 2 + 2 + 4
    assert not mails(outbox)
    assert db.scalar(select(func.count()).select_from(DigestLog)) == 0


def test_inactive_users_get_nothing(app, db, world, outbox):
    world["officer"].active = False
    db.flush()
    send(app)
    assert world["officer"].email not in mails(outbox)


# ------------------------------------------------------------------ the demo: no personal data anywhere


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def test_demo_digests_contain_case_codes_and_no_personal_data(app, db, outbox):
    from app.cases.demo import COORDINATOR, POLICE_OFFICER
    from app.cases.models import Case, Participant, PlanFollowUp, PlanItem
    from app.demo import load_demo
    from app.processes.dates import local_today
    from app.processes.demo import LEADER

    with app.app_context():
        load_demo(incidents=False)
        forbidden = set()
        for p in db.scalars(select(Participant)):
            forbidden |= {p.first_name, p.last_name, p.personal_number, p.phone, p.email, p.street_address}
            forbidden |= {_digits(p.personal_number), _digits(p.personal_number)[2:], _digits(p.phone)}
        forbidden |= {i.goal for i in db.scalars(select(PlanItem))}
        forbidden |= {f.text for f in db.scalars(select(PlanFollowUp))}
        forbidden |= {c.referral_reason for c in db.scalars(select(Case))}
        codes = set(db.scalars(select(Case.code)))
    forbidden = {f for f in forbidden if f}
    assert len(forbidden) > 20

    summary = send(app, local_today())
    sent = mails(outbox)
    assert summary.sent == len(sent) >= 3
    raw = "\n".join(p.read_text(errors="replace") for p in outbox.glob("*.eml"))
    for message in sent.values():
        text = body(message) + message["Subject"]
        for value in forbidden:
            assert value not in text, "personal data in a digest"
            assert value not in raw
    coordinator = body(sent[COORDINATOR])
    assert any(code in coordinator for code in codes)
    assert "Omprövning av hotbild" in coordinator and "Samtycke upphör" in coordinator
    assert any(code in body(sent[POLICE_OFFICER]) for code in codes)
    leader = body(sent[LEADER])
    assert "Delmål försenat" in leader and "/processes/" in leader  # late demo milestones, by number and link
    assert "Ny belysning i gångtunneln installerad" in leader  # the leader may see it: the title is mailed
    assert not any(code in leader for code in codes)  # the process leader sees no case work


# ------------------------------------------------------------------ the command


def test_cli_sends_and_says_where_the_outbox_is(app, world, outbox):
    result = app.test_cli_runner().invoke(args=["digest", "send", "--date", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "3 mail(s) written to the outbox" in result.output
    assert str(outbox) in result.output
    assert len(mails(outbox)) == 3


def test_cli_dry_run_writes_nothing(app, world, outbox):
    result = app.test_cli_runner().invoke(args=["digest", "send", "--date", TODAY.isoformat(), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "3 mail(s) would be sent" in result.output
    assert not mails(outbox)


@pytest.mark.parametrize("bad", ["2026-13-01", "igår", "25/11/2026", ""])
def test_cli_bad_date_is_a_clear_error(app, db, outbox, bad):
    result = app.test_cli_runner().invoke(args=["digest", "send", "--date", bad])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
    assert not mails(outbox)


def test_production_without_smtp_refuses_and_sends_nothing(app, db, world, outbox, monkeypatch):
    monkeypatch.setitem(app.config, "LOTS_ENV", "production")
    monkeypatch.setitem(app.config, "LOTS_SMTP_HOST", None)
    result = app.test_cli_runner().invoke(args=["digest", "send", "--date", TODAY.isoformat()])
    assert result.exit_code == 1
    assert "LOTS_SMTP_HOST" in result.output and "Nothing was sent" in result.output
    assert not mails(outbox)
    assert db.scalar(select(func.count()).select_from(DigestLog)) == 0


# ------------------------------------------------------------------ mail transport and settings


class FakeSMTP:
    """Records what the mail code does with an SMTP connection; ``instances`` is reset by each test."""

    instances: ClassVar[list[FakeSMTP]] = []

    def __init__(self, host, port, timeout=None, context=None):
        self.host, self.port, self.calls, self.sent = host, port, [], []
        FakeSMTP.instances.append(self)

    def starttls(self, context=None):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(("login", user))

    def send_message(self, message):
        self.sent.append(message)

    def quit(self):
        self.calls.append("quit")


def test_smtp_with_starttls_and_login_when_a_host_is_configured(app, db, world, outbox, monkeypatch):
    import smtplib

    FakeSMTP.instances = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "LOTS_SMTP_HOST", "smtp.example.org")
    monkeypatch.setitem(app.config, "LOTS_SMTP_USERNAME", "lots")
    monkeypatch.setitem(app.config, "LOTS_SMTP_PASSWORD", "hemligt")
    summary = send(app)
    assert summary.sent == 3 and summary.transport == "smtp"
    (smtp,) = FakeSMTP.instances  # one connection for the whole run
    assert smtp.calls == ["starttls", ("login", "lots"), "quit"]
    assert {m["To"] for m in smtp.sent} == {world["officer"].email, world["tenant"].email, world["leader"].email}
    assert not mails(outbox)


def test_send_mail_writes_a_multipart_eml_in_development(app, outbox):
    from app.processes.mail import send_mail

    with app.app_context():
        where = send_mail("someone@example.org", "Ämne", "Text åäö", "<p>Text åäö</p>")
    message = email.message_from_bytes(Path(where).read_bytes(), policy=policy.default)
    assert message["Subject"] == "Ämne" and message.is_multipart()
    assert "Text åäö" in message.get_body(("plain",)).get_content()
    assert Path(where).parent == outbox


def test_mail_settings_are_validated(monkeypatch, tmp_path):
    from app.config import ConfigError, load_config

    monkeypatch.setenv("LOTS_SMTP_SECURITY", "tls-please")
    with pytest.raises(ConfigError, match="LOTS_SMTP_SECURITY"):
        load_config(tmp_path, {"ENV": "test"})
    monkeypatch.setenv("LOTS_SMTP_SECURITY", "ssl")
    monkeypatch.setenv("LOTS_SMTP_USERNAME", "lots")
    with pytest.raises(ConfigError, match="LOTS_SMTP_PASSWORD"):
        load_config(tmp_path, {"ENV": "test"})
    monkeypatch.setenv("LOTS_SMTP_PASSWORD", "hemligt")
    monkeypatch.setenv("LOTS_SMTP_HOST", "smtp.example.org")
    config = load_config(tmp_path, {"ENV": "test"})
    assert config["LOTS_SMTP_HOST"] is None  # tests never reach a mail server
    assert config["LOTS_SMTP_PORT"] == 465 and config["LOTS_MAIL_OUTBOX"] == str(tmp_path / "outbox")
    development = load_config(tmp_path, {"ENV": "development"})
    assert development["LOTS_SMTP_HOST"] == "smtp.example.org"
