"""Login rate limits shared through Redis when REDIS_URL is set (several web processes)."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.helpers import PASSWORD, build_app, make_user, teardown_app

REDIS_URL = "redis://127.0.0.1:6379/0"
# One prefix for the whole run: Flask-Limiter keeps the first key prefix it is given
# for the life of the process (one app per process in production).
PREFIX = f"imgrepo-test-{uuid.uuid4().hex}"


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    client.ping()  # Redis runs on every machine here; if it does not answer, this fails
    return client


def test_counts_live_in_redis_and_outlive_a_process(config, redis_client):
    prefix = PREFIX
    config.update(RATELIMIT_ENABLED=True, REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    config.pop("RATELIMIT_STORAGE_URI", None)
    first = build_app(dict(config))
    try:
        assert first.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
        make_user(first, "dave")
        client = first.test_client()
        for _ in range(5):
            client.post("/login", data={"username": "dave", "password": "wrong-Pass-1234"})
        assert redis_client.keys(f"*{prefix}*")
        # A second web process (a new app with fresh limiter storage) sees the same counts.
        second = build_app(dict(config))
        response = second.test_client().post(
            "/login", data={"username": "dave", "password": PASSWORD}
        )
        assert response.status_code == 429
    finally:
        for key in redis_client.scan_iter(f"*{prefix}*"):
            redis_client.delete(key)
        teardown_app(first)
