"""The cross-call lockout: N failures in a row lock a subject's verification, a
customer's PIN or SMS code, an agent's PIN or desk password, an operator's password.

Every change is one conditional statement, so the database settles races: when
several calls guess at once, each attempt first reserves a slot by counting
itself as a failure, and no more than the limit can ever be reserved before
the lock. A success gives the slot back by clearing the count; a PIN already found
right when its slot is reserved clears it in that same statement instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Executable,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import VerificationGuard as Guard
from models.base import UTCDateTime
from models.db import changed, commit_durably


def customer(customer_id: str) -> str:
    return f"customer:{customer_id}"


def agent(agent_id: str) -> str:
    return f"agent:{agent_id}"


def agent_line_stranger(number_digest: str) -> str:
    """A number on the agent line that is no agent's, by a keyed hash of it: its PINs
    are counted as an agent's are, so that they cost the same, though none can match."""
    return f"agent-line:{number_digest}"


def number(claim: str) -> str:
    """A number claimed at verification that is nobody's, by its keyed hash: guessing
    at it costs the same writes, and locks the same way, as guessing at a customer."""
    return f"number:{claim.rpartition('$')[2][:64]}"


def sms_code(customer_id: str) -> str:
    """A customer's SMS code in flight: held while it is live, so only one is."""
    return f"sms:{customer_id}"


def desk(agent_id: str) -> str:
    """The agent's desk password: counted apart from their PIN."""
    return f"desk:{agent_id}"


def operator(name: str) -> str:
    """An operator's /admin password, by the name they sign in with."""
    return f"operator:{name}"


_TABLE = cast(Table, Guard.__table__)


def _upsert(
    session: Session, subject: str, first: dict[str, Any]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT of the subject's first row, ``first``; the caller adds what a row already
    there becomes (ON CONFLICT DO UPDATE). One statement either way: a subject nobody
    has guessed at costs what any other does."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(Guard).values(subject=subject, **first)
    return sqlite.insert(Guard).values(subject=subject, **first)


def _reservation(insert: postgresql.Insert | sqlite.Insert) -> Executable:
    """``reserve_attempt``'s upsert (as ``_upsert``), built once per dialect with its
    values bound: what the subject's row becomes, and (RETURNING) its count then, when
    the lock lets the attempt count; no row when it does not."""
    now, limit = bindparam("now", type_=UTCDateTime), bindparam("limit", type_=Integer)
    # A lock that has run out starts a fresh count.
    counted = case((Guard.locked_until <= now, 0), else_=Guard.consecutive_failures)
    ends_run = and_(bindparam("right", type_=Boolean), counted < limit)
    upsert = insert.values(
        subject=bindparam("new_subject"),
        consecutive_failures=bindparam("first_count"),
        locked_until=bindparam("first_lock", type_=UTCDateTime),
    )
    return upsert.on_conflict_do_update(
        index_elements=[Guard.subject],
        set_={
            "consecutive_failures": case((ends_run, 0), else_=counted + 1),
            "locked_until": case(
                (or_(ends_run, counted + 1 < limit), None),
                else_=bindparam("lock_until", type_=UTCDateTime),
            ),
        },
        where=or_(Guard.locked_until.is_(None), Guard.locked_until <= now),
    ).returning(Guard.consecutive_failures)


_RESERVE = {
    "postgresql": _reservation(postgresql.insert(_TABLE)),
    "sqlite": _reservation(sqlite.insert(_TABLE)),
}
_CLEAR = (
    update(_TABLE)
    .where(_TABLE.c.subject == bindparam("cleared"))
    .values(consecutive_failures=0, locked_until=None)
)


def is_locked(session: Session, subject: str, now: datetime) -> bool:
    locked_until = session.scalar(select(Guard.locked_until).where(Guard.subject == subject))
    return locked_until is not None and locked_until > now


def reserve_attempt(
    session: Session,
    subject: str,
    *,
    limit: int,
    lock_for: timedelta,
    now: datetime,
    right: bool = False,
) -> bool:
    """Count one attempt in advance; False when the subject is locked.

    The attempt that reaches the limit sets the lock in the same statement, so
    a process that dies before learning the result still leaves the lock in place.
    An attempt already known to be ``right`` (a PIN checked against its hash) ends the
    run of failures instead, in the same statement, when the lock lets it count: what
    ``clear`` would do after it, in one round trip.
    """
    commit_durably(session)  # a count lost in a crash would give a guesser attempts back
    # A run at or over the limit with no lock, which only a limit lowered since it was
    # counted leaves, would refuse every attempt for good if it refused them as a lock
    # does: it is locked for one period from now, as if it had just reached the limit,
    # and the attempt it refuses is counted over the limit (as no other can be), which
    # is how the count returned tells it from one that counts. While the lock holds,
    # the count decides nothing; once it has run out, a fresh one starts.
    count = session.execute(
        _RESERVE[session.get_bind().dialect.name],
        {
            "new_subject": subject,
            "first_count": 0 if right else 1,
            "first_lock": None if right or limit > 1 else now + lock_for,
            "now": now,
            "limit": limit,
            "right": right,
            "lock_until": now + lock_for,
        },
    ).scalar()
    return count is not None and count <= limit


def hold(session: Session, subject: str, *, until: datetime, now: datetime) -> bool:
    """Take ``subject`` until ``until`` unless it is held now; True when this call took
    it. One statement, so of several calls at once only one can."""
    commit_durably(session)  # a hold lost in a crash would let a second one be taken
    upsert = _upsert(session, subject, {"consecutive_failures": 0, "locked_until": until})
    taken = changed(
        session,
        upsert.on_conflict_do_update(
            index_elements=[Guard.subject],
            set_={"locked_until": until},
            where=or_(Guard.locked_until.is_(None), Guard.locked_until <= now),
        ),
    )
    return taken == 1


def clear(session: Session, subject: str) -> None:
    """A correct PIN or code ends the run of failures (or gives back a hold)."""
    session.execute(_CLEAR, {"cleared": subject})
