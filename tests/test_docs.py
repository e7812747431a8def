"""The README's configuration table describes exactly the settings the code reads.

The settings are found where they are read, so that a new one cannot be forgotten:
every name in ``web.config.SETTINGS``; every literal name read from the environment in
web/ (``os.environ``, ``os.getenv``, click's ``envvar=``); every variable the container's
entrypoint and the Makefile expand (``${NAME:-default}``, ``$${NAME}``) or export.
docker-compose.yml and docker/check-compose.sh are left out: their variables fill in the
compose file itself and are described in docker/.env.example.
"""

from __future__ import annotations

import re
from pathlib import Path

from web.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
NAME = r"[A-Z][A-Z0-9_]*"
PYTHON_READS = re.compile(rf"""(?:environ\.get\(|environ\[|getenv\(|envvar=)\s*["']({NAME})["']""")
SHELL_READS = re.compile(rf"\$\$?\{{({NAME})(?:[:?+=-][^}}]*)?\}}|\$({NAME})\b")
EXPORTS = re.compile(rf"^export ((?:{NAME}\s*)+)$", re.MULTILINE)
# Variables of make and the shell themselves, not settings of the product.
NOT_SETTINGS = {"PYTHON", "VENV", "BIN", "PHOTOS", "PATH", "HOME"}


def settings_in_code() -> dict[str, str]:
    """Each setting the code reads, with one place that reads it."""
    found = {name: "web/config.py SETTINGS" for name in SETTINGS}
    for path in sorted((ROOT / "web").rglob("*.py")):
        for name in PYTHON_READS.findall(path.read_text()):
            found.setdefault(name, str(path.relative_to(ROOT)))
    for path in [ROOT / "docker" / "entrypoint.sh", ROOT / "Makefile"]:
        text = path.read_text()
        names = [a or b for a, b in SHELL_READS.findall(text)]
        names += [n for line in EXPORTS.findall(text) for n in line.split()]
        for name in names:
            if name not in NOT_SETTINGS:
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def settings_in_readme() -> set[str]:
    """The names in the first column of the README's configuration table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(rf"`({NAME})`", first_cell))
    return names


def test_the_readme_describes_every_setting_the_code_reads():
    documented = settings_in_readme()
    missing = {name: where for name, where in settings_in_code().items() if name not in documented}
    assert missing == {}, "add these to the README's configuration table"


def test_the_readme_describes_no_setting_the_code_does_not_read():
    assert settings_in_readme() - set(settings_in_code()) == set()


def test_the_scan_finds_the_settings_read_outside_config():
    """The scan itself: the names read by gunicorn, the entrypoint and the commands."""
    found = settings_in_code()
    for name, where in {
        "GUNICORN_WORKERS": "web/gunicorn_conf.py",
        "GUNICORN_THREADS": "web/gunicorn_conf.py",
        "DB_UPGRADE_TRIES": "docker/entrypoint.sh",
        "DB_UPGRADE_DELAY": "docker/entrypoint.sh",
        "ADMIN_USERNAME": "web/cli.py",
        "ADMIN_PASSWORD": "web/cli.py",
        "ADMIN_EMAIL": "web/cli.py",
        "HOST": "web/gunicorn_conf.py",
    }.items():
        assert found.get(name) == where, name
