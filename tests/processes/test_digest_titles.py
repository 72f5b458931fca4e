"""Digest lines say what is due: the title where the policy allows it (digest:titles), else the process (or the
meeting) and the date; a title never reaches a recipient who may not see the item."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.processes.test_digest import TODAY, body, mails, outbox, send  # noqa: F401  (fixtures)


@pytest.fixture()
def titled(factory, processes):
    """A process with police and an NGO; a meeting whose action item goes to an agency outside the process."""
    police, ngo, school = factory.agency(kind="police"), factory.agency(kind="ngo"), factory.agency(kind="school")
    leader = factory.user(roles=("process_leader",), kind="other")
    officer = factory.user(roles=("partner",), agency=police)
    volunteer = factory.user(roles=("partner",), agency=ngo)
    teacher = factory.user(roles=("partner",), agency=school)
    process = processes.process(name="Trygg vid stationen", agencies=[police, ngo], owner=leader)
    police_ms = processes.milestone(process, agency=police, title="Kameror uppsatta", due=TODAY)
    ngo_ms = processes.milestone(process, agency=ngo, title="Nattvandring startad", due=TODAY + timedelta(days=2))
    meeting = processes.meeting(process, title="Styrgrupp stationen", attendees=[police])
    school_item = processes.action_item(meeting, agency=school, title="Skolans trygghetsenkät",
                                        due=TODAY + timedelta(days=1))
    ngo_item = processes.action_item(meeting, agency=ngo, title="Volontärer rekryterade", due=TODAY)
    return {"leader": leader, "officer": officer, "volunteer": volunteer, "teacher": teacher, "process": process,
            "police_ms": police_ms, "ngo_ms": ngo_ms, "school_item": school_item, "ngo_item": ngo_item,
            "meeting": meeting}


ALL_TITLES = ("Kameror uppsatta", "Nattvandring startad", "Skolans trygghetsenkät", "Volontärer rekryterade")


def test_a_reader_who_may_see_the_item_gets_its_title_and_process(app, db, titled, outbox):
    send(app)
    sent = mails(outbox)
    officer = body(sent[titled["officer"].email])
    assert "Delmål förfaller: Kameror uppsatta – Trygg vid stationen" in officer
    leader = body(sent[titled["leader"].email])
    assert all(title in leader for title in ALL_TITLES)


def test_an_ngo_officer_gets_the_process_and_the_date_but_no_title(app, db, titled, outbox):
    send(app)
    text = body(mails(outbox)[titled["volunteer"].email])
    assert f"Delmål förfaller: Trygg vid stationen (process {titled['process'].id}, delmål {titled['ngo_ms'].id}), " \
           f"{(TODAY + timedelta(days=2)).isoformat()}" in text
    assert "Åtgärdspunkt förfaller: Trygg vid stationen" in text
    assert not any(title in text for title in ALL_TITLES)


def test_an_owning_agency_outside_the_process_gets_the_title_and_the_meeting_not_the_process(app, db, titled,
                                                                                           outbox):
    send(app)
    text = body(mails(outbox)[titled["teacher"].email])
    assert "Åtgärdspunkt förfaller: Skolans trygghetsenkät – Styrgrupp stationen" in text
    assert "Trygg vid stationen" not in text
    assert not any(title in text for title in ALL_TITLES if title != "Skolans trygghetsenkät")


def test_no_title_reaches_a_recipient_who_may_not_see_the_item(app, db, titled, outbox, factory):
    from app.processes.models import ActionItem, Milestone
    from app.security.authz import gate
    from app.security.models import User
    from app.security.permissions import Permission

    factory.user(roles=("coordinator",), kind="social_services")
    factory.user(roles=("analyst",), kind="other")
    send(app)
    sent = mails(outbox)
    assert len(sent) >= 4
    with app.app_context():
        checks = gate()
        for address, message in sent.items():
            user = db.scalars(select(User).where(User.email == address)).one()
            text = body(message) + message["Subject"]
            for item in [*db.scalars(select(Milestone)), *db.scalars(select(ActionItem))]:
                if item.title not in text:
                    continue
                seen = item.process if isinstance(item, Milestone) else item
                view = Permission.PROCESS_VIEW if isinstance(item, Milestone) else Permission.MEETING_VIEW
                assert checks.decide(user, view, seen), (address, item.title)
                assert checks.decide(user, Permission.DIGEST_TITLES, item), (address, item.title)


@pytest.mark.engine_independent
def test_the_policy_grants_digest_titles_only_with_the_view_conditions_and_denies_ngos():
    from app.security.authz import Gate

    rules = [r for r in Gate().rules() if r[2] == "digest:titles"]
    allows = {(r[0], r[3]) for r in rules if r[4] == "allow"}
    assert allows == {("process_leader", "always"), ("coordinator", "process_participant"),
                      ("partner", "process_participant"), ("analyst", "process_participant"),
                      ("analyst", "est_meeting")}
    assert {(r[0], r[1]) for r in rules if r[4] == "deny"} == {("partner", "ngo"), ("partner", "security_company")}


def test_the_title_check_refuses_an_item_the_reader_may_not_see(app, db, titled, factory):
    from app.processes.digest import _mailed_title
    from app.security.permissions import Permission

    stranger = factory.user(roles=("partner",), kind="police")  # another police agency, not in the process
    with app.app_context():
        milestone = titled["police_ms"]
        assert _mailed_title(stranger, milestone, milestone.title, Permission.PROCESS_VIEW, milestone.process) == ""
        assert _mailed_title(titled["officer"], milestone, milestone.title, Permission.PROCESS_VIEW,
                             milestone.process) == "Kameror uppsatta"
