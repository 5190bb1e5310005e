"""A TypeScript client generated from the OpenAPI document (openapi-typescript + openapi-fetch) type-checks an
SPA-style module under ``tsc --strict`` with no casts: the document is precise enough to build a UI on."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

PROJECT = Path(__file__).parent / "ts_client"
SPA = PROJECT / "src" / "spa.ts"
BIN = PROJECT / "node_modules" / ".bin"
STAMP = PROJECT / "node_modules" / ".rollcall-lock.sha256"
"""The hash of the package-lock.json that node_modules was installed from: ``npm ci`` only when it changed."""

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None, reason="npm is not installed (Node.js is needed to type-check the TypeScript client)"
)


def run(*command: str | Path, timeout: float = 300) -> None:
    done = subprocess.run(
        [str(part) for part in command], cwd=PROJECT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout}\n{done.stderr}"


def install_once() -> None:
    lock = hashlib.sha256((PROJECT / "package-lock.json").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == lock:
        return
    run("npm", "ci", "--no-audit", "--no-fund")
    STAMP.write_text(lock)


def test_the_spa_module_uses_no_casts_no_any_and_no_non_null_assertions() -> None:
    code = re.sub(r"//.*|/\*[\s\S]*?\*/", "", SPA.read_text())  # comments may name what the code avoids
    assert not re.search(r"\bas\s+(?!const\b)\w", code), "a cast"
    assert not re.search(r"\bany\b", code), "an any"
    assert not re.search(r"[\w)\]]!(?=[.\[(;,)])", code), "a non-null assertion"
    assert "@ts-" not in code


async def test_a_client_generated_from_the_document_type_checks_an_spa_module_under_strict(
    client: AsyncTestClient[Litestar],
) -> None:
    document = await client.get("/schema/openapi.json")
    assert document.status_code == 200
    install_once()
    generated = PROJECT / "generated"
    generated.mkdir(exist_ok=True)
    (generated / "openapi.json").write_bytes(document.content)
    run(BIN / "openapi-typescript", "generated/openapi.json", "--output", "generated/rollcall.d.ts")
    run(BIN / "tsc", "--strict", "--noEmit", "--project", "tsconfig.json")
