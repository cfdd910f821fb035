"""Build the web site's assets into .cache/site-assets (served at /assets/ by the local stack's
distribution, uploaded to the assets bucket by `make deploy`).

The style is compiled from the U.S. Web Design System's Sass packages and templates/site/assets
(only the components the pages use, system fonts); the script is USWDS's own plus the site's
enhancements. Only the images the style and the pages refer to are copied. The forms that take
a seat also load the ALTCHA widget (its build without inline styles or inline workers, so the
site's Content-Security-Policy stays 'self' only), its PBKDF2 worker and its style.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from infra import REPO_ROOT

NODE_PROJECT = REPO_ROOT / "infra" / "assets"
USWDS = NODE_PROJECT / "node_modules" / "@uswds" / "uswds"
ALTCHA = NODE_PROJECT / "node_modules" / "altcha" / "dist"
# The widget's files, by the name the site serves them under
ALTCHA_FILES = {
    "altcha.js": ALTCHA / "external" / "altcha.min.js",
    "altcha.css": ALTCHA / "external" / "altcha.css",
    "altcha-pbkdf2.js": ALTCHA / "workers" / "pbkdf2.js",
}
SOURCES = REPO_ROOT / "templates" / "site" / "assets"
OUTPUT = REPO_ROOT / ".cache" / "site-assets"
# Images the pages themselves show (the banner's flag and icons).
PAGE_IMAGES = ("us_flag_small.png", "icon-dot-gov.svg", "icon-https.svg")
_CSS_URL = re.compile(r'url\("?(img/[^")]+)"?\)')


def build(output: Path = OUTPUT) -> Path:
    staging = output.with_name(output.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    css = staging / "site.css"
    subprocess.run(
        [
            str(NODE_PROJECT / "node_modules" / ".bin" / "sass"),
            "--no-source-map",
            "--style=compressed",
            "--quiet-deps",
            f"--load-path={USWDS / 'packages'}",
            str(SOURCES / "site.scss"),
            str(css),
        ],
        check=True,
    )
    shutil.copyfile(USWDS / "dist" / "js" / "uswds.min.js", staging / "uswds.min.js")
    shutil.copyfile(SOURCES / "site.js", staging / "site.js")
    shutil.copyfile(SOURCES / "challenge.js", staging / "challenge.js")
    for name, source in ALTCHA_FILES.items():
        shutil.copyfile(source, staging / name)
    images = set(_CSS_URL.findall(css.read_text(encoding="utf-8")))
    images.update(f"img/{name}" for name in PAGE_IMAGES)
    for image in sorted(images):
        target = staging / image
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(USWDS / "dist" / image, target)
    shutil.rmtree(output, ignore_errors=True)
    staging.rename(output)
    return output


if __name__ == "__main__":
    print(f"site assets in {build().relative_to(REPO_ROOT)}")
