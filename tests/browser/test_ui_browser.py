"""The web UI in a real browser (Debian's Chromium): sign in, search, open a person and see the
match-explanation waterfall, work a work-list entry through the adverse-action steps, see a
refusal with the gate's reasons, read without JavaScript, use the keyboard, and sign out.
Each test keeps a screenshot under test-artifacts/browser/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accord.governance.registry import registry
from web.ui_world import ENFORCEMENT

from .conftest import Server

TIMEOUT = 15_000


@pytest.fixture
def open_page(browser: Any, server: Server) -> Iterator[Any]:
    """open_page(javascript=True): a page in a new, isolated browser context (own cookies)."""
    contexts = []

    def make(javascript: bool = True) -> Page:
        context = browser.new_context(base_url=server.url, java_script_enabled=javascript)
        context.set_default_timeout(TIMEOUT)
        contexts.append(context)
        return context.new_page()  # type: ignore[no-any-return]

    yield make
    for c in contexts:
        c.close()


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def sign_in(page: Page, server: Server, user: str, then: str = "/") -> None:
    page.goto(then)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("User id").fill(user)
    page.get_by_label("API token").fill(server.world.tokens[user])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def declare(page: Page, purpose: str, agreement: str = "") -> None:
    """Declare purpose and agreement in the purpose bar and wait until the page shows them."""
    page.get_by_label("Purpose", exact=True).select_option(purpose)
    page.get_by_label("Matching agreement").select_option(agreement)
    page.get_by_role("button", name="Use for my reads").click()
    shown = f"Reading under: {registry().purposes[purpose].title}" + (f", agreement {agreement}" if agreement
                                                                       else "") + "."
    expect(page.locator(".purpose-bar .current")).to_have_text(shown)


def search(page: Page, name: str, dob: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Date of birth").fill(dob)
    page.get_by_role("button", name="Search", exact=True).click()


def test_a_caseworker_signs_in_finds_a_person_and_sees_the_waterfall(
        open_page: Any, server: Server, artifacts: Path) -> None:
    page = open_page()
    entry = server.world.entry
    sign_in(page, server, "casey")
    expect(page.get_by_role("heading", name="Find a person")).to_be_visible()
    declare(page, ENFORCEMENT, server.world.enf)
    search(page, entry.name, entry.dob)
    result = page.get_by_role("link", name=entry.person_id)
    expect(result).to_be_visible()
    assert entry.dob not in page.url and "name=" not in page.url     # nothing personal in the URL
    shot(page, artifacts, "01-search-results")
    result.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(entry.person_id)
    charts = page.locator("figure.waterfall svg")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 1
    expect(charts.first.locator("text").filter(has_text=re.compile(r"^match weight$"))).to_have_count(1)
    expect(page.get_by_role("heading", name="Status and evidence")).to_be_visible()
    expect(page.get_by_role("table", name="Evidence chain")).to_be_visible()
    shot(page, artifacts, "02-person-with-waterfall")


def test_caseworkers_work_a_work_list_entry(open_page: Any, server: Server, artifacts: Path) -> None:
    entry = server.world.entry
    casey = open_page()
    sign_in(casey, server, "casey")
    casey.goto(f"/worklist?agreement={server.world.enf}")
    expect(casey.get_by_role("link", name=entry.person_id).first).to_be_visible()
    shot(casey, artifacts, "03-work-list")
    casey.get_by_text(f"Open a finding on {entry.person_id}").click()
    casey.get_by_role("button", name="Open finding").first.click()
    expect(casey.get_by_role("status")).to_contain_text("Finding opened.")
    expect(casey.get_by_text("Not actionable")).to_be_visible()
    finding_url = casey.url
    assert "/findings/F-" in finding_url
    casey.get_by_label("The person's contest").fill("The person says the case was reopened.")
    casey.get_by_role("button", name="File contest").click()
    expect(casey.get_by_role("status")).to_contain_text("Contest filed.")
    expect(casey.locator("dl.facts .badge")).to_have_text("contested")
    shot(casey, artifacts, "04-finding-contested")

    carl = open_page()
    sign_in(carl, server, "carl", then=finding_url.removeprefix(server.url))
    expect(carl.get_by_role("heading", level=1)).to_contain_text("F-")
    carl.get_by_label("Rejected (the notice period runs on)").check()
    carl.get_by_label("Reasons").fill("The court confirms the order stands.")
    carl.get_by_role("button", name="Decide").click()
    expect(carl.get_by_role("status")).to_contain_text("Contest decided.")
    expect(carl.locator("dl.facts .badge")).to_have_text("pending")
    expect(carl.get_by_role("table", name="Contests")).to_contain_text("rejected")
    shot(carl, artifacts, "05-finding-contest-decided")
    carl.get_by_label("How it was verified").fill("Checked the immigration court's docket")
    carl.get_by_label("Evidence", exact=True).fill("Docket entry of the final order of removal")
    carl.get_by_role("button", name="Record verification").click()
    expect(carl.get_by_role("status")).to_contain_text("Verification recorded.")
    expect(carl.locator("dl.facts")).to_contain_text("Independently verified by")
    expect(carl.get_by_label("How it was sent")).to_be_visible()          # the next step: notice
    shot(carl, artifacts, "06-finding-verified")


def test_refusals_show_the_gates_reasons(open_page: Any, server: Server, artifacts: Path) -> None:
    ana = open_page()
    sign_in(ana, server, "ana")
    ana.goto(f"/worklist?agreement={server.world.enf}")
    alert = ana.get_by_role("alert")
    expect(alert).to_contain_text("Refused")
    expect(alert).to_contain_text("worklist.read is not among the actions of ana")
    shot(ana, artifacts, "07-refused-wrong-role")

    casey = open_page()
    sign_in(casey, server, "casey")
    declare(casey, ENFORCEMENT)                     # a matching program without its agreement
    search(casey, server.world.entry.name, server.world.entry.dob)
    expect(casey.get_by_role("alert")).to_contain_text("name the matching agreement")
    shot(casey, artifacts, "08-refused-no-agreement")


def test_pages_read_without_javascript(open_page: Any, server: Server, artifacts: Path) -> None:
    page = open_page(javascript=False)
    entry = server.world.entry
    sign_in(page, server, "casey")
    declare(page, ENFORCEMENT, server.world.enf)
    search(page, entry.name, entry.dob)
    page.get_by_role("link", name=entry.person_id).click()
    expect(page.locator("figure.waterfall svg").first).to_be_visible()
    page.get_by_text("The numbers").first.click()            # <details> opens without scripts
    expect(page.get_by_role("table", name="Contributions to the match weight").first).to_be_visible()
    shot(page, artifacts, "09-person-without-javascript")


def test_the_keyboard_reaches_everything_and_focus_is_visible(
        open_page: Any, server: Server, artifacts: Path) -> None:
    page = open_page()
    page.goto("/login")
    assert page.evaluate("() => document.activeElement.id") == "user_id"      # the form has focus
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                         "return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }")
    assert ring[0] != "none" and ring[1] != "0px" and ring[2] != "none", ring
    page.keyboard.type("casey")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "token"
    page.keyboard.type(server.world.tokens["casey"])
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed in as")).to_be_visible()

    page.goto("/search")
    active = "() => document.activeElement.id || document.activeElement.textContent.trim()"
    page.keyboard.press("Tab")
    assert page.evaluate(active) == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.goto("/search")
    seen = []
    for _ in range(14):             # the menu, then the purpose bar, then the search form
        page.keyboard.press("Tab")
        seen.append(page.evaluate(active))
    for control in ("Search", "Work list", "ctx-purpose", "ctx-agreement", "ctx-justification", "q-name"):
        assert control in seen, (control, seen)
    assert seen.index("Work list") < seen.index("ctx-purpose") < seen.index("q-name")
    shot(page, artifacts, "10-keyboard-focus")


def test_oversight_dashboard_and_sign_out(open_page: Any, server: Server, artifacts: Path) -> None:
    page = open_page()
    sign_in(page, server, "olive")
    expect(page.get_by_role("heading", name="Oversight", level=1)).to_be_visible()
    expect(page.get_by_text("Intact", exact=True)).to_be_visible()
    expect(page.get_by_role("table", name="Disclosures by agreement")).to_be_visible()
    assert page.locator("figure svg").count() >= 3
    shot(page, artifacts, "11-oversight")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/oversight")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
