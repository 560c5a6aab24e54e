"""The shipped flow file as tests load it, and broken copies for the tests that must
refuse them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from callflows.answers import ANSWERS
from flowfile.flow import Flow
from flowfile.loader import load_flow
from settings import DEFAULT_FLOW_FILE

Change = Callable[[dict[str, Any]], None]


def shipped_flow() -> Flow:
    return load_flow(DEFAULT_FLOW_FILE, answers=ANSWERS)


def changed_flow(tmp_path: Path, change: Change) -> Path:
    """The shipped flow with ``change`` applied to its parsed form, written to a file."""
    flow = yaml.safe_load(DEFAULT_FLOW_FILE.read_text(encoding="utf-8"))
    change(flow)
    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")
    return path
