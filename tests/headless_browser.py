"""Find a headless Chromium that playwright can drive, for the HTML report's browser test.

Playwright's own build (`python -m playwright install chromium`) comes first; where it cannot
be downloaded, a Chromium the system installed (Debian's chromium-headless-shell or chromium)
stands in, or the one named by $PACELINE_CHROMIUM. scripts/setup.sh runs this file to learn
whether it still has to install a browser:

    .venv/bin/python tests/headless_browser.py   # exit 0 and the browser's path when one launches
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ENV_VAR = "PACELINE_CHROMIUM"
# Debian's chromium-headless-shell puts its binary here behind a shell wrapper in /usr/bin.
SYSTEM_CHROMIUMS = ("/usr/lib/chromium/chromium-headless-shell", "chromium-headless-shell",
                    "chromium", "chromium-browser", "google-chrome")


def _system_chromium() -> str | None:
    named = os.environ.get(ENV_VAR)
    candidates = (named,) if named else SYSTEM_CHROMIUMS
    for name in candidates:
        path = name if os.path.isabs(name) else shutil.which(name)
        if path and os.access(path, os.X_OK):
            return path
    return None


def launch_options() -> dict[str, str] | None:
    """Keyword arguments for ``playwright.chromium.launch``; None where no browser is there.

    ``{}`` means playwright's own Chromium; ``{"executable_path": ...}`` a system one.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not os.environ.get(ENV_VAR):
        with sync_playwright() as p:
            if Path(p.chromium.executable_path).exists():
                return {}
    path = _system_chromium()
    return {"executable_path": path} if path else None


def why_missing() -> str:
    """One sentence on what is missing, for a test's skip reason."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return ("playwright is not installed (pip install -e '.[browser]', or scripts/setup.sh "
                "where it can)")
    if os.environ.get(ENV_VAR):
        return f"${ENV_VAR} names {os.environ[ENV_VAR]}, which is not an executable"
    return ("playwright has no Chromium: run `python -m playwright install chromium`, "
            "`apt-get install chromium-headless-shell`, or set $PACELINE_CHROMIUM")


def main() -> int:
    options = launch_options()
    if options is None:
        print(why_missing(), file=sys.stderr)
        return 1
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(**options)
        except Error as e:
            print(f"Chromium does not start: {str(e).splitlines()[0]}", file=sys.stderr)
            return 1
        print(options.get("executable_path", p.chromium.executable_path), browser.version)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
