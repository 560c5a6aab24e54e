"""The flow drawn as a diagram: Mermaid (for READMEs and wikis) or Graphviz DOT."""

from __future__ import annotations

from collections.abc import Iterator

from flowfile.flow import Flow
from flowfile.menus import AnswerOption, MenuOption, QueueOption, SayOption
from flowfile.vocabulary import Language

LABEL_LENGTH = 40


def mermaid(flow: Flow, language: Language = "en") -> str:
    lines = ["flowchart TD"]
    for source, key, target, label, dashed in _edges(flow, language):
        arrow = "-.->" if dashed else "-->"
        lines.append(f'    {source} {arrow}|"{_escape(key)}"| {target}["{_escape(label)}"]')
    return "\n".join(lines) + "\n"


def dot(flow: Flow, language: Language = "en") -> str:
    lines = ["digraph flow {", "    rankdir=TB;", "    node [shape=box];"]
    for source, key, target, label, dashed in _edges(flow, language):
        style = ", style=dashed" if dashed else ""
        lines.append(f'    "{target}" [label="{_quote(label)}"];')
        lines.append(f'    "{source}" -> "{target}" [label="{_quote(key)}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edges(flow: Flow, language: Language) -> Iterator[tuple[str, str, str, str, bool]]:
    """(from, key, to, label of to, dashed) for every option and every menu's key 0."""
    for name, menu in flow.menus.items():
        for key, option in menu.options.items():
            leaf = f"{name}_{_node_key(key)}"
            if isinstance(option, MenuOption):
                yield name, key, option.menu, option.menu, False
            elif isinstance(option, SayOption):
                yield name, key, leaf, _short(option.text[language]), False
            elif isinstance(option, AnswerOption):
                after = {
                    "menu": "",
                    "offer": ", then offer an agent",
                    "queue": f", then queue {option.queue}",
                }[option.then]
                yield name, key, leaf, f"answer: {option.answer}{after}", False
            elif isinstance(option, QueueOption):
                yield name, key, f"q_{option.queue}", f"queue: {option.queue}", False
        queue = flow.menu_queue(name)
        yield name, flow.keys.agent, f"q_{queue}", f"queue: {queue}", True


def _node_key(key: str) -> str:
    return {"*": "star", "#": "hash"}.get(key, key)


def _short(text: str) -> str:
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1] + "…"


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
