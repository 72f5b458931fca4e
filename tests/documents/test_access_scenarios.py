"""Issue 15: the case domain's access scenarios, repeated for documents, on every read path of a document.

One case holds one document of every kind, each with a marker in its title:

- ``consent``: the signed form, attached to a consent (kind consent, opened by an identity consent);
- ``identity``: attached to the case (kind identity);
- ``threat``: a PNG attached to the threat assessment (kind threat; it has a rendered preview);
- ``protection``: attached to the case (kind protection plan);
- ``support``: attached to the housing agency's plan item (kind support plan);
- ``notes``: attached to a case note (kind notes: never leaves the coordinator).

Each scenario signs one user in and reads the list, the title search (``?q=``), each document's page with its
preview, each download and the plan PDF; the table says which documents that user must get. A marker is
invented text, so finding it means the title was shown. Every allowed read writes exactly one audit event of its
action, every refusal none.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent, AuditHead
from app.cases.models import CaseNote, EmergencyAccess, ThreatAssessment, ThreatLevel
from app.db import utcnow
from tests.conftest import sign_in

ALL = {"consent", "identity", "threat", "protection", "support", "notes"}
#: The documents the plan PDF lists (the two plan kinds, and those attached to plan items and versions).
PLAN_DOCS = {"protection", "support"}
READ_ACTIONS = ("document.list", "document.previewed", "document.downloaded")


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


class World:
    """A case with a police and a housing agency on its team and one document of every kind."""

    def __init__(self, app, factory):
        from app.documents import service
        from app.documents.models import AttachedTo, DocumentKind
        from app.security.models import User

        self.app, self.factory = app, factory
        self.tag = uuid.uuid4().hex[:6]
        self.social = factory.agency(kind="social_services")
        self.police = factory.agency(kind="police")
        self.housing = factory.agency(kind="housing")
        ngo = factory.agency(kind="ngo")  # the signed form's consent is to an agency nobody here belongs to
        self.coordinator = factory.user(roles=("coordinator",), agency=self.social)
        self.case = factory.case(self.coordinator, team=[self.police, self.housing],
                                 consents=[(ngo, ["identity"], None, None)],
                                 items=[dict(part="support", area="housing", goal="Fiktiv bostad",
                                             responsible_agency=self.housing)])
        key = self.case.participant.data_key
        session = factory.session
        with app.app_context():
            assessment = ThreatAssessment(data_key=key, case=self.case, assessed_on=date.today() - timedelta(days=3),
                                          agency_id=self.police.id, next_review_on=date.today() + timedelta(days=60))
            assessment.level = ThreatLevel.HIGH
            assessment.narrative = "Fiktiv hotbild"
            note = CaseNote(data_key=key, case=self.case)
            note.text = "Fiktiv anteckning"
            session.add_all([assessment, note])
            session.flush()
        #: key -> (attached to, target, kind, file name, body)
        specs = {
            "consent": (AttachedTo.CONSENT, self.case.consents[0], DocumentKind.CONSENT, "samtycke.txt"),
            "identity": (AttachedTo.CASE, None, DocumentKind.IDENTITY, "pass.txt"),
            "threat": (AttachedTo.THREAT, assessment, DocumentKind.THREAT, "hotbild.png"),
            "protection": (AttachedTo.CASE, None, DocumentKind.PROTECTION_PLAN, "skydd.txt"),
            "support": (AttachedTo.PLAN_ITEM, self.case.plan_items[0], DocumentKind.SUPPORT_PLAN, "kontrakt.txt"),
            "notes": (AttachedTo.NOTE, note, DocumentKind.NOTES, "protokoll.txt"),
        }
        self.titles = {name: f"Dokmarkor{self.tag}{name}" for name in specs}
        self.bodies: dict[str, bytes] = {}
        self.docs = {}
        with app.test_request_context():
            coordinator = session.get(User, self.coordinator.id)
            for name, (attached_to, target, kind, filename) in specs.items():
                body = _png() if filename.endswith(".png") else f"Fiktivt innehåll {name} {self.tag}\n".encode()
                handle, path = tempfile.mkstemp()
                os.write(handle, body)
                os.close(handle)
                try:
                    prepared = service.prepare(path, filename=filename, claimed_type=None, strip_metadata=False)
                    self.docs[name] = service.attach(self.case, coordinator, attached_to=attached_to, target=target,
                                                     kind=kind, title=self.titles[name], document_date=None,
                                                     prepared=prepared)
                finally:
                    os.unlink(path)
                self.bodies[name] = body
        session.flush()

    def consent(self, agency, kinds, valid_until=None, given_on=None):
        from app.cases.models import Consent, ConsentMethod

        with self.app.app_context():
            consent = Consent(data_key=self.case.participant.data_key, case=self.case, agency_id=agency.id,
                              given_on=given_on or date.today() - timedelta(days=5),
                              valid_until=valid_until or date.today() + timedelta(days=90),
                              method=ConsentMethod.WRITTEN)
            consent.kind_set = kinds
            self.factory.session.add(consent)
            self.factory.session.flush()
            return consent

    def emergency(self, user):
        with self.app.app_context():
            access = EmergencyAccess(data_key=self.case.participant.data_key, case=self.case, user_id=user.id,
                                     agency_id=user.agency_id, started_at=utcnow(),
                                     expires_at=utcnow() + timedelta(minutes=60))
            access.reason = "Fiktivt skäl till nödåtkomst"
            self.factory.session.add(access)
            self.factory.session.flush()


@pytest.fixture()
def world(app, factory):
    return World(app, factory)


def _count(html: str) -> int:
    """How many documents the list says it found (it says "N dokument." or "Inga dokument att visa.")."""
    found = re.search(r"<p>(\d+) dokument\.</p>", html)
    return int(found.group(1)) if found else 0


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _events(db, user, first: int) -> dict[str, int]:
    rows = db.execute(select(AuditEvent.action, func.count()).where(
        AuditEvent.id >= first, AuditEvent.actor_user_id == user.id, AuditEvent.action.in_(READ_ACTIONS))
        .group_by(AuditEvent.action)).all()
    return {action: n for action, n in rows}


def read_documents(client, db, world, user) -> dict:
    """Every read path of the case's documents; returns what was shown and checks the audit events as it goes."""
    code = world.case.code
    first = (db.scalar(select(AuditHead.seq)) or 0) + 1
    expected_events = {action: 0 for action in READ_ACTIONS}
    out = {"list_status": None, "listed": set(), "found": set(), "pages": set(), "previews": set(),
           "downloads": set(), "pdf_status": None, "pdf": set()}

    listing = client.get(f"/cases/{code}/documents")
    out["list_status"] = listing.status_code
    if listing.status_code == 200:
        expected_events["document.list"] += 1
        out["listed"] = {name for name, title in world.titles.items() if title in listing.text}
        assert _count(listing.text) == len(out["listed"]), "the count shown matches the titles shown"
        # The search: every title shares the tag, so a search for it finds exactly the readable documents; a
        # search for one title finds it only if it may be read.
        search = client.get(f"/cases/{code}/documents", query_string={"q": f"Dokmarkor{world.tag}"})
        expected_events["document.list"] += 1
        assert _count(search.text) == len(out["listed"])
        for name, title in world.titles.items():
            one = client.get(f"/cases/{code}/documents", query_string={"q": title})
            expected_events["document.list"] += 1
            assert _count(one.text) in (0, 1)
            if _count(one.text) == 1:
                assert f'">{title}</a>' in one.text
                out["found"].add(name)
            else:
                # (the search box repeats what was typed; no row names the document)
                assert "Inga dokument att visa" in one.text and f'">{title}</a>' not in one.text
    else:
        assert not any(title in listing.text for title in world.titles.values())

    for name, document in world.docs.items():
        page = client.get(f"/cases/{code}/documents/{document.id}")
        assert page.status_code in (200, 403, 404), (name, page.status_code)
        if page.status_code == 200:
            expected_events["document.previewed"] += 1
            assert world.titles[name] in page.text
            out["pages"].add(name)
            if 'src="data:image/png;base64,' in page.text:
                out["previews"].add(name)
        else:
            assert world.titles[name] not in page.text
        download = client.get(f"/cases/{code}/documents/{document.id}/v1")
        assert download.status_code in (200, 403, 404), (name, download.status_code)
        if download.status_code == 200:
            expected_events["document.downloaded"] += 1
            assert download.data == world.bodies[name]
            assert download.headers["Content-Disposition"].startswith("attachment")
            out["downloads"].add(name)
        else:
            assert world.bodies[name] not in download.data

    pdf = client.get(f"/cases/{code}/plan.pdf")
    out["pdf_status"] = pdf.status_code
    if pdf.status_code == 200:
        text = _pdf_text(pdf.data)
        assert code in text, "the PDF's text is read"
        out["pdf"] = {name for name, title in world.titles.items() if title in text}

    assert _events(db, user, first) == {k: v for k, v in expected_events.items() if v}, \
        "one event per allowed read, none for a refusal"
    return out


