"""One way to name what pydantic refused: the place, then the reason.

Settings, the flow file and the import file all report through here, so an
operator reads ``menus.main.options.7.queue: unknown queue 'money'`` or
``customers[2].phone: not a valid number`` the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError


def place(location: tuple[int | str, ...], name: Callable[[str], str] = str) -> str:
    """``('customers', 2, 'phone')`` → ``customers[2].phone``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{name(part)}" if text else name(part)
    return text


def problems(
    exc: ValidationError, *, top: str = "(top level)", name: Callable[[str], str] = str
) -> list[str]:
    """One line per error. Inputs are never repeated: they may hold PINs."""
    return [
        f"{place(error['loc'], name) or top}: {error['msg'].removeprefix('Value error, ')}"
        for error in exc.errors()
    ]
