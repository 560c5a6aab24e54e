"""The flow drawn with its traffic (reports.flow_map): a box per step and menu with its
counts, arrows as wide as their calls, and the flow file's words only ever as text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

from callflows.answers import ANSWERS
from flowfile.flow import Flow
from flowfile.loader import load_flow
from reports.flow_map import draw, menu_rows
from reports.period import Period
from reports.traffic import MenuTraffic, Traffic
from tests.flowfile.flows import changed_flow, shipped_flow

SVG = "{http://www.w3.org/2000/svg}"
FLOW = shipped_flow()
WEEK = Period(date(2026, 11, 18), date(2026, 11, 24), FLOW.timezone)


def busy_week() -> Traffic:
    after = {"agent": 25, "abandoned": 8, "voicemail": 3, "callback": 2, "overflow": 0, "other": 2}
    week = Traffic(WEEK, calls=100, greeting_dropped=5, verifying=95, verified=70, failed=10)
    week.locked, week.verification_dropped, week.verification_to_agent = 2, 5, 10
    week.to_menus, week.queued, week.queues, week.after_queue = 80, 40, {"general": 40}, after
    week.menus = {
        "main": MenuTraffic(80, 0, 5, 10, 7, {"1": 20, "2": 25, "3": 10, "4": 5, "8": 3}),
        "funds": MenuTraffic(25, 15, 2, 6, 0, {"1": 4, "2": 4, "3": 9}, {"1": 4, "2": 4, "3": 7}),
    }
    return week


def boxes(svg: str) -> dict[str, list[str]]:
    """Each box's lines of text, by its node."""
    drawn = ET.fromstring(svg)
    return {
        box.attrib["data-node"]: [text.text or "" for text in box.iter(f"{SVG}text")]
        for box in drawn.iter(f"{SVG}g")
        if "data-node" in box.attrib
    }


def edges(svg: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path.attrib["data-from"], path.attrib["data-to"]): path.attrib
        for path in ET.fromstring(svg).iter(f"{SVG}path")
    }


def test_every_step_and_menu_has_a_box_with_its_counts() -> None:
    drawn = boxes(draw(FLOW, busy_week()))

    assert {f"menu:{name}" for name in FLOW.menus} | {"calls", "verification", "queue"} <= set(
        drawn
    )
    assert drawn["calls"] == ["Calls", "100", "hung up at the greeting 5%"]
    assert drawn["menu:main"][:2] == ["主菜单", "80 calls"]
    assert drawn["menu:funds"] == [
        "充值与提现",
        "25 calls",
        "answered 60% · hung up 8%",
        "to an agent 24%",
    ]
    assert drawn["option:funds:3"] == ["3 · 最近充值或提现", "9 chose · 7 answered"]
    assert drawn["menu:guides"][1] == "0 calls"
    assert drawn["after:abandoned"] == ["Abandoned", "8", "20% of the queued"]
    # The stolen-account menu's prompt opens with no short title: its name and keys instead.
    assert drawn["menu:stolen"][0] == "stolen (1 › 3)"


def test_arrows_are_as_wide_as_their_calls() -> None:
    drawn = edges(draw(FLOW, busy_week()))

    def width(source: str, target: str) -> float:
        return float(drawn[(source, target)]["stroke-width"])

    assert width("menu:main", "menu:funds") > width("menu:main", "menu:account")
    assert width("menu:main", "menu:account") > width("menu:main", "menu:guides") > 1
    assert drawn[("menu:main", "menu:funds")]["data-calls"] == "25"
    # Both ways to the stolen-account menu are drawn, the unused one dashed and thinnest.
    assert drawn[("menu:main", "menu:stolen")]["data-calls"] == "3"
    assert "stroke-dasharray" in drawn[("menu:account", "menu:stolen")]
    assert width("menu:account", "menu:stolen") == 1


def test_words_from_the_flow_file_are_only_ever_text(tmp_path: Path) -> None:
    sly = '<i>"&主菜单</i>'

    def change(flow: dict[str, Any]) -> None:
        flow["menus"]["main"]["prompt"]["zh"] = sly + "。<script>alert(1)</script>"
        flow["menus"]["guides"]["options"]["1"]["text"]["zh"] = "</text><svg onload=alert(1)>"

    flow = load_flow(changed_flow(tmp_path, change), answers=ANSWERS)
    svg = draw(flow, busy_week())

    assert "<script" not in svg and "<svg onload" not in svg
    drawn = boxes(svg)
    assert drawn["menu:main"][0] == sly
    assert drawn["option:guides:1"][0].startswith("1 · </text><svg")
    assert not list(ET.fromstring(svg).iter(f"{SVG}script"))


def test_every_menu_is_drawn_once_however_the_flow_names_parents(tmp_path: Path) -> None:
    def change(flow: dict[str, Any]) -> None:
        menus = flow["menus"]
        menus["guides"]["options"]["5"] = {"do": "menu", "menu": "funds"}
        menus["funds"]["parent"] = "transactions"  # which does not lead there
        menus["stolen"]["options"]["2"] = {"do": "menu", "menu": "account"}
        menus["account"]["parent"] = "stolen"  # each the other's parent
        menus["stolen"]["parent"] = "account"

    flow: Flow = load_flow(changed_flow(tmp_path, change), answers=ANSWERS)
    svg = draw(flow, busy_week())

    drawn = boxes(svg)
    assert sorted(name for name in drawn if name.startswith("menu:")) == sorted(
        f"menu:{name}" for name in flow.menus
    )
    assert {("menu:guides", "menu:funds"), ("menu:stolen", "menu:account")} <= set(edges(svg))
    assert [row.name for row in menu_rows(flow)].count("funds") == 1
