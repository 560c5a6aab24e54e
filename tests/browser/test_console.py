"""The operators' console's door in headless Chromium: the login wall, and a form sent
without its CSRF token refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Operator
from tests.admin.consoles import ADMIN
from tests.browser.conftest import console_sign_in

pytestmark = pytest.mark.usefixtures("demo")


def test_the_console_is_behind_a_sign_in_that_comes_back_to_the_page(page: Page) -> None:
    page.goto("/admin/operators")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    expect(page.locator("table#operators")).to_have_count(0)
    form = page.locator("form#login")
    form.locator("input[name=name]").fill("admin")
    form.locator("input[name=password]").fill("wrong-password")
    form.locator("button[type=submit]").click()
    expect(page.locator("#login-error")).to_be_visible()

    form.locator("input[name=name]").fill(ADMIN[0])
    form.locator("input[name=password]").fill(ADMIN[1])
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/operators$"))
    expect(page.locator("table#operators")).to_contain_text("supervisor")


def test_a_form_posted_without_its_csrf_token_is_refused(page: Page, db: Session) -> None:
    console_sign_in(page, *ADMIN)
    page.goto("/admin/operators")
    form = page.locator("form#operator-form")
    form.locator("input[name=name]").fill("mallory")
    form.locator("input[name=password]").fill("mallory-password")
    # A page on another site cannot read the token: its forged form arrives without one.
    form.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    assert posted.value.status == 400
    expect(page.locator("body")).to_contain_text("CSRF")
    assert db.scalars(select(Operator).where(Operator.name == "mallory")).first() is None

    # The same form with its token is taken.
    page.goto("/admin/operators")
    form.locator("input[name=name]").fill("mallory")
    form.locator("input[name=password]").fill("mallory-password")
    form.locator("button[type=submit]").click()
    expect(page.locator("table#operators")).to_contain_text("mallory")
