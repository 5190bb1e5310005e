"""Vendor Swagger UI's browser assets from the npm package ``swagger-ui-dist`` (``make vendor-swagger-ui``).

The API serves these files itself, so ``/schema`` works offline and runs no third-party code from a CDN.
``npm pack`` fetches the exact version from the npm registry and checks the tarball against the registry's
integrity hash; the files and their SHA-256 go to ``static/swagger-ui/`` with a ``VENDORED.json`` that records
the package, version and integrity (a test compares the files with it).

    python -m app.web.vendor_swagger_ui 5.32.0
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "swagger-ui-dist"
NPM = shutil.which("npm")
TARGET = Path(__file__).parent / "static" / "swagger-ui"
MANIFEST = TARGET / "VENDORED.json"
FILES = (
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-ui.css",
    "favicon-32x32.png",
    "LICENSE",
)
"""What Litestar's Swagger UI page loads, and the licence that comes with them."""


def vendor(version: str) -> dict[str, object]:
    if NPM is None:
        raise SystemExit("npm is needed (it comes with Node.js)")
    with tempfile.TemporaryDirectory() as scratch:
        packed = subprocess.run(  # noqa: S603  (a maintainer's tool; the version is checked against npm's answer)
            [NPM, "pack", f"{PACKAGE}@{version}", "--json", "--pack-destination", scratch],
            capture_output=True,
            text=True,
            check=True,
            cwd=scratch,
        )
        [info] = json.loads(packed.stdout)
        if info["version"] != version:
            raise SystemExit(f"npm packed {info['version']}, not {version}")
        with tarfile.open(Path(scratch) / info["filename"]) as archive:
            archive.extractall(scratch, filter="data")
        shutil.rmtree(TARGET, ignore_errors=True)
        TARGET.mkdir(parents=True)
        checksums = {}
        for name in FILES:
            data = (Path(scratch) / "package" / name).read_bytes()
            (TARGET / name).write_bytes(data)
            checksums[name] = hashlib.sha256(data).hexdigest()
    manifest: dict[str, object] = {
        "package": PACKAGE,
        "version": version,
        "integrity": info["integrity"],
        "sha256": checksums,
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m app.web.vendor_swagger_ui VERSION")
    print(json.dumps(vendor(sys.argv[1])))
