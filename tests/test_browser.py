"""The drawing canvas in a real browser, in both notebook apps it is made for: JupyterLab and Jupyter
Notebook 7, each served on 127.0.0.1 with test_model.ipynb run in headless Chromium, digits drawn with
the mouse, the guess read off the page, a correction button pressed.

Needs Debian's chromium (.ci/run installs it) and the playwright Python package (no browser download:
it drives /usr/bin/chromium); skips with a message where either is missing.
Set NN_SCREENSHOT=path/to/file.png to keep the screenshot: JupyterLab's goes to that path (the README's
docs/canvas.png comes from here), Notebook 7's beside it with "_notebook7" added to the name.
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
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from digits.paths import shipped_model
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
NOTEBOOK = "test_model.ipynb"


@dataclass(frozen=True)
class Frontend:
    name: str
    module: str          # python -m <module> serves it
    path: str            # the notebook's page, before "token=..."
    shot_suffix: str     # added to NN_SCREENSHOT's file name


FRONTENDS = {
    "jupyterlab": Frontend("JupyterLab", "jupyterlab", f"lab/tree/{NOTEBOOK}?reset&", ""),
    "notebook7": Frontend("Jupyter Notebook 7", "notebook", f"notebooks/{NOTEBOOK}?", "_notebook7"),
}


@dataclass
class Served:
    frontend: Frontend
    url: str             # the notebook's page
    api: str             # the server's REST root
    token: str
    tmp_path: Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(folder, tmp_path):
    """A copy of test_model.ipynb without outputs, whose own model and samples live in tmp_path."""
    notebook = json.loads((ROOT / NOTEBOOK).read_text())
    notebook["cells"] = [c for c in notebook["cells"]          # a run's injected values must not win
                         if "injected-parameters" not in c["metadata"].get("tags", [])]
    for cell in notebook["cells"]:
        if "parameters" in cell["metadata"].get("tags", []):
            cell["source"] = ("IMAGE = 'test_image.png'\nCORRECT_LABEL = None\nRESET_TO_BASE = False\n"
                              f"BASE_MODEL = {str(shipped_model())!r}\n"   # it misreads the long-flag 1
                              f"MY_MODEL = {str(tmp_path / 'user_model.npz')!r}\n"
                              f"MY_SAMPLES = {str(tmp_path / 'user_samples.csv')!r}\n")
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None    # "[ ]:" until Run All starts it
        else:
            cell.pop("outputs", None)
    (folder / NOTEBOOK).write_text(json.dumps(notebook))
    shutil.copy(ROOT / "test_image.png", folder / "test_image.png")


@pytest.fixture(params=list(FRONTENDS))
def served(request, tmp_path):
    """The frontend's own server (python -m jupyterlab, python -m notebook) on a copy of the notebook."""
    frontend = FRONTENDS[request.param]
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root, tmp_path)
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                 "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR"):
        env[name] = str(tmp_path / name.lower())
    news = tmp_path / "jupyterlab_settings_dir" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = free_port(), secrets.token_hex(16)
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", frontend.module, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--ServerApp.port_retries=0", "--allow-root", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        try:
            api = f"http://127.0.0.1:{port}/api"
            _wait_for_server(api, token, server, frontend, log_path)
            url = f"http://127.0.0.1:{port}/{frontend.path}token={token}"
            yield Served(frontend, url, api, token, tmp_path)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=20)


