"""`make run` and `make test` on a fresh Debian without python3-venv: they say exactly
what to install, or install it when run as root (.ci/ensure-venv.sh, run by the
Makefile before it makes the virtualenv)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "ensure-venv.sh"


def fake_system(tmp_path: Path, uid: int, venv_after_install: bool) -> Path:
    """A PATH with a Python 3.11 whose venv is missing (until apt-get installs it, when
    ``venv_after_install``), an `id` reporting ``uid``, and an apt-get that records."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    installed = tmp_path / "installed"
    scripts = {
        "python3": f"""#!/bin/sh
case "$2" in
  *ensurepip*) [ -e {installed} ] && exit 0; exit 1 ;;
  *version_info*) echo 3.11 ;;
esac
""",
        "id": f"#!/bin/sh\necho {uid}\n",
        "apt-get": f"""#!/bin/sh
echo "$*" >> {log}
{"touch " + str(installed) if venv_after_install else "true"}
""",
        "apt-cache": "#!/bin/sh\nexit 0\n",
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def run(bin_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT), "python3"],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_venv_a_user_is_told_exactly_what_to_install(tmp_path):
    bin_dir = fake_system(tmp_path, uid=1000, venv_after_install=True)
    result = run(bin_dir)
    assert result.returncode == 1
    assert "install Debian's python3.11-venv package (sudo apt-get install python3.11-venv)" in (
        result.stderr
    )
    assert not (tmp_path / "apt.log").exists()


def test_without_venv_root_installs_it_and_goes_on(tmp_path):
    bin_dir = fake_system(tmp_path, uid=0, venv_after_install=True)
    result = run(bin_dir)
    assert result.returncode == 0, result.stderr
    assert "installing Debian's python3.11-venv" in result.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls[0] == "update -qq" and calls[1] == "install -y -qq python3.11-venv"


def test_an_install_that_does_not_help_still_says_what_is_missing(tmp_path):
    bin_dir = fake_system(tmp_path, uid=0, venv_after_install=False)
    result = run(bin_dir)
    assert result.returncode == 1
    assert "'python3 -m venv' does not work here" in result.stderr


def test_with_venv_nothing_is_done():
    result = subprocess.run(
        ["/bin/bash", str(SCRIPT), "python3"],
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == ""


def test_the_makefile_checks_before_it_makes_the_virtualenv():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(BIN)/activate:\n", 1)[1]
    assert recipe.index("ensure-venv.sh") < recipe.index("-m venv")
