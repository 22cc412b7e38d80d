"""The web page of `agentvlm serve` in a real headless Chromium (Debian's chromium and chromedriver, via selenium).

A person's session: enter the key, pick a photo, ask, watch the steps, see the answer, the
annotated image and the evidence table, then ask a follow-up in the same conversation.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="agentvlm serve needs pip install 'agentvlm[serve]'")
webdriver = pytest.importorskip("selenium.webdriver", reason="the web test needs selenium: pip install 'agentvlm[dev]'")
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.servers import agentvlm_process, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(400),
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None, reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)"),
]
KEY = "web-key-42"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    with agentvlm_process(["serve", "--port", str(port), "--api-key", KEY], f"http://127.0.0.1:{port}/healthz"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,1900",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_upload_ask_see_the_answer_and_follow_up(server: str, browser: object, examples_dir: Path, tmp_path: Path) -> None:
    d = browser
    wait = WebDriverWait(d, 240)
    d.get(server)  # type: ignore[attr-defined]
    key = d.find_element(By.ID, "key")  # type: ignore[attr-defined]
    wait.until(lambda _: key.is_displayed())  # the server wants a key: the page asks for it
    key.send_keys(KEY)
    d.execute_script("document.getElementById('key').dispatchEvent(new Event('change'))")  # type: ignore[attr-defined]
    wait.until(lambda _: len(d.find_elements(By.CSS_SELECTOR, "#graph option")) >= 5)  # type: ignore[attr-defined]

    d.find_element(By.ID, "file").send_keys(str(examples_dir / "street_scene_pedestrians.jpg"))  # type: ignore[attr-defined]
    wait.until(lambda _: d.find_element(By.ID, "preview").get_attribute("naturalWidth") not in (None, "0"))  # type: ignore[attr-defined]
    question = d.find_element(By.ID, "question")  # type: ignore[attr-defined]
    question.send_keys("How many people are in this picture?")
    d.find_element(By.ID, "ask").click()  # type: ignore[attr-defined]

    wait.until(lambda _: d.find_elements(By.CSS_SELECTOR, ".turn .steps li"))  # type: ignore[attr-defined]
    first = d.find_elements(By.CSS_SELECTOR, ".turn")[0]  # type: ignore[attr-defined]
    wait.until(lambda _: first.find_element(By.CSS_SELECTOR, ".answer").is_displayed())
    answer = first.find_element(By.CSS_SELECTOR, ".answer").text
    assert answer.isdigit() and int(answer) >= 3, answer
    steps = [li.text for li in first.find_elements(By.CSS_SELECTOR, ".steps li")]
    assert any(s.startswith("✓ program") for s in steps) and len(steps) >= 4  # counted in code
    image = first.find_element(By.CSS_SELECTOR, "img.annotated")
    wait.until(lambda _: int(image.get_attribute("naturalWidth") or 0) > 0)  # fetched with the key, shown from a blob
    people = [r for r in first.find_elements(By.CSS_SELECTOR, ".evidence tbody tr") if r.find_elements(By.TAG_NAME, "td")[2].text == "person"]
    assert len(people) == int(answer)

    question.send_keys("Where are they?")
    d.find_element(By.ID, "ask").click()  # type: ignore[attr-defined]
    wait.until(lambda _: len(d.find_elements(By.CSS_SELECTOR, ".turn")) == 2 and d.find_elements(By.CSS_SELECTOR, ".turn")[1].find_element(By.CSS_SELECTOR, ".answer").is_displayed())  # type: ignore[attr-defined]
    second = d.find_elements(By.CSS_SELECTOR, ".turn")[1]  # type: ignore[attr-defined]
    assert second.find_element(By.CSS_SELECTOR, ".answer").text
    assert any("targets carried over from the previous turn: person" in li.text for li in second.find_elements(By.CSS_SELECTOR, ".steps li"))
    wait.until(lambda _: int(second.find_element(By.CSS_SELECTOR, "img.annotated").get_attribute("naturalWidth") or 0) > 0)
    assert not d.find_element(By.ID, "error").is_displayed()  # type: ignore[attr-defined]

    shot = Path(os.environ.get("AGENTVLM_WEB_SCREENSHOT") or tmp_path / "page.png")
    d.execute_script("window.scrollTo(0, 0)")  # type: ignore[attr-defined]
    assert d.save_screenshot(str(shot)) and shot.stat().st_size > 10_000  # type: ignore[attr-defined]
