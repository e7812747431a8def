"""The scale-out deployment (docker/docker-compose.scale.yml): valid for docker-compose
with the values of docker/.env.example, every required secret named when missing, and
nginx balancing the three instances that trust its forwarded headers."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOCKER = Path(__file__).resolve().parent.parent / "docker"
REQUIRED = ["MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"]


def compose_config(env_file: Path) -> subprocess.CompletedProcess:
    """`docker-compose config` of the scale-out file with only ``env_file`` (a clean
    environment: neither the caller's variables nor docker/.env fill in a value)."""
    assert shutil.which("docker-compose"), "make test installs docker-compose"
    return subprocess.run(
        [
            "docker-compose",
            "--project-directory",
            str(DOCKER),
            "-f",
            str(DOCKER / "docker-compose.scale.yml"),
            "--env-file",
            str(env_file),
            "config",
        ],
        cwd=DOCKER,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(env_file.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_scale_out_file_is_valid_with_the_example_settings(tmp_path):
    env_file = tmp_path / "full.env"
    shutil.copy(DOCKER / ".env.example", env_file)
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    rendered = result.stdout
    assert "${" not in rendered
    services = set(re.findall(r"^  ([a-z0-9-]+):$", rendered.split("\nvolumes:")[0], re.M))
    expected = {"nginx", "web1", "web2", "web3", "db", "redis"} | {f"minio{n}" for n in range(1, 5)}
    assert expected <= services
    assert rendered.count("TRUSTED_PROXIES: '1'") == 3
    assert rendered.count("http://minio{1...4}/data") == 4
    assert "image: mysql:8.4" in rendered
    assert re.search(r"image: minio/minio:RELEASE\.\d{4}-\d\d-\d\dT", rendered)


@pytest.mark.parametrize("name", [*REQUIRED, "SECRET_KEY"])
def test_a_missing_secret_stops_the_scale_out_file_naming_it(tmp_path, name):
    example = (DOCKER / ".env.example").read_text().splitlines()
    env_file = tmp_path / "missing.env"
    env_file.write_text("\n".join(line for line in example if not line.startswith(f"{name}=")))
    result = compose_config(env_file)
    assert result.returncode != 0
    assert f"set {name} in docker/.env" in result.stderr


def test_nginx_balances_the_three_instances_and_hides_metrics():
    conf = (DOCKER / "nginx-scale.conf").read_text()
    assert re.findall(r"server (web\d):8000", conf) == ["web1", "web2", "web3"]
    assert "proxy_next_upstream error timeout;" in conf
    assert re.search(r"location = /metrics \{\s*return 404;", conf)
