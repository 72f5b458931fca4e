"""The status report PDF of a process: for participants and the process leader, audited, no meeting minutes."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.processes import dates

TODAY = date(2026, 3, 10)


@pytest.fixture()
def setup(processes, factory, monkeypatch):
    monkeypatch.setattr(dates, "local_today", lambda now=None: TODAY)
    police = factory.agency(kind="police")
    process = processes.process(name="Tryggare Norrvik centrum", agencies=[police], start=TODAY - timedelta(days=90),
                                end=TODAY + timedelta(days=90))
    first = processes.milestone(process, agency=police, title="Trygghetsvandring klar", due=TODAY - timedelta(days=5))
    processes.milestone(process, agency=police, title="Belysning utbytt", due=TODAY + timedelta(days=7),
                        depends_on=[first])
    processes.milestone(process, agency=police, title="Avslutat delmål", due=TODAY - timedelta(days=20), status="done")
    meeting = processes.meeting(process, title="Styrgrupp", minutes="HEMLIGT PROTOKOLL Kalle", decisions="BESLUT X")
    processes.action_item(meeting, agency=police, title="Ta fram lägesbild", due=TODAY + timedelta(days=3))
    processes.action_item(meeting, agency=police, title="Gammal klar åtgärd", due=TODAY, status="done")
    return {"police": police, "process": process}


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _export_events(db, process):
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == "process.export",
                                                    AuditEvent.object_id == str(process.id))))


def test_process_leader_gets_the_report_and_the_export_is_audited(client, login_as, setup, db):
    process = setup["process"]
    login_as("process_leader")
    resp = client.get(f"/processes/{process.id}/report.pdf")
    assert resp.status_code == 200
    assert resp.data.startswith(b"%PDF")
    assert resp.headers["Content-Type"] == "application/pdf"
    text = _text(resp.data)
    assert "Tryggare Norrvik centrum" in text
    assert "Trygghetsvandring klar" in text  # the late milestone
    assert "Försenade delmål" in text
    assert "Ta fram lägesbild" in text  # an open action item
    assert "Gammal klar åtgärd" not in text  # done action items are not listed
    assert "HEMLIGT PROTOKOLL" not in text and "BESLUT X" not in text  # never the minutes
    (event,) = _export_events(db, process)
    assert event.object_type == "process" and "pdf" in (event.detail or "")


def test_participant_may_export_in_english(client, login_as, setup, db):
    process = setup["process"]
    login_as("partner", agency=setup["police"])
    resp = client.get(f"/processes/{process.id}/report.pdf?lang=en")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert "Tryggare Norrvik centrum" in _text(resp.data)
    assert len(_export_events(db, process)) == 1


def test_non_participant_gets_403_and_nothing_is_exported(client, login_as, setup, db, factory):
    process = setup["process"]
    login_as("partner", agency=factory.agency(kind="housing"))
    resp = client.get(f"/processes/{process.id}/report.pdf")
    assert resp.status_code == 403
    assert not resp.data.startswith(b"%PDF")
    assert _export_events(db, process) == []


@pytest.mark.parametrize("role", ["reporter", "admin", "auditor"])
def test_roles_without_process_access_get_403(client, login_as, setup, role):
    login_as(role)
    assert client.get(f"/processes/{setup['process'].id}/report.pdf").status_code == 403


def test_unknown_process_is_404(client, login_as, setup):
    login_as("process_leader")
    assert client.get("/processes/2147483000/report.pdf").status_code == 404
    assert client.get("/processes/99999999999999/report.pdf").status_code == 404
    assert client.get(f"/processes/{setup['process'].id}/report.pdf?lang=xx").status_code == 200


def test_process_without_milestones_still_renders(client, login_as, processes):
    process = processes.process(name="Tom process")
    login_as("process_leader")
    resp = client.get(f"/processes/{process.id}/report.pdf")
    assert resp.status_code == 200 and "Tom process" in _text(resp.data)
