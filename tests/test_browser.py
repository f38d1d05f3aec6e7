"""The drawing canvas in a real browser: JupyterLab on 127.0.0.1, test_model.ipynb run in headless
Chromium, digits drawn with the mouse, the guess read off the page, a correction button pressed.

Needs Debian's chromium (.ci/run installs it) and the playwright Python package (no browser download:
it drives /usr/bin/chromium); skips with a message where either is missing.
Set NN_SCREENSHOT=path/to/file.png to keep the screenshot (the README's comes from here).
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nn.persist import load_model

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install chromium (as .ci/run does)"),
]
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a copy of test_model.ipynb whose own model and samples live in tmp_path."""
    root = tmp_path / "lab"
    root.mkdir()
    notebook = json.loads((ROOT / "test_model.ipynb").read_text())
    for cell in notebook["cells"]:
        if "parameters" in cell["metadata"].get("tags", []):
            cell["source"] = (f"IMAGE = 'test_image.png'\nCORRECT_LABEL = None\nRESET_TO_PRETRAINED = False\n"
                              f"MY_MODEL = {str(tmp_path / 'user_model.npz')!r}\n"
                              f"MY_SAMPLES = {str(tmp_path / 'user_samples.csv')!r}\n")
        cell["outputs"] = [] if cell["cell_type"] == "code" else cell.get("outputs")
        if cell["cell_type"] != "code":
            cell.pop("outputs", None)
    (root / "test_model.ipynb").write_text(json.dumps(notebook))
    shutil.copy(ROOT / "test_image.png", root / "test_image.png")
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                 "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path / name.lower())
    news = tmp_path / "jupyterlab_settings_dir" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = free_port(), secrets.token_hex(16)
    with open(tmp_path / "lab.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--ServerApp.port_retries=0", "--allow-root", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        try:
            _wait_for_port(port, server, tmp_path / "lab.log")
            yield f"http://127.0.0.1:{port}/lab/tree/test_model.ipynb?reset&token={token}", tmp_path
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


def _wait_for_port(port, server, log, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    pytest.fail("JupyterLab did not start within a minute")


def wait_for_idle_kernel(page):
    page.wait_for_function(
        "() => { const t = document.querySelector('.jp-StatusBar-Widget')?.parentElement?.innerText || '';"
        " return t.includes('Idle') && !t.includes('No Kernel'); }", timeout=90_000)


def run_all(page):
    """Wait for a live kernel, then Run > Run All Cells (re-issued once if nothing started)."""
    wait_for_idle_kernel(page)
    for _ in range(2):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            answer = page.locator(".jp-Stdin-input").first     # "Was the guess right? (y/n)"
            answer.wait_for(timeout=40_000)
            answer.fill("y")
            answer.press("Enter")
            page.locator(".jp-OutputArea canvas").first.wait_for(timeout=40_000)
            wait_for_idle_kernel(page)       # events sent while cells still run would wait in line
            return
        except playwright_api.TimeoutError:
            continue
    pytest.fail("the notebook never asked its question or never showed the canvas")


def the_canvas(page):
    """The 280x280 drawing canvas (ipycanvas may stack more than one <canvas>; take the visible one)."""
    for handle in page.locator(".jp-OutputArea canvas").all():
        box = handle.bounding_box()
        if box and round(box["width"]) == 280 and round(box["height"]) == 280:
            return box
    pytest.fail("no 280x280 canvas on the page")


def draw(page, box, points):
    """Draw a stroke through canvas points (0-280) with the mouse, then let the kernel catch up."""
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        for t in (0.25, 0.5, 0.75, 1.0):
            page.mouse.move(x0 + ax + (bx - ax) * t, y0 + ay + (by - ay) * t)
    page.mouse.up()


def guess_text(page, expected, timeout=20):
    """Wait until the guess shown starts with `expected` (a digit or text); return the last text seen.

    Every widget update makes a round trip through the kernel, so the page changes a moment later.
    """
    prefix = f"Guess: {expected}" if isinstance(expected, int) else expected
    deadline, text = time.time() + timeout, ""
    while time.time() < deadline:
        text = page.locator(".nn-guess").first.inner_text()
        if text.startswith(prefix):
            break
        time.sleep(0.3)
    return text


SEVEN = [(60, 50), (140, 48), (215, 52), (180, 120), (140, 200), (120, 250)]
ONE_WITH_A_LONG_FLAG = [(60, 100), (170, 40), (170, 250)]   # a European 1, which MNIST rarely has
ZERO = [(140, 40), (90, 70), (70, 140), (95, 220), (140, 245), (190, 215), (210, 140), (188, 68),
        (140, 40)]


def test_draw_on_the_canvas_read_the_guess_and_correct_it(lab):
    url, tmp_path = lab
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(url)
            run_all(page)
            page.locator(".nn-guess").first.scroll_into_view_if_needed()
            page.wait_for_timeout(500)                  # let the scroll settle before measuring
            box = the_canvas(page)

            assert "No canvas above?" not in page.locator(".jp-Notebook").inner_text()

            draw(page, box, SEVEN)
            assert guess_text(page, 7).startswith("Guess: 7")

            page.get_by_role("button", name="Clear").click()
            assert guess_text(page, "Draw a digit") == "Draw a digit"
            draw(page, box, ZERO)
            assert guess_text(page, 0).startswith("Guess: 0")
            shot = Path(os.environ.get("NN_SCREENSHOT", tmp_path / "canvas.png"))
            page.locator(".jp-OutputArea-output").filter(has=page.locator(".nn-guess")).screenshot(path=shot)
            assert shot.stat().st_size > 5000

            page.get_by_role("button", name="Clear").click()
            assert guess_text(page, "Draw a digit") == "Draw a digit"
            draw(page, box, ONE_WITH_A_LONG_FLAG)
            assert guess_text(page, 7).startswith("Guess: 7"), "the pretrained model reads this 1 as a 7"
            page.get_by_title("it is a 1: learn it").click()          # "no, it is a 1"
            text = guess_text(page, 1, timeout=60)
            assert text.startswith("Guess: 1"), text
            assert load_model(tmp_path / "user_model.npz").record["corrections"][-1]["label"] == 1
        finally:
            browser.close()
