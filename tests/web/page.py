"""What a visitor sees and does on the page, for the browser tests (a page object)."""
from urllib.parse import parse_qs, urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 20  # an upper bound to wait for, not a speed requirement


class Page:
    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url

    # --- going places ---------------------------------------------------------------

    def open(self, path: str = "/") -> "Page":
        self.driver.get(f"{self.base_url}{path}")
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete")
        return self

    def search(self, username: str) -> "Page":
        field = self.find("#username")
        field.clear()
        field.send_keys(username)
        self.find("#search-form button[type=submit]").click()
        return self

    def click_button(self, text: str, within: str = "#app") -> None:
        """Click the visible button whose text starts with ``text``."""
        self.wait(lambda d: self._button(text, within) is not None)
        self._button(text, within).click()

    def _button(self, text: str, within: str):
        for button in self.driver.find_elements(By.CSS_SELECTOR, f"{within} button"):
            if button.is_displayed() and button.is_enabled() and button.text.startswith(text):
                return button
        return None

    def tab(self, name: str) -> None:
        self.driver.find_element(By.LINK_TEXT, name).click()

    # --- waiting and reading --------------------------------------------------------

    def wait(self, condition, seconds: float = WAIT_SECONDS):
        return WebDriverWait(self.driver, seconds, poll_frequency=0.05).until(condition)

    def find(self, css: str):
        return self.wait(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def loaded(self) -> "Page":
        """Waits until no request is pending (the results are not busy)."""
        self.wait(lambda d: d.execute_script(
            "const r = document.getElementById('results');"
            "return r && !r.hasAttribute('aria-busy') && document.readyState === 'complete'"))
        return self

    def seen_text(self, element) -> str:
        """The element's text as seen on screen: without the words only screen readers get."""
        return self.driver.execute_script(
            "const copy = arguments[0].cloneNode(true);"
            "copy.querySelectorAll('.visually-hidden').forEach(e => e.remove());"
            "return copy.textContent.replace(/\\s+/g, ' ').trim();", element)

    def results_title(self) -> str:
        return self.find("#results-title").text

    def card_titles(self) -> list[str]:
        return [e.text for e in self.all(".card .card-title")]

    def card_ids(self) -> list[int]:
        # One script, so that a list being replaced is never read half old, half new.
        return self.driver.execute_script(
            "return [...document.querySelectorAll('.card')].map(c => Number(c.dataset.animeId))")

    def status_text(self) -> str:
        return self.find("#status").text

    def wait_for_status(self, words: str) -> str:
        self.wait(lambda d: words in self.status_text())
        return self.status_text()

    def query(self) -> dict[str, str]:
        split = urlsplit(self.driver.current_url)
        return {key: values[0] for key, values in parse_qs(split.query).items()}

    def active(self):
        return self.driver.switch_to.active_element

    def local_storage(self, key: str):
        return self.driver.execute_script("return JSON.parse(window.localStorage.getItem(arguments[0]))", key)
