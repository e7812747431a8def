"""The scale-out deployment (docker/docker-compose.scale.yml): valid for docker-compose
with the values of docker/.env.example, every required secret named when missing, and
nginx balancing the three instances that trust its forwarded headers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from web.config import ConfigError, load

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
    assert rendered.count("ACCEL_REDIRECT_PREFIX: /_s3") == rendered.count("TRUSTED_PROXIES: '1'")
    assert "location /_s3/ {\n        internal;" in (DOCKER / "nginx-scale.conf").read_text()
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


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "change-me-to-a-long-random-string"),
        ("DATABASE_URL", "mysql+pymysql://imgrepo:change-me-mysql-password@db/imgrepo"),
        ("S3_SECRET_KEY", "Change-Me-minio-password"),
    ],
)
def test_a_placeholder_of_the_example_settings_is_refused_at_start(tmp_path, name, value):
    settings = {
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "a-real-secret-of-some-length",
        "S3_ENDPOINT": "minio:9000",
        "S3_ACCESS_KEY": "imgrepo-minio",
        "S3_SECRET_KEY": "a-real-minio-password",
        name: value,
    }
    with pytest.raises(ConfigError, match=f"{name} still holds a placeholder"):
        load(settings)


def test_web_concurrency_sets_the_gunicorn_workers():
    def workers(**env: str) -> int:
        clean = {
            k: v for k, v in os.environ.items() if k not in ("GUNICORN_WORKERS", "WEB_CONCURRENCY")
        }
        code = "import web.gunicorn_conf as conf; print(conf.workers)"
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=DOCKER.parent,
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return int(done.stdout)

    assert workers(WEB_CONCURRENCY="3") == 3
    assert workers(WEB_CONCURRENCY="3", GUNICORN_WORKERS="5") == 5
    assert workers() == (os.cpu_count() or 1)


def test_both_compose_files_pin_mysql_8_4_and_a_minio_release_and_pass_settings_on():
    for name in ("docker-compose.yml", "docker-compose.scale.yml"):
        text = (DOCKER / name).read_text()
        assert "image: mysql:8.4" in text, name
        assert re.search(r"image: minio/minio:RELEASE\.\d{4}-", text), name
        for setting in ("WEB_CONCURRENCY", "LOG_FORMAT", "METRICS_TOKEN", "HOME"):
            assert f"{setting}:" in text, (name, setting)
