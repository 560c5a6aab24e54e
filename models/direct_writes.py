"""A step's writes without the ORM's unit of work, where it costs more than it gives.

Nearly every webhook ends the same way: the call's row (or an agent's leg), loaded at
the start, has a few columns changed, and a few events join the call's history. The
unit of work spends more of a webhook's time deciding that (sorting mappers, collecting
states, building statements) than the database spends doing it. ``before_flush`` here
writes those changes itself, as the unit of work would write them: one UPDATE a row of
its changed columns only, checked against the row's version where the mapper keeps one
(``version_id_col``, raising ``StaleDataError`` as the ORM does), then the new events in
one INSERT (and a PIN step's verification attempt in another). It then marks those
objects clean, so that the flush has nothing left to do.

Anything else (a new row of another kind, a delete, a relationship changed, a column
with an ``onupdate``, a SQL expression assigned to an attribute) is left to the unit
of work; if the session holds a new row other than an event or an attempt, the whole
flush is, so that rows are still written in the order their foreign keys need.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Column,
    Connection,
    Table,
    Update,
    and_,
    bindparam,
    event,
    insert,
    inspect,
    update,
)
from sqlalchemy.orm import (
    ColumnProperty,
    InstanceState,
    Mapper,
    Session,
    UOWTransaction,
    sessionmaker,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import ClauseElement

from models.calls import CallEvent
from models.verification import VerificationAttempt

# The new rows the flush inserts itself, by kind, and what each holds besides its id
# (every new one gives them all): a call's history, its events and its verification
# attempts, which the step that adds them never reads back.
_HISTORY: dict[type[Any], tuple[str, ...]] = {
    CallEvent: ("call_id", "at", "kind", "data"),
    VerificationAttempt: ("call_id", "customer_id", "method", "outcome", "at"),
}
_INSERTS = {kind: insert(cast(Table, kind.__table__)) for kind in _HISTORY}
# UPDATE statements by mapper and changed columns: built once, so that SQLAlchemy finds
# each compiled in its cache without building and hashing a new statement every time.
_UPDATES: dict[tuple[Mapper[Any], frozenset[str]], Update] = {}


def write_directly(sessions: sessionmaker[Session]) -> None:
    """Have ``sessions`` (a sessionmaker) write a step's simple changes themselves."""
    event.listen(sessions, "before_flush", _before_flush)


def _before_flush(session: Session, _context: UOWTransaction, objects: Any) -> None:
    if objects is not None or session.deleted:
        return
    added = list(session.new)
    if not all(type(new) in _HISTORY and new.call_id is not None for new in added):
        return
    connection = session.connection()
    for dirty in list(session.dirty):
        state = inspect(dirty)
        changes = _column_changes(state)
        if changes is None:
            continue  # the unit of work's to write
        if changes:
            _update(connection, state, changes)
        state._commit_all(state.dict, session.identity_map)  # written: nothing to flush
    # In the order the step recorded them: the history reads them by id.
    added.sort(key=lambda new: inspect(new).insert_order)
    for kind, columns in _HISTORY.items():
        rows = [
            {name: getattr(new, name) for name in columns} for new in added if type(new) is kind
        ]
        if rows:
            connection.execute(_INSERTS[kind], rows)
    for new in added:
        session.expunge(new)


def _column_changes(state: InstanceState[Any]) -> dict[str, Any] | None:
    """The changed columns of a loaded row and their new values (none: nothing to
    write); None if the unit of work must write it."""
    mapper = state.mapper
    if len(mapper.primary_key) != 1 or _has_onupdate(mapper):
        return None
    changes: dict[str, Any] = {}
    for key, before in state.committed_state.items():
        prop = mapper.attrs[key]
        if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1:
            return None
        value = state.dict.get(key)
        if isinstance(value, ClauseElement):
            return None
        column = prop.columns[0]
        if not isinstance(column, Column) or column.primary_key:
            return None
        if value != before:
            changes[column.key] = value
    return changes


@cache
def _has_onupdate(mapper: Mapper[Any]) -> bool:
    return any(
        column.onupdate is not None or column.server_onupdate is not None
        for column in mapper.local_table.columns
    )


def _update(connection: Connection, state: InstanceState[Any], changes: dict[str, Any]) -> None:
    mapper = state.mapper
    version = _version(mapper)
    params = {f"new_{name}": value for name, value in changes.items()}
    params["row_key"] = mapper.primary_key_from_instance(state.obj())[0]
    if version is not None:
        attribute = mapper.get_property_by_column(version).key
        params["row_version"] = state.dict[attribute]
        params[f"new_{version.key}"] = state.dict[attribute] + 1
    result = connection.execute(_statement(mapper, frozenset(changes)), params)
    if result.rowcount != 1:
        # What the unit of work raises when a versioned row changed under it.
        raise StaleDataError(
            f"UPDATE statement on table '{_table(mapper).name}' expected to update"
            f" 1 row(s); {result.rowcount} were matched."
        )
    if version is not None:
        state.dict[attribute] = params[f"new_{version.key}"]


def _statement(mapper: Mapper[Any], names: frozenset[str]) -> Update:
    key = (mapper, names)
    statement = _UPDATES.get(key)
    if statement is None:
        table = _table(mapper)
        (primary,) = mapper.primary_key
        where = primary == bindparam("row_key")
        version = _version(mapper)
        written = set(names)
        if version is not None:
            where = and_(where, version == bindparam("row_version"))
            written.add(version.key)
        values: dict[Any, Any] = {
            table.c[name]: bindparam(f"new_{name}") for name in sorted(written)
        }
        statement = _UPDATES[key] = update(table).where(where).values(values)
    return statement


def _table(mapper: Mapper[Any]) -> Table:
    return cast(Table, mapper.local_table)


def _version(mapper: Mapper[Any]) -> Column[int] | None:
    return cast("Column[int] | None", mapper.version_id_col)
