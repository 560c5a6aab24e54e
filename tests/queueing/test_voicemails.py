"""Voicemails as agents' work: who may handle one, in what order, what the desk shows of
it, taking, giving back and finishing it (races settled in SQL), and its recording,
fetched by Hotline from Twilio with the account's credentials."""

from __future__ import annotations

import io
import itertools
import threading
import wave
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models import Agent, Call, Voicemail
from models.calls import CallStage
from models.queueing import FollowUpStatus
from queueing.voicemails import (
    mark_voicemail_done,
    open_voicemails,
    recording_audio,
    release_voicemail,
    take_voicemail,
)
from telephony.simulator import RestStandIn, Switch
from tests.conftest import ACCOUNT_SID, OPEN_HOURS
from tests.demo import customer

pytestmark = pytest.mark.usefixtures("demo")

WANG = customer(language="zh")
EMILY = customer(language="en")
LATER = timedelta(minutes=1)
_numbers = itertools.count(1)


def leave(
    db: Session,
    topic: str = "funds",
    language: str = "zh",
    *,
    customer_id: str | None = None,
    caller: str | None = "+8613812345678",
    at_minute: int = 0,
    seconds: int = 9,
) -> Voicemail:
    """A voicemail as the call flow leaves it: on the caller's call, recorded by Twilio."""
    number = next(_numbers)
    call = Call(
        call_sid=f"CA{number:032x}",
        caller=caller,
        started_at=OPEN_HOURS,
        stage=CallStage.ENDED,
        language=language,
        queue=topic,
        customer_id=customer_id,
        verified=customer_id is not None,
    )
    db.add(call)
    db.flush()
    recording_sid = f"RE{number:032x}"
    voicemail = Voicemail(
        call_id=call.id,
        customer_id=customer_id,
        language=language,
        topic=topic,
        recording_url=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
        f"/Recordings/{recording_sid}",
        recording_sid=recording_sid,
        duration_seconds=seconds,
        status=FollowUpStatus.OPEN,
        created_at=OPEN_HOURS + timedelta(minutes=at_minute),
    )
    db.add(voicemail)
    db.commit()
    return voicemail


def agent(db: Session, agent_id: str) -> Agent:
    found = db.get(Agent, agent_id)
    assert found is not None
    return found


def seen_by(db: Session, agent_id: str) -> list[int]:
    db.rollback()
    return [view.id for view in open_voicemails(db, agent(db, agent_id))]


def test_agents_who_may_handle_the_topic_and_language_see_a_voicemail_others_do_not(
    db: Session,
) -> None:
    funds_zh = leave(db, "funds", "zh").id
    transactions_en = leave(db, "transactions", "en").id
    general_zh = leave(db, "general", "zh").id
    # 李娜: every branch, both languages; 陈刚: account and funds, Mandarin;
    # Sarah Lin: transactions and guides, English; 王芳: funds and transactions, both.
    assert seen_by(db, "A01") == [funds_zh, transactions_en, general_zh]
    assert seen_by(db, "A02") == [funds_zh, general_zh]
    assert seen_by(db, "A03") == [transactions_en]
    assert seen_by(db, "A04") == [funds_zh, transactions_en, general_zh]


def test_urgent_voicemails_come_first_then_the_oldest(db: Session) -> None:
    newer = leave(db, "general", at_minute=5).id
    older = leave(db, "general", at_minute=1).id
    urgent = leave(db, "urgent", at_minute=9).id
    assert seen_by(db, "A01") == [urgent, older, newer]


def test_the_desk_sees_who_left_it_with_the_number_masked(db: Session) -> None:
    verified = leave(db, "funds", "zh", customer_id=WANG["id"], caller="+8613800138000")
    unverified = leave(db, "funds", "en", caller="+8613712345678", at_minute=1, seconds=30)
    withheld = leave(db, "funds", "zh", caller=None, at_minute=2)
    views = {view.id: view for view in open_voicemails(db, agent(db, "A01"))}
    assert views[verified.id].verified and views[verified.id].customer_name == WANG["name"]
    assert views[verified.id].number == "+86*******8000"
    assert not views[unverified.id].verified and views[unverified.id].customer_name is None
    view = views[unverified.id]
    assert (view.number, view.topic, view.language) == ("+86*******5678", "funds", "en")
    assert (view.left_at, view.duration_seconds, view.taken_at) == (OPEN_HOURS + LATER, 30, None)
    assert views[withheld.id].number is None


def take_at_once(engine: Engine, agent_ids: list[str], voicemail_id: int) -> dict[str, bool]:
    """Each agent takes the voicemail in a session and on a thread of their own, all
    released together; what each was told."""
    start = threading.Barrier(len(agent_ids))
    won: dict[str, bool] = {}
    errors: list[BaseException] = []

    def take(agent_id: str) -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                taker = agent(session, agent_id)
                session.commit()  # no transaction held while waiting for the others
                start.wait()
                won[agent_id] = take_voicemail(session, taker, voicemail_id, OPEN_HOURS)
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(each,)) for each in agent_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    return won


def test_two_agents_taking_one_voicemail_at_once_one_wins(db: Session, engine: Engine) -> None:
    for minute in range(4):
        voicemail = leave(db, "funds", "zh", at_minute=minute).id
        won = take_at_once(engine, ["A01", "A04"], voicemail)
        assert sorted(won.values()) == [False, True]
        [winner] = [each for each, took in won.items() if took]
        db.rollback()
        assert (
            db.scalars(select(Voicemail.taken_by).where(Voicemail.id == voicemail)).one() == winner
        )


