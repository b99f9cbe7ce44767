"""Installed from its wheel (not editable) and run from an empty folder, warroom carries
what it needs: the shipped playbooks and the simulator's data. CI runs this; deselect it
locally with `-m "not packaging"` (it builds a wheel: about 15 s)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bot.store.migrate import head_revision

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
# Not part of the source: environments, caches, build leftovers (setuptools reuses build/,
# so a stale module there would slip into the wheel), local databases and config.
NOT_SOURCE = shutil.ignore_patterns(
    ".*", "build", "dist", "*.egg-info", "__pycache__", "*.db*", "config.yaml"
)


def run(*command, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with warroom installed from its wheel; returns its python.
    Its dependencies are the test environment's (made visible with a .pth file), so no
    download is needed beyond the build backend."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        work / "wheels",
        ".",
        cwd=source,
    )
    (wheel,) = (work / "wheels").glob("warroom-*.whl")
    run(sys.executable, "-m", "venv", work / "venv", cwd=work)
    python = work / "venv" / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work)
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.stdout.strip()) / "test-dependencies.pth").write_text("\n".join(dependencies) + "\n")
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=work)
    return python


@pytest.fixture
def empty_folder(tmp_path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def clean_environment() -> dict:
    """No settings from the developer's shell (BOT_CONFIG, DATABASE_URL, PYTHONPATH...)."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}


def test_the_wheel_is_what_runs(installed, empty_folder):
    where = run(installed, "-c", "import bot; print(bot.__file__)", cwd=empty_folder)
    assert where.stdout.startswith(str(installed.parent.parent)), where.stdout


def test_check_finds_the_shipped_playbooks(installed, empty_folder):
    result = run(installed, "-m", "bot", "check", cwd=empty_folder, env=clean_environment())
    assert "playbooks default, security-breach, third-party-outage" in result.stdout
    assert "drill scenarios checkout-meltdown, leaked-credentials" in result.stdout
    assert list(empty_folder.iterdir()) == []


def test_demo_runs(installed, empty_folder):
    result = run(installed, "-m", "bot", "demo", cwd=empty_folder, env=clean_environment())
    assert "#incident-updates (executives, read-only)" in result.stdout
    assert "INC-1 · Checkout API returning 500s" in result.stdout


def test_migrate_runs_the_migrations_shipped_in_the_wheel(installed, empty_folder):
    database = f"sqlite+aiosqlite:///{empty_folder}/incidents.db"
    env = clean_environment() | {"DATABASE_URL": database}
    result = run(installed, "-m", "bot", "migrate", cwd=empty_folder, env=env)
    assert f"database schema: upgraded from empty to {head_revision()}" in result.stderr
