"""Settings from environment variables, strictly parsed, with an embedded default.

Every setting the application reads is listed in ``SETTINGS`` and documented in the
README's configuration table. With nothing set, the application runs on the embedded
default: an SQLite database and a filesystem object store under DATA_DIR, and a
SECRET_KEY generated once and kept in DATA_DIR.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from limits import parse_many

# Used with fullmatch: "$" would also accept a name followed by a newline.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


REDIS_TIMEOUT = 1.0  # seconds a Redis call may take before limits count in memory


class ConfigError(ValueError):
    """A setting has a value the application cannot use."""


def parse_bool(name: str, value: str) -> bool:
    """Parse a boolean setting; anything but the usual spellings is an error, not False."""
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def parse_int(name: str, value: str, minimum: int = 0) -> int:
    """Parse a whole-number setting no smaller than ``minimum``."""
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {number}")
    return number


def parse_rate_limit(name: str, value: str) -> str:
    """A rate limit as Flask-Limiter writes it ("600 per minute", "10/second; 1000/hour")."""
    try:
        limits = parse_many(value)
    except ValueError:
        limits = []
    if not limits:
        raise ConfigError(f"{name} must be a rate limit such as '600 per minute', not {value!r}")
    return value.strip()


def _str(name: str, value: str) -> str:
    return value


def parse_mail_tls(name: str, value: str) -> str:
    """How mail is sent: none (plain), starttls or ssl."""
    lowered = value.strip().lower()
    if lowered not in ("none", "starttls", "ssl"):
        raise ConfigError(f"{name} must be none, starttls or ssl, not {value!r}")
    return lowered


def parse_registration(name: str, value: str) -> str:
    """Who may sign up: open, invite or closed."""
    lowered = value.strip().lower()
    if lowered not in ("open", "invite", "closed"):
        raise ConfigError(f"{name} must be open, invite or closed, not {value!r}")
    return lowered


def parse_log_format(name: str, value: str) -> str:
    """How request lines are written: ``text`` for people, ``json`` for log collectors."""
    lowered = value.strip().lower()
    if lowered not in ("text", "json"):
        raise ConfigError(f"{name} must be text or json, not {value!r}")
    return lowered


def parse_preview_format(name: str, value: str) -> str:
    """The previews' format: webp, avif, or smallest (both made, the smaller kept)."""
    lowered = value.strip().lower()
    if lowered not in PREVIEW_FORMATS:
        raise ConfigError(f"{name} must be webp, avif or smallest, not {value!r}")
    return lowered


PREVIEW_FORMATS = ("webp", "avif", "smallest")


def parse_networks(name: str, value: str) -> list:
    """Comma-separated addresses or CIDR networks (``10.0.0.0/8, ::1``)."""
    networks = []
    for part in value.split(","):
        if not part.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"{name} must be addresses or networks such as 10.0.0.0/8, "
                f"separated by commas; {part.strip()!r} is neither"
            ) from None
    return networks


def parse_secret(name: str, value: str) -> str:
    """A secret someone types into another system's settings: long enough not to guess."""
    if len(value.strip()) < 16:
        raise ConfigError(f"{name} must be at least 16 characters (a long random value)")
    return value.strip()


def parse_location(name: str, value: str) -> str:
    """An nginx location's path such as /_s3: a slash, then letters, digits, _ and -."""
    if not re.fullmatch(r"(/[A-Za-z0-9_-]+)+", value.strip()):
        raise ConfigError(f"{name} must be a path such as /_s3, not {value!r}")
    return value.strip()


