"""Reading a flow file: YAML, then the schema, then the graph checks; every problem
named by its place so an operator can fix the file without reading code."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import yaml
from pydantic import ValidationError

from flowfile.flow import Flow
from flowfile.lint import graph_problems
from validation import problems

DEFAULT_FLOW_FILE = Path(__file__).resolve().parent / "default_flow.yaml"


# libyaml's safe loader where PyYAML was built with it (ten times as fast: every app
# and every test app reads the flow), else the pure-Python one; both load the same.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FlowError(Exception):
    """The flow file is unusable; the message names the file and the place."""


def load_flow(path: Path, *, answers: Collection[str]) -> Flow:
    """The flow in ``path``; ``answers`` are the self-service answers the application has."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except OSError as exc:
        raise FlowError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise FlowError(f"{path}: not valid YAML: {exc}") from None
    try:
        flow = Flow.model_validate(raw, context={"answers": frozenset(answers)})
    except ValidationError as exc:
        raise FlowError(_listing(path, problems(exc))) from None
    found = graph_problems(flow)
    if found:
        raise FlowError(_listing(path, found))
    return flow


def _listing(path: Path, lines: list[str]) -> str:
    return f"{path}:\n  " + "\n  ".join(lines)
