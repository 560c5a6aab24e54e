"""Recordings kept in files while the database cannot take them, and put there later.

A caller's message must never be lost because the database is down or slow: its
details (Twilio keeps the audio) are written here first, one JSON file per recording,
atomically (a temporary file, fsync, rename, fsync of the directory), so that a crash
leaves the whole entry or none. ``replay`` then moves entries into the database, oldest
first: at start-up, after any webhook that reached the database, and on ``flask spool
replay``. The voicemail's unique recording SID makes a replay that runs twice, or on
two servers at once, one voicemail. The file holds the caller's number, needed to call
back; logs never show it whole.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
from flask import Blueprint, current_app
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from calls.context import find_or_open_call
from flowfile.vocabulary import Language
from models import CallEvent, Voicemail
from models.calls import Call, CallStage
from models.db import database
from models.queueing import FollowUpStatus
from telephony.params import VoiceParams

log = logging.getLogger(__name__)

bp = Blueprint("spool", __name__, cli_group="spool")
REPLAY_PER_REQUEST = 5


class SpooledRecording(BaseModel):
    """What Hotline needs of a Record action to make it a voicemail later."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    call_sid: str = Field(min_length=1, max_length=64)
    caller: str = Field(max_length=64)  # From, as Twilio sent it: to call the caller back
    called: str = Field(max_length=64)
    recording_url: str = Field(min_length=1, max_length=500)
    recording_sid: str = Field(min_length=1, max_length=64)
    duration_seconds: int | None = None
    recorded_at: AwareDatetime

    @classmethod
    def of(cls, params: VoiceParams, now: datetime) -> SpooledRecording:
        """From a Record action's parameters; ValidationError when they hold no recording."""
        return cls(
            call_sid=params.call_sid,
            caller=params.from_[:64],
            called=params.to[:64],
            recording_url=params.recording_url,
            # Twilio always sends the SID; a recording's URL ends with it anyway.
            recording_sid=params.recording_sid or params.recording_url.rsplit("/", 1)[-1],
            duration_seconds=params.recording_duration,
            recorded_at=now,
        )


class Spool:
    """A directory of recordings waiting for the database."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def keep(self, recording: SpooledRecording) -> Path:
        """Write ``recording`` durably; the same recording again replaces its file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(recording.recording_sid.encode()).hexdigest()[:40]
        path = self.directory / f"{name}.json"
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(recording.model_dump_json().encode())
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
        return path

    def pending(self) -> list[Path]:
        """Entries waiting, oldest first."""
        if not self.directory.is_dir():
            return []
        entries = []
        for path in self.directory.glob("*.json"):
            try:
                entries.append((path.stat().st_mtime_ns, path))
            except FileNotFoundError:  # replayed by another process just now
                continue
        return [path for _, path in sorted(entries)]

    def replay(
        self,
        sessions: Callable[[], Session],
        *,
        region: str,
        language: Language,
        entries: list[Path] | None = None,
        replayed: Callable[[Path], None] = lambda _: None,
    ) -> int:
        """Move ``entries`` (all pending by default) into the database, each in its own
        transaction; stop at the first the database refuses (it is down again), leaving
        that one and the rest for later. Returns how many were moved."""
        moved = 0
        for path in self.pending() if entries is None else entries:
            recording = self._read(path)
            if recording is None:
                continue
            try:
                with sessions() as session, session.begin():
                    store(session, recording, region=region, language=language)
            except IntegrityError:
                pass  # another server replayed it at the same moment: it is there
            except SQLAlchemyError as exc:
                log.warning("the spooled recordings wait: the database refused (%s)", exc)
                break
            path.unlink(missing_ok=True)
            moved += 1
            replayed(path)
        return moved

    def _read(self, path: Path) -> SpooledRecording | None:
        try:
            return SpooledRecording.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None  # replayed by another process just now
        except ValidationError:
            # Not one of ours (written atomically, it cannot be half a file): set it
            # aside for an operator rather than retry it on every request.
            path.rename(path.with_suffix(".rejected"))
            log.error("set aside %s: not a spooled recording", path.name)
            return None


def store(
    session: Session, recording: SpooledRecording, *, region: str, language: Language
) -> None:
    """The recording as a voicemail for agents, unless it is one already. A call the
    database never saw (it was down throughout) is recorded as ended."""
    exists = select(Voicemail.id).where(Voicemail.recording_sid == recording.recording_sid)
    if session.scalar(exists) is not None:
        return
    known = session.scalar(select(Call.id).where(Call.call_sid == recording.call_sid))
    params = VoiceParams.model_validate(
        {"CallSid": recording.call_sid, "From": recording.caller, "To": recording.called}
    )
    call = find_or_open_call(session, params, region, recording.recorded_at)
    if known is None:
        call.stage = CallStage.ENDED
    call.outcome = call.outcome or "voicemail"
    session.add(
        Voicemail(
            call_id=call.id,
            customer_id=call.customer_id,
            language=call.language or language,
            topic=call.queue or "general",
            recording_url=recording.recording_url,
            recording_sid=recording.recording_sid,
            duration_seconds=recording.duration_seconds,
            status=FollowUpStatus.OPEN,
            created_at=recording.recorded_at,
        )
    )
    data = {"seconds": recording.duration_seconds, "spooled": True}
    session.add(CallEvent(call=call, kind="voicemail.left", data=data, at=recording.recorded_at))


def current_spool() -> Spool:
    spool: Spool = current_app.extensions["spool"]
    return spool


def replay_pending(
    entries: list[Path] | None = None, replayed: Callable[[Path], None] = lambda _: None
) -> int:
    """Replay this app's spool (or just ``entries`` of it) into its database."""
    return current_spool().replay(
        database().sessions,
        region=current_app.extensions["settings"].default_region,
        language=current_app.extensions["flow"].default_language,
        entries=entries,
        replayed=replayed,
    )


def replay_some() -> None:
    """After a webhook that reached the database: a few entries, so that the first calls
    after an outage carry the spool in without slowing any one of them much."""
    entries = current_spool().pending()[:REPLAY_PER_REQUEST]
    if entries:
        try:
            replay_pending(entries)
        except Exception:  # noqa: BLE001 - the webhook has its answer; the spool waits
            log.exception("replaying the spool failed; it waits for the next request")


@bp.cli.command("replay")
def replay_command() -> None:
    """Put recordings kept while the database was down into it, as voicemails."""
    spool = current_spool()
    entries = spool.pending()
    click.echo(f"{len(entries)} recording(s) waiting in {spool.directory}")
    with click.progressbar(length=len(entries), label="replaying") as bar:
        moved = replay_pending(entries, replayed=lambda _: bar.update(1))
    click.echo(f"{moved} now in the database")
    if moved < len(entries):
        raise click.ClickException(
            f"{len(entries) - moved} still waiting: the database refused (see the log);"
            " run this again once it is back"
        )
