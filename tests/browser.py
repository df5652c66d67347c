"""What the browser tests (tests/test_browser_*.py) share: Debian's chromium
driven by Playwright's sync API, a `Visit` (one browser context in a size and
a language that collects page errors), axe-core and screenshots. The
`chromium` and `visit` fixtures built on this live in the root conftest.py."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-quic", "--no-first-run"]
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
LANGS = {"zh": "zh-CN", "en": "en-US"}
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

# every browser module's pytestmark starts with these
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def sizes_and_langs(*pairs):
    """Parametrise a flow over some (size, lang) pairs, e.g. ("phone", "zh"), ("desktop", "en"):
    not every flow needs all four."""
    return pytest.mark.parametrize(("size", "lang"), pairs, ids=[f"{s}-{lang}" for s, lang in pairs])


EVERY_SIZE_AND_LANG = sizes_and_langs(*[(s, lang) for lang in LANGS for s in SIZES])


class Visit:
    """A browser context in one size and language, collecting page errors."""

    def __init__(self, browser, base, size, lang):
        self.base, self.name, self.lang = base, f"{size}-{lang}", lang
        self.viewport = SIZES[size]
        self.context = browser.new_context(locale=LANGS[lang], viewport=self.viewport,
                                           extra_http_headers={"Accept-Language": LANGS[lang]})
        self.page = self.context.new_page()
        # a step that never completes fails; one starved of the CPU (CI's stages run the
        # suite on both cores beside the server and Chromium) once took over 15 s to click
        self.page.set_default_timeout(30000)
        self.errors = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text} {msg.location.get('url', '')}"))

    def text(self, zh, en):
        """The words this visit's language shows."""
        return zh if self.lang == "zh" else en

    def login(self, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": self.base}])

    def goto(self, path):
        self.page.goto(f"{self.base}{path}")

    def axe_problems(self):
        """Serious or critical accessibility violations on the current page, as
        "rule: selector" strings (axe-core, vendored under tests/vendor)."""
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("axe.run(document)")
        return [f"{v['id']}: {n['target']} {' '.join(n.get('failureSummary', '').split())[:300]}"
                for v in result["violations"] if v["impact"] in ("serious", "critical") for n in v["nodes"]]

    def overflow_problems(self):
        """What runs off-screen sideways: the page itself wider than the
        viewport, or a table whose right edge is past the viewport without a
        wrapper that scrolls it inside the screen."""
        return self.page.evaluate("""() => {
          const width = window.innerWidth, problems = [];
          if (document.documentElement.scrollWidth > width) {
            problems.push(`page is ${document.documentElement.scrollWidth}px wide in a ${width}px viewport`);
          }
          document.querySelectorAll("table").forEach((table, i) => {
            if (table.getBoundingClientRect().right <= width + 0.5) { return; }
            let box = table.parentElement;
            while (box && box !== document.body && !["auto", "scroll"].includes(getComputedStyle(box).overflowX)) {
              box = box.parentElement;
            }
            const inside = box && box !== document.body && box.getBoundingClientRect().right <= width + 0.5;
            if (!inside) { problems.push(`table ${i} (${table.className}) runs off-screen`); }
          });
          return problems;
        }""")

    def shot(self, flow):
        folder = Path(settings.SHOPYARD_HOME) / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{flow}-{self.name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
