"""The page at / in headless Chromium, against the service under gunicorn with the demo data
and a fake MyAnimeList: what a visitor sees is what the API answers.

Screenshots of the main views go to a temporary folder, or to docs/screenshots/ with
UPDATE_SCREENSHOTS=1 (``make screenshots``).
"""
import os
import re
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.live import production_env
from tests.web import browser as chromium
from tests.web.conftest import DOWN_USER, EMPTY_USER, PRIVATE_USER, SLOW_USER
from tests.web.page import Page
from web.views import OPT_IN_ALGORITHM

pytestmark = pytest.mark.browser

USER = "demo_user_001"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def api(server, path: str, **params) -> dict:
    response = requests.get(f"{server.url}{path}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def page(browser, page_server):
    return Page(browser, page_server.url)


@pytest.fixture
def screenshot(browser, tmp_path):
    """``screenshot(name)`` saves the viewport as a PNG and checks it is one."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path

    def take(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        browser.execute_script("document.activeElement && document.activeElement.blur()")
        path.write_bytes(browser.get_screenshot_as_png())
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        return path

    return take


def assert_no_axe_violations(driver) -> None:
    if not chromium.AXE_JS.exists():
        pytest.skip("axe-core is not installed: make browser-deps (needs npm)")
    violations = chromium.axe_violations(driver)
    assert violations == [], "\n".join(f"{v['id']}: {v['help']} at {v['nodes']}" for v in violations)


# --- finding a user's picks ----------------------------------------------------------------


def test_a_search_shows_the_users_recommendations_without_a_reload(page, page_server, screenshot):
    page.open("/")
    page.driver.execute_script("window.sameDocument = true")

    page.search(USER).loaded()

    expected = api(page_server, f"/{USER}/recommendations")["data"]
    assert page.card_ids() == [item["id"] for item in expected]
    assert page.driver.execute_script("return window.sameDocument") is True
    assert page.query() == {"user": USER}
    first = page.all(".card")[0]
    title_link = first.find_element("css selector", ".card-title a")
    assert title_link.get_attribute("href") == f"https://myanimelist.net/anime/{expected[0]['id']}"
    assert title_link.text.startswith(expected[0]["details"]["title"])
    assert f"{expected[0]['details']['mean']:.2f} mean" in first.text
    assert f"{expected[0]['score']}/10" in first.text
    for genre in expected[0]["details"]["genres"]:
        assert genre in first.text
    # The similar users who rated it, with their similarity and score, behind a disclosure.
    first.find_element("css selector", ".raters summary").click()
    raters = first.find_elements("css selector", ".raters li")
    assert len(raters) == len(expected[0]["users"])
    rater = expected[0]["users"][0]
    assert f"{rater['similarity']}% similar · scored {rater['score']}" in raters[0].text
    assert raters[0].find_element("css selector", "a").get_attribute("href") == (
        f"https://myanimelist.net/profile/{rater['username']}")
    # No picture in the demo catalog: a placeholder with the title's initials.
    assert first.find_element("css selector", ".placeholder").text
    assert page.driver.find_element("id", "user-link").get_attribute("href") == (
        f"https://myanimelist.net/profile/{USER}")
    page.driver.execute_script("window.scrollTo(0, 0)")
    screenshot("desktop-recommendations")


def test_pages_and_batches_come_on_demand_and_show_in_the_url(page, page_server):
    page.open(f"/?user={USER}").loaded()
    previous = page.driver.find_element("css selector", '[data-action="previous-page"]')
    assert not previous.is_enabled()

    page.click_button("Next page")
    page.wait(lambda d: page.query().get("page") == "2")
    page.loaded()
    assert page.card_ids() == [i["id"] for i in api(page_server, f"/{USER}/recommendations", page=2)["data"]]
    assert "Page 2" in page.find("#pager").text

    page.click_button("Next group")
    page.wait(lambda d: page.query().get("batch") == "2")
    page.loaded()
    assert page.query() == {"user": USER, "batch": "2"}
    assert page.card_ids() == [i["id"] for i in api(page_server, f"/{USER}/recommendations", batch=2)["data"]]
    assert "Group 2 of 40" in page.find("#toolbar").text

    page.driver.back()  # the browser's history walks back through the views
    page.wait(lambda d: page.query().get("page") == "2" and "batch" not in page.query())
    page.loaded()
    assert page.card_ids() == [i["id"] for i in api(page_server, f"/{USER}/recommendations", page=2)["data"]]


def test_a_reload_shows_the_same_view(page, page_server):
    page.open(f"/?user={USER}&view=similar&page=2").loaded()
    expected = [u["username"] for u in api(page_server, f"/{USER}/similar", page=2)["data"]]
    names = lambda: [page.seen_text(e) for e in page.all(".similar-user .user-name")]  # noqa: E731
    assert names() == expected

    page.driver.refresh()
    page.loaded()
    assert names() == expected
    assert page.query() == {"user": USER, "view": "similar", "page": "2"}


def test_similar_users_open_their_picks_and_compare(page, page_server, screenshot):
    page.open(f"/?user={USER}").loaded()
    page.tab("Similar users")
    page.wait(lambda d: page.query().get("view") == "similar")
    page.loaded()
    similar = api(page_server, f"/{USER}/similar")["data"]
    rows = page.all(".similar-user")
    assert len(rows) == len(similar) == 32
    assert f"{similar[0]['similarity']}% similar" in rows[0].text
    page.driver.execute_script("window.scrollTo(0, 0)")
    screenshot("desktop-similar-users")

    other = similar[0]["username"]
    page.click_button("Their picks", within=".similar-user:first-child")
    page.wait(lambda d: page.query().get("other") == other)
    page.loaded()
    assert page.results_title() == f"{other}'s picks for {USER}"
    from_other = api(page_server, f"/{USER}/recommendations/{other}")["data"]
    assert page.card_ids() == [item["id"] for item in from_other]
    assert f"{from_other[0]['score']}/10 from {other}" in page.all(".card")[0].text

    page.tab("Similar users")
    page.wait(lambda d: page.query().get("view") == "similar")
    page.loaded()
    page.click_button("Compare", within=".similar-user:nth-child(2)")
    page.wait(lambda d: page.query().get("view") == "compare")
    page.loaded()
    assert page.find(".big-number").text == f"{similar[1]['similarity']}%"


def test_any_two_users_can_be_compared(page, page_server):
    page.open(f"/?user={USER}&view=compare").loaded()
    first, second = "demo_user_010", "demo_user_020"
    for field, name in (("#compare-first", first), ("#compare-second", second)):
        page.find(field).clear()
        page.find(field).send_keys(name)
    page.find("#compare-form button[type=submit]").click()

    page.wait(lambda d: page.query() == {"user": first, "view": "compare", "other": second})
    page.loaded()
    expected = api(page_server, f"/{first}/compare/{second}")["data"]["similarity"]
    assert page.find(".big-number").text == f"{expected}%"
    assert f"{first} and {second} have {expected}% similar taste." in page.seen_text(page.find(".comparison"))


def test_comparing_with_an_unknown_user_names_that_user(page):
    page.open(f"/?user={USER}").loaded()
    page.tab("Compare")
    page.find("#compare-second").send_keys("nobody_at_all")
    page.find("#compare-form button[type=submit]").click()

    text = page.wait_for_status("no MyAnimeList user")
    assert "There is no MyAnimeList user called “nobody_at_all”." in text
    assert page.find("#compare-form").is_displayed()  # to correct the name


def test_a_random_handful_is_drawn_again_on_demand(page, page_server):
    page.open(f"/?user={USER}&view=random").loaded()
    first_draw = page.card_ids()
    assert len(first_draw) == len(api(page_server, f"/{USER}/random")["data"]) == 32
    assert len(set(first_draw)) == len(first_draw)

    page.click_button("Shuffle again")
    page.wait(lambda d: page.card_ids() and page.card_ids() != first_draw)
    page.loaded()
    assert len(page.card_ids()) == 32


def test_the_learned_ranking_is_switched_on_and_stays_in_the_url(page, page_server):
    page.open(f"/?user={USER}").loaded()
    page.wait(lambda d: page.find("#ranking").get_attribute("data-opt-in") == "available")
    standard = page.card_ids()

    page.find('label[for="ranking-learned"]').click()

    page.wait(lambda d: page.query().get("algorithm") == OPT_IN_ALGORITHM)
    page.loaded()
    learned = api(page_server, f"/{USER}/recommendations", algorithm=OPT_IN_ALGORITHM)["data"]
    assert page.card_ids() == [item["id"] for item in learned] != standard
    page.driver.refresh()
    page.loaded()
    assert page.find("#ranking-learned").is_selected()
    assert page.card_ids() == [item["id"] for item in learned]


def test_an_untrained_ranking_is_not_offered_and_says_why(browser, live_service, live_database_url,
                                                          static_root, tmp_path):
    server = live_service(production_env(live_database_url, STATIC_ROOT=str(static_root),
                                         MODEL_DIR=str(tmp_path / "no-models")))
    page = Page(browser, server.url).open(f"/?user={USER}").loaded()

    page.wait(lambda d: page.find("#ranking").get_attribute("data-opt-in") == "unavailable")
    assert not page.find("#ranking-learned").is_enabled()
    assert page.find("#ranking-standard").is_selected()
    note = page.find("#ranking-note")
    assert note.text == "The learned ranking is not available: it has not been trained on this server yet."


# --- saved for later and the last username -----------------------------------------------


def test_saved_anime_and_the_last_username_stay_in_the_browser(page):
    page.open(f"/?user={USER}").loaded()
    saved_ids = page.card_ids()[:2]
    for card in page.all(".card")[:2]:
        card.find_element("css selector", "button.save").click()

    assert [item["id"] for item in page.local_storage("reko.saved")] == saved_ids
    assert page.find("#saved-count").text == "2"
    page.tab("Saved 2")
    page.wait(lambda d: page.query().get("view") == "saved")
    page.loaded()
    assert page.card_ids() == saved_ids

    page.open("/")
    assert page.find("#username").get_attribute("value") == USER
    assert page.local_storage("reko.lastUser") == USER


def test_the_saved_list_keeps_at_most_32_anime(page):
    page.open(f"/?user={USER}").loaded()
    full = [{"id": 1_000_000 + i, "details": {"title": f"Kept {i}", "mean": 7.0, "genres": []}}
            for i in range(32)]
    page.driver.execute_script("localStorage.setItem('reko.saved', JSON.stringify(arguments[0]))", full)

    page.all(".card")[0].find_element("css selector", "button.save").click()

    assert "saved list is full (32 anime)" in page.wait_for_status("full")
    assert page.local_storage("reko.saved") == full


# --- messages -----------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "words"), [
    (PRIVATE_USER, "keeps their anime list private on MyAnimeList"),
    ("nobody_at_all", "There is no MyAnimeList user called “nobody_at_all”"),
    (EMPTY_USER, "has nothing on their list we can use yet"),
    (DOWN_USER, "MyAnimeList is unavailable right now"),
    ("x", "That is not a MyAnimeList username"),
])
def test_a_failed_search_says_why_in_plain_words(page, username, words):
    page.open("/")

    page.search(username)

    assert words in page.wait_for_status(words)
    assert page.all(".card") == []


def test_a_client_over_the_rate_limit_is_asked_to_wait(browser, live_service, live_database_url,
                                                        static_root):
    # One worker, so that its local-memory cache holds the only count; an hourly window, so
    # that it does not start over between the requests below.
    server = live_service(production_env(live_database_url, STATIC_ROOT=str(static_root),
                                         RATELIMIT_RATE="3/h"), workers=1)
    answers = [requests.get(f"{server.url}/version", timeout=10).status_code for _ in range(4)]
    assert answers[-1] == 503  # this client (127.0.0.1, the browser too) has used its budget

    page = Page(browser, server.url).open("/")  # the page itself is not counted
    page.search(USER)

    text = page.wait_for_status("going a little fast")
    assert re.search(r"try again in (\d+ seconds?|about \d+ minutes)\.", text)
    assert page.find("#status button").text == "Try again"
    assert page.card_ids() == []


def test_a_private_list_on_a_phone(page, screenshot):
    chromium.set_viewport(page.driver, chromium.PHONE, mobile=True)
    page.open("/").search(PRIVATE_USER)
    page.wait_for_status("private")
    screenshot("phone-private-list")
    assert_no_axe_violations(page.driver)


def test_a_first_time_user_sees_a_loading_state_until_their_list_arrives(page, fake_mal_service):
    page.open("/").search(SLOW_USER)

    page.wait_for_status(f"Fetching {SLOW_USER}'s list from MyAnimeList")
    assert page.find("#results").get_attribute("aria-busy") == "true"
    page.loaded()
    assert page.card_ids()
    assert page.status_text() == ""
    assert fake_mal_service.requests(f"/v2/users/{SLOW_USER}/animelist")


# --- phone, keyboard, accessibility -------------------------------------------------------


def test_on_a_phone_the_cards_stack_in_one_column_without_sideways_scrolling(page, screenshot):
    chromium.set_viewport(page.driver, chromium.PHONE, mobile=True)
    page.open(f"/?user={USER}").loaded()

    width, viewport = page.driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert (width, viewport) == (chromium.PHONE[0], chromium.PHONE[0])
    lefts = {card.rect["x"] for card in page.all(".card")}
    assert len(lefts) == 1
    assert all(tab.is_displayed() for tab in page.all(".tab"))
    screenshot("phone-recommendations")


def test_the_page_works_with_the_keyboard_alone(page, page_server):
    page.open("/")

    def press(*keys, shift=False):
        chain = ActionChains(page.driver)
        if shift:
            chain.key_down(Keys.SHIFT)
        chain.send_keys(*keys)
        if shift:
            chain.key_up(Keys.SHIFT)
        chain.perform()

    def tab_to(predicate, *, backwards=False, limit: int = 120):
        for _ in range(limit):
            press(Keys.TAB, shift=backwards)
            if predicate(page.active()):
                return page.active()
        raise AssertionError("not reachable with Tab")

    tab_to(lambda e: e.get_attribute("id") == "username")
    press(USER, Keys.ENTER)
    page.loaded()
    assert page.active().get_attribute("id") == "results-title"  # focus follows the results

    tab_to(lambda e: e.tag_name == "summary")
    press(Keys.ENTER)
    assert page.driver.execute_script("return document.activeElement.parentElement.open") is True

    tab_to(lambda e: e.text == "Next page")
    press(Keys.ENTER)
    page.wait(lambda d: page.query().get("page") == "2")
    page.loaded()
    assert page.card_ids() == [i["id"] for i in api(page_server, f"/{USER}/recommendations", page=2)["data"]]

    tab_to(lambda e: e.text == "Similar users", backwards=True)
    press(Keys.ENTER)
    page.wait(lambda d: page.query().get("view") == "similar")
    page.loaded()
    tab_to(lambda e: e.text.startswith("Their picks"))
    press(Keys.SPACE)
    page.wait(lambda d: page.query().get("view") == "user")
    page.loaded()
    assert page.card_ids()


def test_every_view_passes_the_accessibility_check(page):
    page.open("/")
    assert_no_axe_violations(page.driver)
    page.search(USER).loaded()
    page.all(".card .raters summary")[0].click()
    page.all(".card button.save")[0].click()
    assert_no_axe_violations(page.driver)
    for view in ("similar", "random", "compare&other=demo_user_002", "saved"):
        page.open(f"/?user={USER}&view={view}").loaded()
        assert_no_axe_violations(page.driver)
    page.search("nobody_at_all")
    page.wait_for_status("no MyAnimeList user")
    assert_no_axe_violations(page.driver)
