"""What import-linter cannot check (pyproject.toml has the package contracts): the
top-level modules' place in the layers, and which of twilio's modules each part uses."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("callflows", "ops", "queueing", "verification", "calls", "telephony", "models")
PACKAGES += ("flowfile", "desk", "admin", "reports")
# Each top-level module and the Hotline modules it may import. Settings parse the
# endpoints they name (OVERFLOW_NUMBER) as the import file does: that pure module only.
TOP_LEVEL = {
    "app": None,  # the top: may import anything, imported by nothing
    "settings": {"validation", "telephony.endpoints"},
    "logs": set(),
    "metrics": set(),
    "validation": set(),
}
# Which twilio modules may be imported where: TwiML in one place, REST in another.
TWILIO = {
    "twilio.twiml": ("calls/twiml.py",),
    "twilio.rest": ("telephony/rest.py",),
    "twilio.http": ("telephony/rest.py",),
    "twilio.base": ("telephony/rest.py",),
    "twilio.jwt": ("telephony/tokens.py",),
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def application_files() -> list[Path]:
    files = [ROOT / f"{name}.py" for name in TOP_LEVEL]
    for package in PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


@pytest.mark.parametrize(
    "module", [name for name, allowed in TOP_LEVEL.items() if allowed is not None]
)
def test_bottom_modules_import_no_package_above_them(module: str) -> None:
    hotline = {*PACKAGES, *TOP_LEVEL}
    used = {name for name in imports(ROOT / f"{module}.py") if name.split(".")[0] in hotline}
    assert used <= TOP_LEVEL[module], f"{module}.py imports {sorted(used)}"


def test_nothing_imports_the_app() -> None:
    importers = [path for path in application_files() if "app" in imports(path)]
    assert importers == []


@pytest.mark.parametrize("twilio_module", sorted(TWILIO))
def test_twilio_modules_are_used_in_one_place(twilio_module: str) -> None:
    users = {
        str(path.relative_to(ROOT))
        for path in application_files()
        if any(
            name == twilio_module or name.startswith(twilio_module + ".") for name in imports(path)
        )
    }
    assert users <= set(TWILIO[twilio_module])