# name -> (parser, default). A default of None means "not set".
SETTINGS: dict[str, tuple[Any, Any]] = {
    "DATA_DIR": (_str, "data"),
    "DATABASE_URL": (_str, None),
    "SECRET_KEY": (_str, None),
    "S3_ENDPOINT": (_str, None),
    "S3_ACCESS_KEY": (_str, None),
    "S3_SECRET_KEY": (_str, None),
    "S3_SECURE": (parse_bool, False),
    "S3_REGION": (_str, None),
    "PUBLIC_BUCKET": (_str, "public"),
    "USER_BUCKET_PREFIX": (_str, "user-"),
    "MAX_UPLOAD_MB": (lambda n, v: parse_int(n, v, 1), 20),
    "DEFAULT_QUOTA_MB": (lambda n, v: parse_int(n, v, 0), None),
    "REQUIRE_2FA_FOR_ADMINS": (parse_bool, False),
    "MAX_IMAGE_PIXELS": (lambda n, v: parse_int(n, v, 1), 100_000_000),
    "MAX_TOTAL_PIXELS": (lambda n, v: parse_int(n, v, 1), 250_000_000),
    "MAX_CONCURRENT_DECODES": (lambda n, v: parse_int(n, v, 1), 2),
    "STORE_READS_PER_WORKER": (lambda n, v: parse_int(n, v, 1), 3),
    "ANONYMOUS_GALLERY": (parse_bool, False),
    "SESSION_COOKIE_SECURE": (parse_bool, False),
    "REDIS_URL": (_str, None),
    "RATELIMIT_ENABLED": (parse_bool, True),
    "KEEP_GPS": (parse_bool, False),
    "ALLOW_ANY_FILE": (parse_bool, False),
    "PAGE_SIZE": (lambda n, v: parse_int(n, v, 1), 48),
    "PENDING_GRACE_MINUTES": (lambda n, v: parse_int(n, v, 1), 10),
    "TRASH_DAYS": (lambda n, v: parse_int(n, v, 0), 30),
    "DB_POOL_SIZE": (lambda n, v: parse_int(n, v, 1), 5),
    "SESSION_DAYS": (lambda n, v: parse_int(n, v, 1), 14),
    "REGISTRATION": (parse_registration, "open"),
    # Mail, for forgotten passwords (see the README's "Forgotten passwords").
    "MAIL_SERVER": (_str, None),
    "MAIL_PORT": (lambda n, v: parse_int(n, v, 1), None),
    "MAIL_USERNAME": (_str, None),
    "MAIL_PASSWORD": (_str, None),
    "MAIL_TLS": (parse_mail_tls, "starttls"),
    "MAIL_FROM": (_str, None),
    "PUBLIC_URL": (_str, None),
    "PASSWORD_RESET_HOURS": (lambda n, v: parse_int(n, v, 1), 1),
    "THUMB_CACHE_MB": (lambda n, v: parse_int(n, v, 0), 64),
    "RENDITION_WORKERS": (lambda n, v: parse_int(n, v, 0), 1),
    "RENDITION_QUEUE": (lambda n, v: parse_int(n, v, 1), 32),
    "RENDITION_IDLE_MS": (lambda n, v: parse_int(n, v, 0), 300),
    "PREVIEW_FORMAT": (parse_preview_format, "webp"),
    "API_RATE_LIMIT": (parse_rate_limit, "600 per minute"),
    # Deadlines, in seconds (see the README's "Operations" section).
    "DB_CONNECT_TIMEOUT": (lambda n, v: parse_int(n, v, 1), 5),
    "DB_TIMEOUT": (lambda n, v: parse_int(n, v, 1), 10),
    "DB_POOL_TIMEOUT": (lambda n, v: parse_int(n, v, 1), 5),
    "S3_CONNECT_TIMEOUT": (lambda n, v: parse_int(n, v, 1), 3),
    "S3_TIMEOUT": (lambda n, v: parse_int(n, v, 1), 10),
    "TRUSTED_PROXIES": (lambda n, v: parse_int(n, v, 0), 0),
    "ACCEL_REDIRECT_PREFIX": (parse_location, None),
    "MAINTENANCE_INTERVAL": (lambda n, v: parse_int(n, v, 0), 60),
    "LOG_FORMAT": (parse_log_format, "text"),
    "METRICS_TOKEN": (parse_secret, None),
    "METRICS_ALLOW": (parse_networks, []),
    # Background jobs (see the README's "Background jobs").
    "JOB_THRESHOLD": (lambda n, v: parse_int(n, v, 0), 100),
    "JOB_QUEUE": (_str, "imgrepo-jobs"),
}


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read every known setting from ``environ``; unset ones take their default."""
    config: dict[str, Any] = {}
    for name, (parse, default) in SETTINGS.items():
        raw = environ.get(name)
        config[name] = default if raw is None or raw == "" else parse(name, raw)
    return config


PLACEHOLDER = "change-me"  # what docker/.env.example holds where a secret must go
SECRETS = ("SECRET_KEY", "DATABASE_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY", "METRICS_TOKEN")


def refuse_placeholders(config: Mapping[str, Any]) -> None:
    """A secret still holding the example's placeholder is not a secret: stop, naming it."""
    for name in SECRETS:
        value = config.get(name)
        if isinstance(value, str) and PLACEHOLDER in value.lower():
            raise ConfigError(
                f"{name} still holds a placeholder ({PLACEHOLDER!r}) from docker/.env.example: "
                "replace it with a real secret before starting"
            )


