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

On PostgreSQL, when those writes are all the transaction has (a step's commit, with no
write before it), they go out as one statement and no transaction is begun for it: the
UPDATE in a WITH clause and the events inserted only if it matched (postgresql.org/docs/
current/queries-with.html, "Data-Modifying Statements in WITH"); or the UPDATE alone,
or one new row alone. A statement outside a transaction is one of its own, applied
whole or not at all, so this keeps what BEGIN and COMMIT gave, in one round trip
instead of three or four.

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
    Insert,
    Table,
    Update,
    and_,
    bindparam,
    event,
    exists,
    insert,
    inspect,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
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
from models.transactions import DURABLE, in_transaction
from models.verification import VerificationAttempt

# The execution option of a write that is the only statement of its transaction: models.db
# begins none for it.
ALONE = "hotline_alone"
# Session.info key: the session is committing, and its flush now is the transaction's last.
_COMMITTING = "hotline_committing"

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
# The same UPDATE with that many events after it, in one statement (PostgreSQL).
_WITH_EVENTS: dict[tuple[Mapper[Any], frozenset[str], int], Insert] = {}
_EVENTS = cast(Table, CallEvent.__table__)


def write_directly(sessions: sessionmaker[Session]) -> None:
    """Have ``sessions`` (a sessionmaker) write a step's simple changes themselves."""
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "before_commit", _committing)
    for ended in ("after_commit", "after_rollback"):  # a commit with nothing to flush
        event.listen(sessions, ended, _committed)


def _committing(session: Session) -> None:
    session.info[_COMMITTING] = True


def _committed(session: Session, *_: Any) -> None:
    session.info.pop(_COMMITTING, None)


def _before_flush(session: Session, _context: UOWTransaction, objects: Any) -> None:
    last = session.info.pop(_COMMITTING, False)
    if objects is not None or session.deleted:
        return
    added = list(session.new)
    if not all(type(new) in _HISTORY and new.call_id is not None for new in added):
        return
    connection = session.connection()
    written = []
    updates: list[tuple[InstanceState[Any], dict[str, Any]]] = []
    for dirty in list(session.dirty):
        state = inspect(dirty)
        changes = _column_changes(state)
        if changes is None:
            continue  # the unit of work's to write
        written.append(state)
        if changes:
            updates.append((state, changes))
    # In the order the step recorded them: the history reads them by id.
    added.sort(key=lambda new: inspect(new).insert_order)
    rows = {
        kind: [{name: getattr(new, name) for name in columns} for new in added if type(new) is kind]
        for kind, columns in _HISTORY.items()
    }
    events = rows[CallEvent]
    inserted = [kind for kind, kept in rows.items() if kept]
    alone = (
        last
        and connection.dialect.name == "postgresql"
        and not in_transaction(connection)
        and not connection.info.get(DURABLE, False)  # asked of a BEGIN (models.db)
    )
    if alone and len(updates) == 1 and inserted in ([], [CallEvent]):
        if events:
            _update_with_events(connection, *updates[0], events)
        else:
            _update(connection, *updates[0], {ALONE: True})
    elif alone and not updates and len(inserted) == 1 and len(rows[inserted[0]]) == 1:
        # One row, one statement: an INSERT of several would be several (executemany).
        (row,) = rows[inserted[0]]
        connection.execute(_INSERTS[inserted[0]], row, execution_options={ALONE: True})
    else:
        for state, changes in updates:
            _update(connection, state, changes)
        for kind, kept in rows.items():
            if kept:
                connection.execute(_INSERTS[kind], kept)
    for state in written:
        state._commit_all(state.dict, session.identity_map)  # written: nothing to flush
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


def _update(
    connection: Connection,
    state: InstanceState[Any],
    changes: dict[str, Any],
    options: dict[str, Any] | None = None,
) -> None:
    params = _update_params(state, changes)
    statement = _statement(state.mapper, frozenset(changes))
    result = connection.execute(statement, params, execution_options=options or {})
    _updated(state, params, result.rowcount)


def _update_with_events(
    connection: Connection,
    state: InstanceState[Any],
    changes: dict[str, Any],
    events: list[dict[str, Any]],
) -> None:
    """The UPDATE and the events after it in one statement, its transaction's only one:
    the events go in only if the row matched, so a row changed meanwhile keeps nothing."""
    params = _update_params(state, changes)
    for number, row in enumerate(events):
        params.update({f"{name}_{number}": value for name, value in row.items()})
    key = (state.mapper, frozenset(changes), len(events))
    statement = _WITH_EVENTS.get(key)
    if statement is None:
        statement = _WITH_EVENTS[key] = _with_events(*key)
    inserted = connection.execute(statement, params, execution_options={ALONE: True}).all()
    _updated(state, params, 1 if len(inserted) == len(events) else 0)


def _update_params(state: InstanceState[Any], changes: dict[str, Any]) -> dict[str, Any]:
    mapper = state.mapper
    params = {f"new_{name}": value for name, value in changes.items()}
    params["row_key"] = mapper.primary_key_from_instance(state.obj())[0]
    version = _version(mapper)
    if version is not None:
        current = state.dict[mapper.get_property_by_column(version).key]
        params["row_version"], params[f"new_{version.key}"] = current, current + 1
    return params


def _updated(state: InstanceState[Any], params: dict[str, Any], matched: int) -> None:
    """Raise as the unit of work does when a versioned row changed under it; else the
    row's new version is the object's."""
    mapper = state.mapper
    if matched != 1:
        raise StaleDataError(
            f"UPDATE statement on table '{_table(mapper).name}' expected to update"
            f" 1 row(s); {matched} were matched."
        )
    version = _version(mapper)
    if version is not None:
        state.dict[mapper.get_property_by_column(version).key] = params[f"new_{version.key}"]


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


def _with_events(mapper: Mapper[Any], names: frozenset[str], count: int) -> Insert:
    """WITH changed_row AS (UPDATE … RETURNING its key) INSERT INTO call_events … SELECT
    the ``count`` events, numbered as recorded, WHERE the row changed. Each value is
    cast to its column's type: in a SELECT list PostgreSQL cannot infer it."""
    (primary,) = mapper.primary_key
    changed_row = _statement(mapper, names).returning(primary).cte("changed_row")
    columns = _HISTORY[CallEvent]
    recorded = [
        select(
            literal(number).label("number"),
            *(
                sql_cast(
                    bindparam(f"{name}_{number}", type_=_EVENTS.c[name].type), _EVENTS.c[name].type
                ).label(name)
                for name in columns
            ),
        )
        for number in range(count)
    ]
    events = (union_all(*recorded) if count > 1 else recorded[0]).subquery("recorded")
    in_order = (
        select(*(events.c[name] for name in columns))
        .where(exists(changed_row.select()))
        .order_by(events.c.number)
    )
    return (
        insert(_EVENTS)
        .from_select(list(columns), in_order)
        .add_cte(changed_row)
        .returning(_EVENTS.c.id)
    )


def _table(mapper: Mapper[Any]) -> Table:
    return cast(Table, mapper.local_table)


def _version(mapper: Mapper[Any]) -> Column[int] | None:
    return cast("Column[int] | None", mapper.version_id_col)
