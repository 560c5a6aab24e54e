"""Checks of the flow as a graph, beyond what the schema can say (run at start-up and by
``flask flow check``): every menu reachable and with a way on, one way back from each,
and no spoken word that could mean two things in one menu."""

from __future__ import annotations

from collections import defaultdict

from flowfile.flow import Flow
from flowfile.menus import MenuOption


def graph_problems(flow: Flow) -> list[str]:
    problems: list[str] = []
    parents: dict[str, list[str]] = defaultdict(list)
    for name, menu in flow.menus.items():
        if not menu.options:
            problems.append(f"menus.{name}: a dead end, it has no options")
        for key, option in menu.options.items():
            if isinstance(option, MenuOption) and option.menu in flow.menus:
                parents[option.menu].append(f"menus.{name}.options.{key}")
    for name in sorted(set(flow.menus) - _reachable(flow)):
        problems.append(f"menus.{name}: unreachable from the main menu")
    if parents.get("main"):
        problems.append(f"menus.main: is the top menu, but {parents['main'][0]} leads to it")
    for name, sources in sorted(parents.items()):
        if len(sources) > 1 and name != "main" and flow.menus[name].parent is None:
            problems.append(
                f"menus.{name}: reached from {' and '.join(sources)}; '*' could not tell"
                " which menu to go back to (name it: parent)"
            )
    problems += _clashing_words(flow)
    return problems


def _reachable(flow: Flow) -> set[str]:
    seen, todo = {"main"}, ["main"]
    while todo:
        for option in flow.menus[todo.pop()].options.values():
            if isinstance(option, MenuOption) and option.menu in flow.menus:
                if option.menu not in seen:
                    seen.add(option.menu)
                    todo.append(option.menu)
    return seen


def _clashing_words(flow: Flow) -> list[str]:
    """A word that two options of one menu (or an option and a global key) both claim."""
    problems = []
    keys = flow.keys
    for name, menu in flow.menus.items():
        for language in flow.languages:
            owners: dict[str, str] = {}
            groups = [
                (f"keys.{kind}_words", words)
                for kind, words in (
                    ("agent", keys.agent_words),
                    ("back", keys.back_words),
                    ("repeat", keys.repeat_words),
                )
            ]
            groups += [
                (f"menus.{name}.options.{key}", option.keywords)
                for key, option in menu.options.items()
            ]
            for place, spoken in groups:
                for word in spoken.words(language):
                    owner = owners.setdefault(word.casefold(), place)
                    if owner != place:
                        problems.append(
                            f"{place}.keywords.{language}: {word!r} is also a word of {owner}"
                        )
    return problems
