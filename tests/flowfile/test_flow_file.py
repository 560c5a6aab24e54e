"""A broken flow file stops start-up with a message that names the place (SPEC §7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from flowfile.loader import FlowError
from settings import Settings
from tests.conftest import SECRET_KEY
from tests.flowfile.flows import changed_flow

MISTAKES = {
    "bad key": (
        lambda f: f["menus"]["main"]["options"].update({"12": {"do": "menu", "menu": "funds"}}),
        "menus.main.options.12",
    ),
    "missing translation": (
        lambda f: f["menus"]["funds"]["prompt"].pop("en"),
        "menus.funds.prompt: no en text",
    ),
    "dangling branch": (
        lambda f: f["menus"]["main"]["options"]["4"].update({"menu": "help"}),
        "menus.main.options.4.menu: no menu named 'help'",
    ),
    "unknown queue": (
        lambda f: f["menus"]["funds"].update({"queue": "money"}),
        "menus.funds.queue: unknown queue 'money'",
    ),
    "reserved key": (
        lambda f: f["menus"]["guides"]["options"].update(
            {"9": {"do": "queue", "queue": "general"}}
        ),
        "menus.guides.options.9",
    ),
    "a score twice in the rating": (
        lambda f: f["waiting"]["rating_keys"]["zh"].update({"5": 2}),
        "waiting.rating_keys: zh: needs a key for each score 1 to 5, once",
    ),
    "a score out of range": (
        lambda f: f["waiting"]["rating_keys"]["en"].update({"6": 6}),
        "waiting.rating_keys.en.6",
    ),
    "no rating keys for a language": (
        lambda f: f["waiting"]["rating_keys"].pop("en"),
        "waiting.rating_keys: no keys for en",
    ),
    "no words for a caller's own freeze": (
        lambda f: f["reasons"].pop("frozen_by_caller"),
        "reasons: 'frozen_by_caller' is required",
    ),
    "a reason in one language only": (
        lambda f: f["reasons"]["bank_declined"].pop("zh"),
        "reasons.bank_declined: no zh text",
    ),
    "no disposition for the wrap-up": (
        lambda f: f["agents"].update({"dispositions": {}}),
        "agents.dispositions",
    ),
    "a disposition in one language only": (
        lambda f: f["agents"]["dispositions"]["resolved"].pop("en"),
        "agents.dispositions.resolved: no en text",
    ),
    "a disposition that is no code": (
        lambda f: f["agents"]["dispositions"].update({"Not a code": {"zh": "其他", "en": "x"}}),
        "agents.dispositions.Not a code",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_start_up_refuses_a_broken_flow_naming_the_place(
    tmp_path: Path, settings: Settings, mistake: str
) -> None:
    change, place = MISTAKES[mistake]
    path = changed_flow(tmp_path, change)
    with pytest.raises(FlowError) as refused:
        create_app(settings.model_copy(update={"flow_file": path}))
    assert str(path) in str(refused.value) and place in str(refused.value)


def test_from_the_environment_it_stops_with_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = changed_flow(tmp_path, MISTAKES["unknown queue"][0])
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "FLOW_FILE": str(path),
        "TWILIO_AUTH_TOKEN": "t",
        "HOTLINE_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
    }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert "unknown queue 'money'" in str(stopped.value)


def test_the_shipped_flow_loads(settings: Settings) -> None:
    app = create_app(settings)
    flow = app.extensions["flow"]
    assert {"main", "account", "stolen", "funds", "transactions", "guides"} <= set(flow.menus)
    app.extensions["db"].engine.dispose()
