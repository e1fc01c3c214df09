import os

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_page_says_when_guessing_locked_the_username_out(page, streamer, settings, tmp_path):
    page.goto("/login/")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Username").fill("streamer")
        page.get_by_label("Password").fill(f"guess-{attempt}")
        page.get_by_role("button", name="Log in").click()
        if attempt < settings.AXES_FAILURE_LIMIT - 1:
            expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_role("heading")).to_have_text("Too many failed logins")
    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed logins for this username from your address. Try again in 15 minutes."
    )
    page.screenshot(path=os.environ.get("LOCKOUT_SCREENSHOT", tmp_path / "locked-out.png"))
    page.get_by_role("link", name="Back to the login page").click()
    page.get_by_label("Username").fill("streamer")
    page.get_by_label("Password").fill("s3cret-pass-123")  # the right one
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading")).to_have_text("Too many failed logins")  # still locked