def finish(config: dict[str, Any]) -> dict[str, Any]:
    """Fill in derived settings (database URL, secret key, storage) and check them."""
    refuse_placeholders(config)
    data_dir = Path(config["DATA_DIR"]).resolve()
    config["DATA_DIR"] = str(data_dir)
    if not config.get("DATABASE_URL"):
        data_dir.mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{data_dir / 'imgrepo.sqlite3'}"
    if not config.get("SECRET_KEY"):
        if not config["DATABASE_URL"].startswith("sqlite"):
            # Instances sharing a database must sign sessions with one key; each one
            # generating its own would silently log people out as requests move around.
            raise ConfigError(
                "SECRET_KEY must be set when DATABASE_URL is a shared database: set the same "
                "long random value (e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`) in the "
                "environment of every instance"
            )
        config["SECRET_KEY"] = _stored_secret_key(data_dir)
    if config.get("MAIL_SERVER"):
        # Links in mail come from PUBLIC_URL, never from a request's Host header, which
        # whoever asks for a reset could forge.
        if not config.get("MAIL_FROM") or not config.get("PUBLIC_URL"):
            raise ConfigError("MAIL_SERVER is set: MAIL_FROM and PUBLIC_URL must be set too")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", config["PUBLIC_URL"]):
            raise ConfigError(
                f"PUBLIC_URL must be the site's address such as https://photos.example.org, "
                f"not {config['PUBLIC_URL']!r}"
            )
    config["STORAGE"] = "s3" if config.get("S3_ENDPOINT") else "file"
    if config["STORAGE"] == "s3" and not (
        config.get("S3_ACCESS_KEY") and config.get("S3_SECRET_KEY")
    ):
        raise ConfigError("S3_ENDPOINT is set: S3_ACCESS_KEY and S3_SECRET_KEY must be set too")
    if not BUCKET_NAME.fullmatch(config["PUBLIC_BUCKET"]):
        raise ConfigError(f"PUBLIC_BUCKET {config['PUBLIC_BUCKET']!r} is not a valid bucket name")
    prefix = config["USER_BUCKET_PREFIX"]
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", prefix):
        raise ConfigError(
            f"USER_BUCKET_PREFIX {prefix!r} must be 1-31 lowercase letters, digits or hyphens"
        )
    if config["PUBLIC_BUCKET"].startswith(prefix):
        raise ConfigError("PUBLIC_BUCKET must not start with USER_BUCKET_PREFIX")
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_MB"] * 1024 * 1024
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_SECURE", config["SESSION_COOKIE_SECURE"])
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    config.setdefault("RATELIMIT_STORAGE_URI", config.get("REDIS_URL") or "memory://")
    if config.get("REDIS_URL"):
        # Redis is optional at run time: when it fails (or hangs for a second), limits
        # count in each process's memory until it answers again.
        config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT},
        )
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    return config


def _stored_secret_key(data_dir: Path) -> str:
    """Return the secret key kept in DATA_DIR, generating it (mode 0600) the first time."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        key = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first: use theirs
            return path.read_text().strip()
        try:
            os.write(fd, key.encode())
        finally:
            os.close(fd)
    return path.read_text().strip()


def load(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Settings from the environment, then ``overrides`` (tests pass theirs here)."""
    config = from_environment(os.environ)
    config.update(overrides or {})
    return finish(config)