def _setup(world, who: str):
    f = world.factory
    if who == "coordinator":
        return world.coordinator
    if who.startswith("police"):
        user = f.user(roles=("partner",), agency=world.police)
        if who == "police_identity_consent":
            world.consent(world.police, ["identity"])
        elif who == "police_expired_consent":
            yesterday = date.today() - timedelta(days=1)
            world.consent(world.police, ["identity", "threat_assessment", "protection_plan", "support_plan"],
                          given_on=yesterday - timedelta(days=100), valid_until=yesterday)
        elif who == "police_emergency":
            world.emergency(user)
        return user
    if who.startswith("housing"):
        user = f.user(roles=("partner",), agency=world.housing)
        if who == "housing_identity_consent":
            world.consent(world.housing, ["identity", "threat_assessment", "protection_plan", "support_plan"])
        return user
    if who == "partner_not_on_team":
        user = f.user(roles=("partner",), kind="police")
        # Even a consent and an emergency access of its own do not open a case its agency is not on.
        world.consent(user.agency, ["identity", "threat_assessment", "protection_plan", "support_plan"])
        world.emergency(user)
        return user
    if who == "other_coordinator":
        return f.user(roles=("coordinator",), agency=world.social)
    return f.user(roles=(who,), kind="social_services")


#: who -> the documents they read (None: the case itself is refused, 403 on every page).
SCENARIOS = {
    "coordinator": ALL,
    # A signed consent form names the person: an identity consent opens it and identity documents.
    "police_identity_consent": {"consent", "identity"},
    "police_no_consent": set(),
    "police_expired_consent": set(),
    # Emergency access opens the threat and the protection part of the plan, never the support part, consent
    # forms, identity documents or notes (policies/policy.csv, app/security/conditions.py).
    "police_emergency": {"threat", "protection"},
    # Housing: its own plan item's documents always; identity documents under consent; nothing else, ever.
    "housing_no_consent": {"support"},
    "housing_identity_consent": {"identity", "support"},
    "partner_not_on_team": None,
    "other_coordinator": None,
    "admin": None,
    "auditor": None,
    "analyst": None,
    "process_leader": None,
    "reporter": None,
}


