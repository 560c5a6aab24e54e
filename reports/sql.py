"""What the figures ask of the database, said once: a call's branch, which calls came in,
which talked to an agent, and the seconds between two moments on either database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, String, and_, case, exists, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from flowfile.flow import Flow
from models import Call, CallbackAttempt, CallEvent

# The branch of a call that never reached a menu (it hung up at the greeting or during
# verification, or went to an agent from there).
NO_BRANCH = "none"
# Steps that gave the caller what they called for without an agent (callflows.journey).
ANSWER_KINDS = ("answer.given", "info.given")


class seconds_between(FunctionElement[float]):  # noqa: N801 - used as SQL functions are
    """``later - earlier`` in seconds, NULL when either is NULL."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _sqlite_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _postgresql_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


class greatest(FunctionElement[float]):  # noqa: N801 - used as SQL functions are
    """The greatest of its arguments (none of them NULL)."""

    type = Float()
    inherit_cache = True


class least(FunctionElement[float]):  # noqa: N801 - used as SQL functions are
    """The least of its arguments (none of them NULL)."""

    type = Float()
    inherit_cache = True


# SQLite's max() and min() with several arguments are PostgreSQL's GREATEST and LEAST.
@compiles(greatest, "sqlite")
@compiles(least, "sqlite")
@compiles(greatest, "postgresql")
@compiles(least, "postgresql")
def _extreme(element: greatest | least, compiler: SQLCompiler, **kw: Any) -> str:
    names = {"sqlite": ("max", "min"), "postgresql": ("GREATEST", "LEAST")}
    name = names[compiler.dialect.name][isinstance(element, least)]
    arguments = ", ".join(compiler.process(clause, **kw) for clause in element.clauses)
    return f"{name}({arguments})"


def branch(flow: Flow) -> ColumnElement[str]:
    """The queue the call waited in; for a call that never queued, the queue its last
    menu leads to (``Flow.menu_queue``); ``NO_BRANCH`` for a call that reached no menu.
    A menu the flow no longer has counts under the general queue, as callers there would."""
    by_menu = {menu: flow.menu_queue(menu) for menu in flow.menus}
    from_menu = case(
        (Call.menu.is_(None), _written(NO_BRANCH)),
        *((Call.menu == _written(menu), _written(queue)) for menu, queue in by_menu.items()),
        else_=_written("general"),
    )
    return func.coalesce(Call.queue, from_menu)


def _written(value: str) -> ColumnElement[str]:
    """A value written into the statement (quoted by the driver's rules) rather than
    bound: PostgreSQL must see the branch in GROUP BY as the very expression selected,
    and two sets of parameters would be two expressions to it."""
    return literal(value, String(), literal_execute=True)


def called_in() -> ColumnElement[bool]:
    """A call a caller made, not one Hotline placed to call a customer back."""
    return ~exists(select(CallbackAttempt.id).where(CallbackAttempt.call_sid == Call.call_sid))


def talked() -> ColumnElement[bool]:
    """Caller and agent were in the same room (queueing.conference.talked)."""
    return and_(Call.caller_joined_at.is_not(None), Call.agent_joined_at.is_not(None))


def given_an_answer() -> ColumnElement[bool]:
    return exists(
        select(CallEvent.id).where(CallEvent.call_id == Call.id, CallEvent.kind.in_(ANSWER_KINDS))
    )


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))