def test_a_taken_voicemail_is_the_takers_until_they_give_it_back(db: Session) -> None:
    voicemail = leave(db, "funds", "zh").id
    lina, fang = agent(db, "A01"), agent(db, "A04")
    assert take_voicemail(db, lina, voicemail, OPEN_HOURS + LATER)
    assert not take_voicemail(db, lina, voicemail, OPEN_HOURS + LATER)  # hers already
    assert [view.taken_at for view in open_voicemails(db, lina)] == [OPEN_HOURS + LATER]
    assert open_voicemails(db, fang) == []
    assert not take_voicemail(db, fang, voicemail, OPEN_HOURS)
    assert not mark_voicemail_done(db, fang, voicemail, OPEN_HOURS)
    assert not release_voicemail(db, fang, voicemail)
    assert release_voicemail(db, lina, voicemail)
    assert [view.id for view in open_voicemails(db, fang)] == [voicemail]
    assert take_voicemail(db, fang, voicemail, OPEN_HOURS)


def test_an_agent_may_not_take_or_finish_what_is_not_for_them(db: Session) -> None:
    voicemail = leave(db, "funds", "zh").id
    sarah = agent(db, "A03")  # transactions and guides, in English
    assert not take_voicemail(db, sarah, voicemail, OPEN_HOURS)
    assert not mark_voicemail_done(db, sarah, voicemail, OPEN_HOURS)
    assert not take_voicemail(db, sarah, voicemail + 1000, OPEN_HOURS)  # no such voicemail


def test_done_is_final(db: Session) -> None:
    voicemail = leave(db, "funds", "zh").id
    lina, fang = agent(db, "A01"), agent(db, "A04")
    assert take_voicemail(db, lina, voicemail, OPEN_HOURS)
    assert mark_voicemail_done(db, lina, voicemail, OPEN_HOURS + LATER)
    assert not mark_voicemail_done(db, lina, voicemail, OPEN_HOURS + 2 * LATER)
    assert not release_voicemail(db, lina, voicemail)
    assert not take_voicemail(db, fang, voicemail, OPEN_HOURS)
    assert open_voicemails(db, lina) == open_voicemails(db, fang) == []
    db.rollback()
    done = db.get(Voicemail, voicemail)
    assert done is not None and done.status == FollowUpStatus.DONE
    assert (done.done_by, done.done_at, done.taken_by) == ("A01", OPEN_HOURS + LATER, "A01")


def test_a_voicemail_nobody_took_may_be_marked_done_at_once(db: Session) -> None:
    voicemail = leave(db, "general", "zh").id
    assert mark_voicemail_done(db, agent(db, "A02"), voicemail, OPEN_HOURS)
    assert seen_by(db, "A01") == []


def test_the_recording_is_fetched_with_the_accounts_credentials_for_who_may_handle_it(
    app: Flask, db: Session, switch: Switch, twilio_api: RestStandIn
) -> None:
    voicemail = leave(db, "funds", "zh", seconds=4)
    assert voicemail.recording_sid is not None
    switch.recordings[voicemail.recording_sid] = 4
    gateway = app.extensions["twilio"]
    assert recording_audio(db, agent(db, "A03"), voicemail.id, gateway) is None
    assert twilio_api.requests == []  # not hers to hear: nothing asked of Twilio
    audio = recording_audio(db, agent(db, "A02"), voicemail.id, gateway)
    assert audio is not None and audio.content_type == "audio/x-wav"
    with wave.open(io.BytesIO(audio.data)) as wav:
        assert wav.getnframes() == 4 * wav.getframerate()
    [request] = twilio_api.requests
    assert request.username == ACCOUNT_SID and request.method == "GET"
    assert request.path == voicemail.recording_url.removeprefix("https://api.twilio.com")


def test_a_voicemail_left_on_a_call_is_work_whose_recording_plays(
    app: Flask,
    phone,
    db: Session,
    twilio_api: RestStandIn,  # noqa: ANN001
) -> None:
    call = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("2").press("0")
    )
    call.hold(seconds=600).press("1").leave_message(duration=6)
    assert "We have your message" in call.text
    lina, gang = agent(db, "A01"), agent(db, "A02")
    assert open_voicemails(db, gang) == []  # Mandarin only: not Emily's
    [view] = open_voicemails(db, lina)
    assert (view.verified, view.customer_name, view.topic, view.language) == (
        True,
        EMILY["name"],
        "funds",
        "en",
    )
    assert view.number == EMILY["phone"][:3] + "*" * 7 + EMILY["phone"][-4:]
    assert take_voicemail(db, lina, view.id, OPEN_HOURS)
    audio = recording_audio(db, lina, view.id, app.extensions["twilio"])
    assert audio is not None
    with wave.open(io.BytesIO(audio.data)) as wav:
        assert wav.getnframes() == 6 * wav.getframerate()
    fetches = [r for r in twilio_api.requests if "/Recordings/" in r.path]
    assert [(r.method, r.username) for r in fetches] == [("GET", ACCOUNT_SID)]
    assert mark_voicemail_done(db, lina, view.id, OPEN_HOURS + LATER)
    assert open_voicemails(db, lina) == []
    assert db.scalars(select(Voicemail.status)).one() == FollowUpStatus.DONE