def get_json(api, token, path):
    request = urllib.request.Request(f"{api}/{path}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _wait_for_server(api, token, server, frontend, log, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            pytest.fail(f"{frontend.name} exited: {log.read_text()[-2000:]}")
        try:
            get_json(api, token, "status")
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{frontend.name} did not answer within {timeout} s: {log.read_text()[-2000:]}")


# What the page shows about its kernel, the same in both apps: the toolbar's kernel name (JupyterLab shows
# "No Kernel" there, and an "idle" execution indicator, before a kernel exists) and the execution indicator;
# plus JupyterLab's status bar ("Python 3 (ipykernel) | Idle"), which Notebook 7 does not have.
PAGE_KERNEL_IDLE = """() => {
    const name = document.querySelector('.jp-KernelName')?.textContent || '';
    const status = document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
    const bar = document.querySelector('.jp-StatusBar-Widget')?.parentElement?.innerText;
    return name.trim() !== '' && !name.includes('No Kernel') && status === 'idle'
        && (bar === undefined || (bar.includes('Idle') && !bar.includes('No Kernel')));
}"""
CELLS_STARTED = """() => Array.from(document.querySelectorAll('.jp-InputPrompt'))
    .some(prompt => /\\[(\\*|\\d+)\\]/.test(prompt.textContent))"""


def server_kernel_idle(served):
    """The server's word: the notebook's kernel is idle and the page is connected to it."""
    sessions = get_json(served.api, served.token, "sessions")
    kernels = [s["kernel"] for s in sessions if s.get("path") == NOTEBOOK and s.get("kernel")]
    return any(k["execution_state"] == "idle" and k.get("connections", 0) >= 1 for k in kernels)


def wait_for_idle_kernel(page, served, timeout=180):
    """Until the page and the server both say the kernel is idle, twice in a row a second apart."""
    deadline, in_a_row = time.time() + timeout, 0
    while time.time() < deadline:
        idle = page.evaluate(PAGE_KERNEL_IDLE) and server_kernel_idle(served)
        in_a_row = in_a_row + 1 if idle else 0
        if in_a_row >= 2:
            return
        time.sleep(1)
    pytest.fail(f"{served.frontend.name}: the kernel never became idle within {timeout} s")


def problems_shown(page):
    """Error outputs on the page, to say why a run stopped."""
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    return "\n".join(errors.all_inner_texts())[-3000:]


def run_all(page, served):
    """Wait for a live kernel, Run > Run All Cells (re-issued once if no cell started), and wait until the
    canvas is shown and the kernel idle: Run All reaches the canvas without asking anything."""
    wait_for_idle_kernel(page, served)
    for _ in range(2):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function(CELLS_STARTED, timeout=30_000)
            break
        except playwright_api.TimeoutError:
            page.keyboard.press("Escape")            # close the menu if it is still open
            wait_for_idle_kernel(page, served)
    else:
        pytest.fail(f"{served.frontend.name}: Run All Cells never started a cell")
    try:
        page.locator(".jp-OutputArea .nn-guess").first.wait_for(timeout=240_000)
    except playwright_api.TimeoutError:
        pytest.fail(f"{served.frontend.name}: the notebook never showed the canvas\n{problems_shown(page)}")
    wait_for_idle_kernel(page, served)       # mouse events sent while cells still run would wait in line
    assert page.locator(".jp-Stdin-input").count() == 0, "Run All must not stop to ask anything"


def the_pad(page):
    """The canvas widget's output area: scrolled to the middle of the window."""
    pad = page.locator(".jp-OutputArea-output").filter(has=page.locator(".nn-guess")).first
    pad.evaluate("element => element.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)                     # let the scroll settle before measuring
    return pad


def the_canvas(page, pad):
    """The 280x280 drawing canvas, on screen (ipycanvas may stack more than one <canvas>: take the visible
    one)."""
    viewport = page.viewport_size
    for handle in pad.locator("canvas").all():
        box = handle.bounding_box()
        if box and round(box["width"]) == 280 and round(box["height"]) == 280:
            assert box["y"] >= 0 and box["y"] + 280 <= viewport["height"], f"canvas off screen: {box}"
            return box
    pytest.fail("no 280x280 canvas on the page")


def draw(page, box, points):
    """Draw a stroke through canvas points (0-280) with the mouse."""
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        for t in (0.25, 0.5, 0.75, 1.0):
            page.mouse.move(x0 + ax + (bx - ax) * t, y0 + ay + (by - ay) * t)
    page.mouse.up()


def guess_text(pad, expected, timeout=90):
    """Wait until the guess shown starts with `expected` (a digit or text); return the last text seen.

    Every widget update makes a round trip through the kernel, so the page changes a moment later (many
    seconds later on a busy machine).
    """
    prefix = f"Guess: {expected}" if isinstance(expected, int) else expected
    deadline, text = time.time() + timeout, ""
    while time.time() < deadline:
        text = pad.locator(".nn-guess").first.inner_text()
        if text.startswith(prefix):
            break
        time.sleep(0.3)
    return text


def clear(pad):
    pad.get_by_role("button", name="Clear", exact=True).click()
    text = guess_text(pad, "Draw a digit")
    assert text == "Draw a digit", text


SEVEN = [(60, 50), (140, 48), (215, 52), (180, 120), (140, 200), (120, 250)]
ONE_WITH_A_LONG_FLAG = [(60, 100), (170, 40), (170, 250)]   # a European 1, which MNIST rarely has
ZERO = [(140, 40), (90, 70), (70, 140), (95, 220), (140, 245), (190, 215), (210, 140), (188, 68),
        (140, 40)]


def test_draw_on_the_canvas_read_the_guess_and_correct_it(served):
    name, tmp_path = served.frontend.name, served.tmp_path
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(served.url, timeout=120_000)
            run_all(page, served)
            outputs = "\n".join(page.locator(".jp-OutputArea").all_inner_texts())
            assert "The canvas needs" not in outputs, f"{name}: the canvas cell printed instead"
            pad = the_pad(page)
            box = the_canvas(page, pad)

            draw(page, box, SEVEN)
            text = guess_text(pad, 7)
            assert text.startswith("Guess: 7"), f"{name}: {text}"

            clear(pad)
            draw(page, box, ZERO)
            text = guess_text(pad, 0)
            assert text.startswith("Guess: 0"), f"{name}: {text}"
            shot = Path(os.environ.get("NN_SCREENSHOT", tmp_path / "canvas.png"))
            shot = shot.with_name(shot.stem + served.frontend.shot_suffix + shot.suffix)
            pad.screenshot(path=shot)
            assert shot.stat().st_size > 5000

            clear(pad)
            draw(page, box, ONE_WITH_A_LONG_FLAG)
            text = guess_text(pad, 7)
            assert text.startswith("Guess: 7"), f"{name}: the shipped model reads this 1 as a 7, not {text}"
            pad.get_by_title("it is a 1: learn it").click()          # "no, it is a 1"
            pad.locator(".nn-learning").wait_for(timeout=30_000)      # said at once, while it learns
            text = guess_text(pad, 1, timeout=180)
            assert text.startswith("Guess: 1"), f"{name}: {text}\n{pad.inner_text()}"
            assert "learned that this is a 1" in pad.inner_text().lower()
            assert load_model(tmp_path / "user_model.npz").record["corrections"][-1]["label"] == 1
            clear(pad)
            assert "learned that" not in pad.inner_text().lower(), f"{name}: an old message stayed"
        finally:
            browser.close()
