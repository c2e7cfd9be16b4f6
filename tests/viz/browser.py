"""Headless Chromium for the tests that open a page as a user would (skipped where it is not installed)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="headless Chromium is not installed (apt-get install chromium)")


def open_page(page: Path, profile: Path) -> tuple[int, int, str]:
    """Open `page` in headless Chromium: (images on it, images that decoded, the DOM after load). A copy of
    the page beside it carries the script that counts the images, so relative links resolve the same."""
    probe = page.with_name("probe-" + page.name)
    probe.write_text(page.read_text().replace("</body>", """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-loaded', imgs.filter(i => i.complete && i.naturalWidth > 0).length);
});</script></body>"""))
    try:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", f"--user-data-dir={profile}",
             "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
            capture_output=True, text=True, timeout=120)
    finally:
        probe.unlink()
    dom = proc.stdout
    images = int(re.search(r'data-images="(\d+)"', dom).group(1))
    loaded = int(re.search(r'data-loaded="(\d+)"', dom).group(1))
    return images, loaded, dom


class Browser:
    """Headless Chromium driven through the DevTools protocol over a pipe (--remote-debugging-pipe: commands
    on its fd 3, replies on fd 4, each a JSON message ended by a NUL byte), so a test can run JavaScript,
    send real mouse events and take screenshots with the standard library alone."""

    def __init__(self, profile: Path, width: int = 1300, height: int = 1800):
        import fcntl
        import os

        self._cmd_r, self._cmd_w = os.pipe()
        self._reply_r, self._reply_w = os.pipe()
        cmd_r, reply_w = self._cmd_r, self._reply_w

        def pipes_at_3_and_4():  # in the child, before exec: first out of the way, then onto 3 and 4
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (cmd_r, reply_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", f"--user-data-dir={profile}", "--remote-debugging-pipe",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=pipes_at_3_and_4)  # Python's own fds are close-on-exec
        os.close(cmd_r)
        os.close(reply_w)
        self._id, self._buffer, self.session = 0, b"", None
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def send(self, method: str, timeout: float = 60, **params):
        import json
        import os
        import select
        import time

        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._reply_r], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer {method} in {timeout} s")
            chunk = os.read(self._reply_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk

    def open(self, url: str, ready: str = "true", timeout: float = 60) -> None:
        """Navigate to `url` and wait until the JavaScript expression `ready` is true."""
        import time

        if url != "about:blank" and self.js("location.href.split('#')[0]") == url.split("#")[0]:
            self.open("about:blank")  # the same page with another #hash would not load again
        self.js("window.nnlabStale = true")  # until the new document replaces this one, `ready` would read this one
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not self.js(f"!window.nnlabStale && document.readyState === 'complete' && !!({ready})"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: {ready} never became true")
            time.sleep(0.05)

    def js(self, expression: str):
        """The value of a JavaScript expression (awaited if a promise), as JSON gives it back."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def mouse(self, kind: str, x: float, y: float, button: str = "left") -> None:
        """A real input event at page coordinates: kind is pressed, moved or released."""
        self.send("Input.dispatchMouseEvent", type=f"mouse{kind.capitalize()}", x=x, y=y, button=button,
                  buttons=0 if kind == "released" else 1, clickCount=1)

    def screenshot(self, path: Path, selector: str | None = None) -> None:
        """A PNG of the page (of the element `selector` only, if given)."""
        import base64

        params = {"format": "png"}
        if selector:
            box = self.js(f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect(); "
                          "return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()")
            params.update(clip=dict(zip(("x", "y", "width", "height"), box), scale=1), captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", **params)["data"]))

    def close(self) -> None:
        import os

        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        for fd in (self._cmd_w, self._reply_r):
            os.close(fd)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
