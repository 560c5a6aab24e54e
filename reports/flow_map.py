"""The flow drawn with its traffic (``reports.traffic``) as an SVG, for /admin/flow: left
to right, the greeting, verification, the menus as a tree (a column per depth, options
stacked as leaves), then the agents' queues and how those calls ended. Each box counts
its calls; each arrow is as wide as the calls that went along it.

Built with ElementTree, which escapes every text and attribute: menu names, prompts and
anything else from the flow file reach the page only as text. No external binary.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from flowfile.flow import Flow
from flowfile.menus import AnswerOption, MenuOption, QueueOption, SayOption
from flowfile.vocabulary import Language
from reports.traffic import AFTER_QUEUE, Traffic, percent

FONTS = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif"
COLUMN, WIDTH, ROW, HEIGHT, LEAF_HEIGHT, MARGIN = 225, 190, 68, 62, 40, 16
WIDEST_EDGE = 14
FILL = {
    "step": "#e8ebef",
    "menu": "#dcebf7",
    "leaf": "#f6fbf3",
    "queue": "#fbe9d0",
    "agent": "#d8f0d8",
    "abandoned": "#f8dada",
    "outcome": "#eeeeee",
}
AFTER_LABELS = {
    "agent": "Agent",
    "abandoned": "Abandoned",
    "voicemail": "Voicemail",
    "callback": "Callback",
    "overflow": "Overflow",
    "other": "Other",
}
AFTER_WORDS = {
    "agent": "talked to an agent",
    "abandoned": "hung up in the queue",
    "voicemail": "left a voicemail",
    "callback": "asked to be called back",
    "overflow": "went to the overflow number",
    "other": "hung up at the offer of voicemail or a callback, or are still waiting",
}
# Where a prompt's title ends: its first sentence or clause.
CLAUSE_END = re.compile(r"[。．.！!？?；;，,：:]")


@dataclass
class Node:
    id: str  # unique; data-node in the SVG
    kind: str  # a FILL key
    lines: list[str]  # a bold title, then smaller lines
    tip: str  # the tooltip: everything in words
    column: int = 0
    y: float = 0.0
    children: list[Node] = field(default_factory=list)

    @property
    def height(self) -> int:
        return LEAF_HEIGHT if len(self.lines) < 3 else HEIGHT


@dataclass(frozen=True)
class MenuRow:
    """A menu as the page's table lists it: in the drawing's order, indented by depth."""

    name: str
    depth: int
    keys: str  # the keys from the main menu, "1 › 3"
    title: str


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    calls: int
    side: bool = False  # a way to the agents' queues, drawn dashed


def draw(flow: Flow, traffic: Traffic, language: Language | None = None) -> str:
    language = language or flow.default_language
    nodes, edges = _graph(flow, traffic, language)
    width = max(node.column for node in nodes.values()) * COLUMN + WIDTH + 2 * MARGIN
    height = max(node.y + node.height / 2 for node in nodes.values()) + MARGIN
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {width} {height:.0f}",
            "width": str(width),
            "height": f"{height:.0f}",
            "role": "img",
            "font-family": FONTS,
            "font-size": "12",
        },
    )
    start, end = traffic.period.start, traffic.period.end
    ET.SubElement(svg, "title").text = f"Where callers went, {start:%Y-%m-%d} to {end:%Y-%m-%d}"
    widest = max([edge.calls for edge in edges] + [1])
    paths = ET.SubElement(svg, "g", {"class": "edges", "fill": "none"})
    for edge in edges:
        _edge(paths, nodes[edge.source], nodes[edge.target], edge, widest)
    boxes = ET.SubElement(svg, "g", {"class": "nodes"})
    for node in nodes.values():
        _box(boxes, node)
    return ET.tostring(svg, encoding="unicode")


# --- what is drawn ---------------------------------------------------------------------


def _graph(flow: Flow, traffic: Traffic, language: Language) -> tuple[dict[str, Node], list[Edge]]:
    t = traffic
    calls = Node(
        "calls",
        "step",
        ["Calls", f"{t.calls}", f"hung up at the greeting {percent(t.greeting_dropped, t.calls)}"],
        f"{t.calls} calls; {t.greeting_dropped} hung up before choosing a language",
    )
    checks = Node(
        "verification",
        "step",
        [
            "Verification",
            f"{t.verifying} calls",
            f"passed {percent(t.verified, t.verifying)} · failed {percent(t.failed, t.verifying)}",
            f"locked {percent(t.locked, t.verifying)}"
            f" · hung up {percent(t.verification_dropped, t.verifying)}",
        ],
        f"{t.verifying} asked who they are: {t.verified} verified, {t.failed} failed,"
        f" {t.locked} locked out, {t.verification_dropped} hung up,"
        f" {t.verification_to_agent} went on to an agent",
    )
    nodes = {node.id: node for node in (calls, checks)}
    edges = [
        Edge("calls", "verification", t.verifying),
        Edge("verification", "menu:main", t.to_menus),
        Edge("verification", "queue", t.verification_to_agent, side=True),
    ]
    calls.children = [checks]
    main = _menu_tree(flow, t, language, "main", _tree_parents(flow), nodes, edges, [])
    checks.children = [main]
    leaves = _place(calls, 0, 0)
    rows = max(leaves, len(AFTER_QUEUE))
    for node in nodes.values():  # a tree shorter than the outcomes: level with their middle
        node.y += (rows - leaves) * ROW / 2
    last = max(node.column for node in nodes.values())
    middle = MARGIN + (rows - 1) * ROW / 2 + HEIGHT / 2
    nodes["queue"] = Node(
        "queue",
        "queue",
        [
            "Agents' queues",
            f"{t.queued} calls",
            f"talked {percent(t.after_queue['agent'], t.queued)}",
        ],
        f"{t.queued} asked for an agent: "
        + ", ".join(f"{calls} {queue}" for queue, calls in sorted(t.queues.items())),
        column=last + 1,
        y=middle,
    )
    top = middle - (len(AFTER_QUEUE) - 1) * ROW / 2
    for row, group in enumerate(AFTER_QUEUE):
        ended = t.after_queue.get(group, 0)
        nodes[f"after:{group}"] = Node(
            f"after:{group}",
            group if group in FILL else "outcome",
            [AFTER_LABELS[group], f"{ended}", f"{percent(ended, t.queued)} of the queued"],
            f"{ended} of {t.queued} calls that asked for an agent {AFTER_WORDS[group]}",
            column=last + 2,
            y=top + row * ROW,
        )
        edges.append(Edge("queue", f"after:{group}", ended))
    return nodes, edges


def _menu_tree(
    flow: Flow,
    traffic: Traffic,
    language: Language,
    name: str,
    parents: dict[str, str],
    nodes: dict[str, Node],
    edges: list[Edge],
    path: list[str],
) -> Node:
    """The menu ``name`` and, below it, the menus drawn under it (``parents``) and its other
    options as leaves; its edges go to every menu its options lead to, wherever drawn."""
    menu, counts = flow.menus[name], traffic.menu(name)
    entered = counts.entered
    title = _menu_title(menu.prompt[language], name, path)
    node = Node(
        f"menu:{name}",
        "menu",
        [
            title,
            f"{entered} calls",
            f"answered {percent(counts.answered, entered)}"
            f" · hung up {percent(counts.dropped, entered)}",
            f"to an agent {percent(counts.to_agent, entered)}",
        ],
        f"{title} (menus.{name}): {entered} calls; {counts.answered} answered here,"
        f" {counts.dropped} hung up here, {counts.to_agent} went on to an agent,"
        f" {counts.missed} missed a key at least once",
    )
    nodes[node.id] = node
    edges.append(Edge(node.id, "queue", counts.to_agent, side=True))
    for key, option in menu.options.items():
        chosen = counts.chosen.get(key, 0)
        if isinstance(option, MenuOption):
            edges.append(Edge(node.id, f"menu:{option.menu}", chosen))
            if parents.get(option.menu) == name and f"menu:{option.menu}" not in nodes:
                child = _menu_tree(
                    flow, traffic, language, option.menu, parents, nodes, edges, [*path, key]
                )
                node.children.append(child)
            continue
        given = counts.given.get(key, 0)
        label = f"{key} · {_option_label(flow, option, language)}"
        said = f"{chosen} chose" + (f" · {given} answered" if given != chosen else "")
        leaf = Node(
            f"option:{name}:{key}",
            "leaf",
            [label, said],
            f"{label}: {chosen} chose it, {given} were given its answer",
        )
        nodes[leaf.id] = leaf
        edges.append(Edge(node.id, leaf.id, chosen))
        node.children.append(leaf)
    return node


def menu_rows(flow: Flow, language: Language | None = None) -> list[MenuRow]:
    language = language or flow.default_language
    parents, rows = _tree_parents(flow), []

    def visit(name: str, path: list[str]) -> None:
        title = _menu_title(flow.menus[name].prompt[language], name, path)
        rows.append(MenuRow(name, len(path), " › ".join(path), title))
        for key, option in flow.menus[name].options.items():
            listed = {row.name for row in rows}
            if isinstance(option, MenuOption) and parents.get(option.menu) == name:
                if option.menu not in listed:
                    visit(option.menu, [*path, key])

    visit("main", [])
    return rows


def _tree_parents(flow: Flow) -> dict[str, str]:
    """The menu each menu reachable from main is drawn under: the one ``*`` goes back to
    (``Flow.parent``) when that one leads to it and is not below it, else the first that
    leads to it, breadth first (so the drawing is a tree however the flow names parents)."""
    first: dict[str, str] = {}
    order = ["main"]
    for name in order:
        for option in flow.menus[name].options.values():
            if isinstance(option, MenuOption) and option.menu not in first | {"main": ""}:
                first[option.menu] = name
                order.append(option.menu)
    parents: dict[str, str] = {}
    for menu, found in first.items():
        named = flow.parent(menu)
        leads = (
            named is not None
            and (named == "main" or named in first)
            and any(
                isinstance(option, MenuOption) and option.menu == menu
                for option in flow.menus[named].options.values()
            )
        )
        above, seen = named, set()
        while leads and above is not None and above != "main" and above not in seen:
            seen.add(above)
            leads = above != menu
            above = parents.get(above) or first.get(above)
        parents[menu] = named if leads and named is not None else found
    return parents


def _place(node: Node, column: int, row: int) -> int:
    """A tidy tree: leaves on rows one below another, each parent level with the middle
    of its children; returns the next free row."""
    node.column = column
    if not node.children:
        node.y = MARGIN + row * ROW + HEIGHT / 2
        return row + 1
    for child in node.children:
        row = _place(child, column + 1, row)
    node.y = (node.children[0].y + node.children[-1].y) / 2
    return row


def _menu_title(prompt: str, name: str, path: list[str]) -> str:
    """The prompt's opening words ("主菜单", "账户与安全") when short, else the menu's name
    and the keys that lead to it."""
    first = CLAUSE_END.split(prompt, maxsplit=1)[0].strip()
    if first and _width(first, 13) <= WIDTH - 16:
        return first
    return f"{name} ({' › '.join(path)})" if path else name


def _option_label(flow: Flow, option: object, language: Language) -> str:
    if isinstance(option, SayOption):
        return CLAUSE_END.split(option.text[language], maxsplit=1)[0]
    if isinstance(option, AnswerOption):
        named = flow.agents.answer_names.get(option.answer)
        return named[language] if named and language in named else option.answer
    if isinstance(option, QueueOption):
        named = flow.agents.queue_names.get(option.queue)
        return "→ " + (named[language] if named and language in named else option.queue)
    return ""


# --- how it is drawn -------------------------------------------------------------------


def _x(node: Node) -> int:
    return MARGIN + node.column * COLUMN


def _box(parent: ET.Element, node: Node) -> None:
    group = ET.SubElement(parent, "g", {"class": f"node {node.kind}", "data-node": node.id})
    ET.SubElement(group, "title").text = node.tip
    x, top = _x(node), node.y - node.height / 2
    ET.SubElement(
        group,
        "rect",
        {
            "x": str(x),
            "y": f"{top:.1f}",
            "width": str(WIDTH),
            "height": str(node.height),
            "rx": "6",
            "fill": FILL.get(node.kind, FILL["outcome"]),
            "stroke": "#8a97a6",
        },
    )
    baseline = top + 15
    for number, line in enumerate(node.lines):
        size = (13, 12)[number] if number < 2 else 10.5
        attributes = {"x": str(x + 8), "y": f"{baseline:.1f}", "font-size": str(size)}
        if number == 0:
            attributes["font-weight"] = "bold"
        elif number > 1:
            attributes["fill"] = "#555"
        ET.SubElement(group, "text", attributes).text = _fit(line, size)
        baseline += size + 3


def _edge(parent: ET.Element, source: Node, target: Node, edge: Edge, widest: int) -> None:
    x1, y1 = _x(source) + WIDTH, source.y
    x2, y2 = _x(target), target.y
    bend = max(40.0, (x2 - x1) / 2)
    width = 1 + (WIDEST_EDGE - 1) * edge.calls / widest
    attributes = {
        "d": f"M{x1},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2},{y2:.1f}",
        "stroke": "#d9822b" if edge.side else "#4a7fb0",
        "stroke-width": f"{width:.1f}",
        "stroke-opacity": "0.45" if edge.side else "0.6",
        "data-calls": str(edge.calls),
        "data-from": source.id,
        "data-to": target.id,
    }
    if edge.side or edge.calls == 0:
        attributes["stroke-dasharray"] = "5 4"
    path = ET.SubElement(parent, "path", attributes)
    ET.SubElement(path, "title").text = f"{edge.calls} calls"
    if edge.calls and not edge.side:  # the count halfway; the queues' counts are on boxes
        label = {
            "x": f"{(x1 + x2) / 2:.1f}",
            "y": f"{(y1 + y2) / 2 - 3:.1f}",
            "text-anchor": "middle",
            "font-size": "10",
            "fill": "#234",
            "stroke": "#fff",
            "stroke-width": "3",
            "paint-order": "stroke",
            "class": "count",
        }
        ET.SubElement(parent, "text", label).text = str(edge.calls)


def _width(text: str, size: float) -> float:
    """About how wide ``text`` is: CJK characters are square, others a little over half."""
    return sum(size if ord(char) >= 0x2E80 else size * 0.6 for char in text)


def _fit(text: str, size: float) -> str:
    room = WIDTH - 14
    if _width(text, size) <= room:
        return text
    while text and _width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"
