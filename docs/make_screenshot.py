"""Refresh docs/report.png, the README's picture: train a quick run, screenshot its report.html in headless
Chromium, then crop it to the page's column and shrink it with Pillow.

    .venv/bin/python docs/make_screenshot.py [--keep]      # about a minute; needs chromium (or google-chrome)

The run is the derived network on MNIST digits 3 vs 8, shortened to a few epochs; it is trained in a temporary
folder (kept with --keep) with the nnlab of the Python that runs this script.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

HERE = Path(__file__).resolve().parent
TRAIN = ["train", "scratch", "--data", "mnist-5k", "--classes", "3,8", "--epochs", "30", "--quiet"]
NAME = "derived-network-3-vs-8"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser() -> str:
    found = next((p for p in [os.environ.get("CHROMIUM"), *map(shutil.which, BROWSERS)] if p), None)
    if found is None:
        sys.exit("error: no headless browser found; install chromium or set CHROMIUM=/path/to/chrome")
    return found


def screenshot(page: Path, png: Path, width: int, height: int, profile: Path) -> None:
    subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--hide-scrollbars", f"--user-data-dir={profile}",
                    f"--screenshot={png}", f"--window-size={width},{height}", page.as_uri()],
                   check=True, capture_output=True, timeout=300)


def crop_and_shrink(full: Path, out: Path, top: int, height: int, width: int) -> None:
    """Keep `height` pixels of the page from `top`, cut the empty margins left and right, scale to `width`
    pixels and keep 256 colours: a sharp picture of a few hundred kB."""
    image = Image.open(full).convert("RGB")
    ink = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    left, right = (ink[0] - 24, ink[2] + 24) if ink else (0, image.width)
    image = image.crop((max(left, 0), top, min(right, image.width), min(top + height, image.height)))
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "report.png", help="default: docs/report.png")
    parser.add_argument("--top", type=int, default=0, help="first page pixel kept; default: 0")
    parser.add_argument("--height", type=int, default=2040, help="page pixels kept; default: 2040")
    parser.add_argument("--width", type=int, default=900, help="width of the picture; default: 900")
    parser.add_argument("--keep", action="store_true", help="keep the temporary run and full screenshot")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nnlab-screenshot-"))
    try:
        subprocess.run([sys.executable, "-m", "nnlab", *TRAIN, "--out", str(work), "--name", NAME], check=True)
        full = work / "full.png"
        screenshot(work / NAME / "report.html", full, 1200, args.top + args.height, work / "profile")
        crop_and_shrink(full, args.out, args.top, args.height, args.width)
        print(f"wrote {args.out} ({args.out.stat().st_size // 1024} kB) from {work / NAME / 'report.html'}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