@pytest.mark.parametrize("who", list(SCENARIOS))
def test_each_user_reads_exactly_the_documents_policy_and_consent_allow(client, db, world, who):
    user = _setup(world, who)
    sign_in(client, user)
    seen = read_documents(client, db, world, user)
    expected = SCENARIOS[who]
    if expected is None:
        assert seen["list_status"] == 403 and seen["pdf_status"] == 403, seen
        assert seen["pages"] == seen["downloads"] == set(), seen
        return
    assert seen["list_status"] == 200 and seen["pdf_status"] == 200, seen
    assert seen["listed"] == expected, "titles in the list"
    assert seen["found"] == expected, "titles found by the search"
    assert seen["pages"] == expected, "document pages"
    assert seen["downloads"] == expected, "downloads"
    assert seen["previews"] == expected & {"threat"}, "the image is previewed wherever it may be read"
    assert seen["pdf"] == expected & PLAN_DOCS, "plan documents the plan PDF names"


def test_a_consent_withdrawn_mid_session_ends_document_access_on_the_next_request(app, client, db, world):
    from app.cases import records

    consent = world.consent(world.police, ["identity", "protection_plan"])
    officer = world.factory.user(roles=("partner",), agency=world.police)
    sign_in(client, officer)
    before = read_documents(client, db, world, officer)
    assert before["listed"] == before["downloads"] == {"consent", "identity", "protection"}
    assert before["pdf"] == {"protection"}
    with app.test_request_context():
        records.withdraw_consent(world.case, consent, world.coordinator)
    db.flush()
    after = read_documents(client, db, world, officer)  # the same logged-in client
    assert after["list_status"] == 200
    assert after["listed"] == after["found"] == after["pages"] == after["downloads"] == after["pdf"] == set(), after
