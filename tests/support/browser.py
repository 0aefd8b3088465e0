"""Reports opened in a real headless Chromium, as an operator's browser shows them: the page
after its scripts ran (--dump-dom), a screenshot, or what the page measures of its own layout
at a window size (`layout`)."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

from tests.support import required

# Appended to a copy of a report: once pytest-html's script has built the results table, the
# page writes what an operator would see at this window size into <pre id="sg-layout">.
MEASURE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const box = (el) => el && el.getBoundingClientRect();
  const banner = box(document.querySelector(".sg-verdict"));
  const clipped = [...document.querySelectorAll("#results-table td, table.sg-table td")]
    .filter((td) => td.scrollWidth > td.clientWidth + 1)
    .map((td) => td.className + ": " + td.textContent.slice(0, 60));
  const out = document.createElement("pre");
  out.id = "sg-layout";
  out.textContent = JSON.stringify({
    width: window.innerWidth, height: window.innerHeight,
    scroll_width: document.documentElement.scrollWidth,
    banner_bottom: banner ? banner.bottom : null,
    environment_top: box(document.getElementById("environment")).top,
    results_top: box(document.getElementById("results-table")).top,
    clipped,
  });
  document.body.appendChild(out);
}, 200));
</script>"""


def chromium() -> str:
    return required.program("chromium", "chromium-browser", install="apt-get install chromium")


def browse(chromium: str, page: Path, profile: Path, *action: str) -> str:
    """Open `page` in headless Chromium, offline, after its scripts ran; `action` says what
    to hand back (--dump-dom, --screenshot=...) and may set another --window-size."""
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
            "--hide-scrollbars", "--window-size=1400,2400", *action, page.as_uri()]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def layout(chromium: str, page: Path, profile: Path, width: int, height: int) -> tuple[dict, str]:
    """What a copy of `page` measures of itself in a `width` x `height` window, and the
    document as shown there (without the measure)."""
    measured = page.with_name(f"{page.stem}.measured.html")
    measured.write_text(page.read_text("utf-8") + MEASURE, "utf-8")
    dom = browse(chromium, measured, profile, f"--window-size={width},{height}", "--dump-dom")
    found = re.search(r'<pre id="sg-layout">(.*?)</pre>', dom, re.S)
    assert found, "the page did not measure itself: " + dom[-2000:]
    return json.loads(html.unescape(found.group(1))), dom[: found.start()]
