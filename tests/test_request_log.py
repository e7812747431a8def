"""Request logs: one line per request with its id, method, path, status, duration and
user id, as text or JSON, and never a password, token, cookie or Authorization value."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from tests.helpers import PASSWORD, last_image_id, make_user, settings, upload
from web.config import ConfigError, from_environment

TOKEN = re.compile(r'<code id="new-token">(imgrepo_[A-Za-z0-9_-]{43})</code>')
SHARE_PATH = re.compile(r'id="new-link" value="http://localhost(/s/([A-Za-z0-9_-]+))"')
TEXT_LINE = re.compile(
    r"request_id=(\S+) method=(\S+) path=(\S+) status=(\d+) duration_ms=([\d.]+) user_id=(\S+)"
)

json_logs = settings("json_logs", LOG_FORMAT="json")


def request_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "web.requests"]


def test_each_request_is_one_text_line_with_its_id_and_user(app, client, caplog):
    caplog.set_level(logging.INFO, logger="web.requests")
    alice = make_user(app, "alice")
    client.post("/login", data={"username": "alice", "password": PASSWORD})
    response = client.get("/myfiles", headers={"X-Request-Id": "abc-123"})
    client.get("/nothing-here")
    lines = request_lines(caplog)
    assert len(lines) == 3
    login, page, missing = (TEXT_LINE.fullmatch(line) for line in lines)
    assert login.group(2, 3, 4, 6) == ("POST", "/login", "302", str(alice.id))
    assert page.group(1, 2, 3, 4, 6) == ("abc-123", "GET", "/myfiles", "200", str(alice.id))
    assert response.headers["X-Request-Id"] == "abc-123"
    assert missing.group(3, 4) == ("/nothing-here", "404")
    assert float(page.group(5)) >= 0


def test_an_anonymous_request_has_no_user_and_its_id_is_the_pages(app, client, caplog):
    caplog.set_level(logging.INFO, logger="web.requests")
    response = client.get("/nothing-here")
    [line] = request_lines(caplog)
    match = TEXT_LINE.fullmatch(line)
    assert match.group(6) == "-"
    assert match.group(1) == response.headers["X-Request-Id"]
    assert response.headers["X-Request-Id"] in response.get_data(as_text=True)


def test_a_path_with_a_newline_or_spaces_stays_one_quoted_line(app, client, caplog):
    caplog.set_level(logging.INFO, logger="web.requests")
    client.get("/a%0Apath=/forged status=200 x")
    [line] = request_lines(caplog)
    assert "\n" not in line
    assert 'path="/a\\npath=/forged status=200 x" status=404' in line


def test_json_lines_for_log_collectors(json_logs, app, client, caplog):
    caplog.set_level(logging.INFO, logger="web.requests")
    alice = make_user(app, "alice")
    client.post("/login", data={"username": "alice", "password": PASSWORD})
    upload(client, "cat.png")
    entries = [json.loads(line) for line in request_lines(caplog)]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/login", 302),
        ("POST", "/myfiles", 303),
    ]
    entry = entries[1]
    assert entry["user_id"] == alice.id and entry["level"] == "info"
    assert re.fullmatch(r"[0-9a-f]{16}", entry["request_id"])
    assert isinstance(entry["duration_ms"], float) and entry["time"].endswith("+00:00")


def test_lines_go_to_standard_error(app, client, capsys):
    client.get("/nothing-here")
    assert "path=/nothing-here status=404" in capsys.readouterr().err


def test_log_format_must_be_text_or_json():
    assert from_environment({"LOG_FORMAT": "JSON"})["LOG_FORMAT"] == "json"
    assert from_environment({})["LOG_FORMAT"] == "text"
    with pytest.raises(ConfigError, match="LOG_FORMAT must be text or json, not 'yaml'"):
        from_environment({"LOG_FORMAT": "yaml"})


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_password_token_cookie_or_authorization_value_is_ever_logged(
    fmt, config, request, caplog
):
    """Everything any logger writes at any level, while a user logs in, makes a token
    (shown with its ShareX file) and uses it with a bearer header, shares an image by a
    link with a password that a visitor types, and a login fails with another password."""
    config["LOG_FORMAT"] = fmt
    app = request.getfixturevalue("app")
    client = app.test_client()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        make_user(app, "alice")
        client.post("/login", data={"username": "alice", "password": PASSWORD})
        page = client.post(
            "/account/tokens", data={"name": "sharex", "scope": "read-write", "expires": "never"}
        ).get_data(as_text=True)
        secret = TOKEN.search(page).group(1)
        cookie = client.get_cookie("session").value
        upload(client, "cat.png")
        share_password = "Share-lock-phrase-31"
        made = client.post(
            f"/image/{last_image_id(app)}/share",
            data={"expires": "never", "allow_download": "yes", "password": share_password},
        )
        link, link_token = SHARE_PATH.search(made.get_data(as_text=True)).groups()
        visitor = app.test_client()
        assert visitor.post(link, data={"password": share_password}).status_code == 303
        assert visitor.get(link).status_code == 200
        assert visitor.get(link + "/thumb").status_code == 200
        bearer = {"Authorization": f"Bearer {secret}"}
        assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 200
        wrong = "Wrong-password-in-the-query-77"
        app.test_client().post(
            f"/login?password={wrong}", data={"username": "alice", "password": wrong + "x"}
        )
        app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer imgrepo_guess99"})
    finally:
        logging.getLogger().removeHandler(handler)
    written = stream.getvalue() + "\n".join(r.getMessage() for r in caplog.records)
    assert "path=/api/v1/me status=200" in written or '"path": "/api/v1/me"' in written
    assert "path=/s/[redacted]/thumb status=200" in written or (
        '"path": "/s/[redacted]/thumb"' in written
    )
    secrets = (PASSWORD, secret, secret[16:], cookie, wrong, "imgrepo_guess99")
    for value in (*secrets, share_password, link_token, visitor.get_cookie("session").value):
        assert value not in written, value
