"""``flask flow check`` names every mistake in a flow file; ``flask flow graph`` draws it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from callflows.answers import ANSWERS
from flowfile.commands import bp
from flowfile.graph import mermaid
from flowfile.loader import FlowError, load_flow
from settings import DEFAULT_FLOW_FILE
from tests.flowfile.flows import changed_flow, shipped_flow


@pytest.fixture
def runner() -> FlaskCliRunner:
    """Only the flow commands, on the shipped flow: no database needed."""
    app = Flask(__name__)
    app.extensions["settings"] = type("S", (), {"flow_file": DEFAULT_FLOW_FILE})()
    app.extensions["answers"] = frozenset(ANSWERS)
    app.register_blueprint(bp)
    return app.test_cli_runner()


def test_the_shipped_flow_passes(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["flow", "check"])
    assert result.exit_code == 0
    assert "OK:" in result.output and "6 menus" in result.output


def unreachable(flow: dict[str, Any]) -> None:
    flow["menus"]["orphan"] = {
        "prompt": {"zh": "孤", "en": "orphan"},
        "options": {"1": {"do": "queue", "queue": "general"}},
    }


def two_parents(flow: dict[str, Any]) -> None:
    flow["menus"]["funds"]["options"]["4"] = {"do": "menu", "menu": "guides"}


def dead_end(flow: dict[str, Any]) -> None:
    flow["menus"]["guides"]["options"] = {}


def same_word(flow: dict[str, Any]) -> None:
    flow["menus"]["funds"]["options"]["1"]["keywords"]["en"].append("fee")
    flow["menus"]["funds"]["options"]["2"]["keywords"]["en"].append("FEE")


def global_word(flow: dict[str, Any]) -> None:
    flow["menus"]["guides"]["options"]["1"]["keywords"]["zh"].append("人工")


def main_as_target(flow: dict[str, Any]) -> None:
    flow["menus"]["guides"]["options"]["5"] = {"do": "menu", "menu": "main"}


MISTAKES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "invalid key": (
        lambda f: f["menus"]["main"]["options"].update({"a": {"do": "queue", "queue": "general"}}),
        "menus.main.options.a",
    ),
    "missing prompt translation": (
        lambda f: f["menus"]["guides"]["prompt"].pop("en"),
        "menus.guides.prompt: no en text",
    ),
    "missing say translation": (
        lambda f: f["menus"]["funds"]["options"]["1"]["text"].pop("zh"),
        "menus.funds.options.1.text: no zh text",
    ),
    "dangling branch": (
        lambda f: f["menus"]["main"]["options"]["1"].update({"menu": "acount"}),
        "menus.main.options.1.menu: no menu named 'acount'",
    ),
    "unknown queue": (
        lambda f: f["menus"]["stolen"]["options"]["1"].update({"queue": "vip"}),
        "menus.stolen.options.1.queue: unknown queue 'vip'",
    ),
    "reserved key": (
        lambda f: f["menus"]["funds"]["options"].update({"*": {"do": "queue", "queue": "funds"}}),
        "menus.funds.options.*",
    ),
    "unreachable menu": (unreachable, "menus.orphan: unreachable from the main menu"),
    "two ways back": (two_parents, "menus.guides: reached from menus.funds.options.4 and"),
    "dead end": (dead_end, "menus.guides: a dead end"),
    "clashing words": (same_word, "'FEE' is also a word of menus.funds.options.1"),
    "global word": (global_word, "'人工' is also a word of keys.agent_words"),
    "main as a target": (main_as_target, "menus.main: is the top menu"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_check_names_the_place_and_fails(
    runner: FlaskCliRunner, tmp_path: Path, mistake: str
) -> None:
    change, place = MISTAKES[mistake]
    path = changed_flow(tmp_path, change)
    result = runner.invoke(args=["flow", "check", str(path)])
    assert result.exit_code == 1
    assert str(path) in result.output and place in result.output
    with pytest.raises(FlowError, match=place.split(":")[0].replace("*", r"\*")):
        load_flow(path, answers=ANSWERS)  # and the server would not start with it


def test_check_reports_every_problem_at_once(runner: FlaskCliRunner, tmp_path: Path) -> None:
    def two(flow: dict[str, Any]) -> None:
        unreachable(flow)
        dead_end(flow)

    result = runner.invoke(args=["flow", "check", str(changed_flow(tmp_path, two))])
    assert "menus.orphan" in result.output and "menus.guides" in result.output


def test_graph_draws_every_menu_and_option(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["flow", "graph"])
    assert result.exit_code == 0 and result.output.startswith("flowchart TD")
    flow = shipped_flow()
    for name, menu in flow.menus.items():
        for key in menu.options:
            assert f'    {name} -->|"{key}"|' in result.output
        assert f'    {name} -.->|"0"| q_{flow.menu_queue(name)}' in result.output
    assert 'stolen -->|"1"| stolen_1["answer: protective_freeze, then queue urgent"]' in (
        result.output
    )


def test_graph_as_dot_in_mandarin(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "flow.dot"
    result = runner.invoke(
        args=["flow", "graph", "--format", "dot", "--language", "zh", "-o", str(out)]
    )
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("digraph flow {") and text.rstrip().endswith("}")
    assert '"main" -> "account" [label="1"]' in text and "银联" in text


def test_the_readme_shows_the_shipped_flow() -> None:
    readme = (DEFAULT_FLOW_FILE.parents[1] / "README.md").read_text(encoding="utf-8")
    assert mermaid(shipped_flow()) in readme
