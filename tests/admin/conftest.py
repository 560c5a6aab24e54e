from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.admin.consoles import ADMIN, SUPERVISOR, Console


@pytest.fixture
def console(client: FlaskClient, demo: None) -> Console:
    """A browser with nobody signed in yet, on a hotline with the demo data."""
    return Console(client)


@pytest.fixture
def admin(console: Console) -> Console:
    assert console.sign_in(*ADMIN).status_code == 302
    return console


@pytest.fixture
def supervisor(console: Console) -> Console:
    assert console.sign_in(*SUPERVISOR).status_code == 302
    return console
