"""A row read without the ORM's loading machinery, where it costs more than it gives.

Every caller's webhook begins by loading its call's row by CallSid. Through
``Session.scalars`` the ORM prepares a compile state and a loading context for that one
row every time: about a twentieth of a webhook's time under load (bench/load.py, sampled
with py-spy). ``ByKey`` reads the mapped columns through Core instead and makes the
object as the ORM's loader would: persistent in the session, its columns loaded and
unchanged (so that ``models.direct_writes`` writes only what the step changes, checked
against the version read), its relationships loaded when first used. When the session
already holds an object of that identity (a step run once more after a rollback, which
expired it), the ORM loads the row instead, refreshing that object in place, as the
session's identity map allows one object per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, Select, bindparam, inspect, select
from sqlalchemy.orm import InstrumentedAttribute, Mapper, Session
from sqlalchemy.orm.base import instance_state

T = TypeVar("T")


class ByKey(Generic[T]):
    """Loads the one ``kind`` whose unique ``column`` holds a key; statements built once."""

    def __init__(self, kind: type[T], column: InstrumentedAttribute[Any]) -> None:
        mapper: Mapper[T] = inspect(kind)
        # Every mapped attribute is read: one left out would read as None, not load.
        attributes = list(mapper.column_attrs)
        columns: list[Column[Any]] = []
        for attribute in attributes:
            (mapped,) = attribute.columns
            if not isinstance(mapped, Column):  # a SQL expression: the ORM's to load
                raise TypeError(f"{kind.__name__}.{attribute.key} is not a column of its own")
            columns.append(mapped)
        self._mapper = mapper
        self._keys = [attribute.key for attribute in attributes]
        self._primary = [
            next(n for n, column_ in enumerate(columns) if column_ is key)
            for key in mapper.primary_key
        ]
        self._core: Select[Any] = select(*columns).where(column == bindparam("key"))
        self._orm: Select[T] = select(kind).where(column == bindparam("key"))

    def one_or_none(self, session: Session, key: Any) -> T | None:
        row = session.connection().execute(self._core, {"key": key}).first()
        if row is None:
            return None
        identity = self._mapper.identity_key_from_primary_key(self._identity(row))
        if identity in session.identity_map:
            return session.scalars(self._orm, {"key": key}).one_or_none()
        loaded = self._mapper.class_manager.new_instance()
        state = instance_state(loaded)
        state.dict.update(zip(self._keys, row, strict=True))
        state.key = identity  # detached, as if loaded by another session, with no changes
        session.add(loaded)  # now persistent here
        return loaded

    def _identity(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(row[n] for n in self._primary)
