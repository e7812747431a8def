"""Settings come from the environment, strictly parsed, with an embedded default."""

from __future__ import annotations

import pytest

from web import config as settings
from web import create_app


def test_embedded_default_uses_sqlite_and_files_under_data_dir(tmp_path):
    config = settings.finish(settings.from_environment({"DATA_DIR": str(tmp_path)}))
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'imgrepo.sqlite3'}"
    assert config["STORAGE"] == "file"
    assert config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = settings.finish(settings.from_environment({"DATA_DIR": str(tmp_path)}))
    second = settings.finish(settings.from_environment({"DATA_DIR": str(tmp_path)}))
    assert len(first["SECRET_KEY"]) == 64
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_secret_key_from_the_environment_wins(tmp_path):
    config = settings.finish(
        settings.from_environment({"DATA_DIR": str(tmp_path), "SECRET_KEY": "from-env"})
    )
    assert config["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("raw", "value"),
    [("true", True), ("1", True), ("Yes", True), ("false", False), ("0", False), ("off", False)],
)
def test_booleans(raw, value):
    assert settings.from_environment({"S3_SECURE": raw})["S3_SECURE"] is value


@pytest.mark.parametrize("raw", ["ture", "2", "enabled"])
def test_a_bad_boolean_is_an_error_not_false(raw):
    with pytest.raises(settings.ConfigError, match="S3_SECURE must be true or false"):
        settings.from_environment({"S3_SECURE": raw})


def test_a_bad_number_is_an_error():
    with pytest.raises(settings.ConfigError, match="MAX_UPLOAD_MB must be a whole number"):
        settings.from_environment({"MAX_UPLOAD_MB": "lots"})
    with pytest.raises(settings.ConfigError, match="at least 1"):
        settings.from_environment({"MAX_UPLOAD_MB": "0"})


def test_s3_needs_its_keys(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "S3_ENDPOINT": "127.0.0.1:9000"}
    with pytest.raises(settings.ConfigError, match="S3_ACCESS_KEY and S3_SECRET_KEY"):
        settings.finish(settings.from_environment(env))
    env.update(S3_ACCESS_KEY="a", S3_SECRET_KEY="b")
    assert settings.finish(settings.from_environment(env))["STORAGE"] == "s3"


@pytest.mark.parametrize(
    ("name", "value"),
    [("PUBLIC_BUCKET", "Bad_Bucket"), ("USER_BUCKET_PREFIX", "UPPER-"), ("PUBLIC_BUCKET", "ab")],
)
def test_invalid_bucket_settings_are_refused(tmp_path, name, value):
    with pytest.raises(settings.ConfigError, match=name):
        settings.finish(settings.from_environment({"DATA_DIR": str(tmp_path), name: value}))


def test_public_bucket_may_not_look_like_a_user_bucket(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "PUBLIC_BUCKET": "user-public"}
    with pytest.raises(settings.ConfigError, match="must not start with USER_BUCKET_PREFIX"):
        settings.finish(settings.from_environment(env))


def test_create_app_reads_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MAX_UPLOAD_MB", "7")
    app = create_app()
    assert app.config["MAX_CONTENT_LENGTH"] == 7 * 1024 * 1024
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
