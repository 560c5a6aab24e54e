"""The declarative base shared by every model, and the column types they agree on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, UnaryExpression, literal_column
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute
from sqlalchemy.types import TypeDecorator

# Named constraints let Alembic alter and drop them, on SQLite too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The queue taken first, open around the clock (SPEC §6).
URGENT = "urgent"


def urgent_first(queue: QueryableAttribute[Any]) -> UnaryExpression[bool]:
    """The first key of the order waiting work is taken in: the urgent queue's first.
    Written with the literal, not a bound parameter, so that a query's ORDER BY is the
    expression its index holds and the database reads the work off the index in turn,
    stopping at the first row that fits, instead of sorting all of it."""
    return (queue == literal_column(f"'{URGENT}'")).self_group().desc()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_in(column: str, values: Iterable[str]) -> str:
    """SQL for a CHECK constraint that keeps an enum-like column to its values."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def enum_column(enum: type[StrEnum], length: int = 16) -> Enum:
    """A VARCHAR holding an enum's values, read back as its members. The CHECK is
    declared beside it with ``check_in``, named by our convention, so that Alembic
    and the schema test can see it."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
