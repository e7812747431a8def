"""The benchmark's HTTP client: sign-up and login as a browser does, uploads, page parsing.

``requests`` is used where a browser's behaviour matters (forms, cookies, CSRF); the
serving test uses ``http.client`` directly, whose per-request cost on the client side
is a fraction of ``requests``'s, so that a 2-core machine measures the server, not
the client.
"""

from __future__ import annotations

import http.client
import secrets
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

PASSWORD = "Bench-harbor-lantern-42"
TIMEOUT = 120


class PageParser(HTMLParser):
    """Collects what the benchmark needs from a page: CSRF token, images, links, assets."""

    def __init__(self) -> None:
        super().__init__()
        self.csrf_token: str | None = None
        self.images: list[str] = []
        self.next_links: list[str] = []
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") == "csrf_token" and self.csrf_token is None:
            self.csrf_token = a.get("value")
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])
        elif tag == "a" and "next" in a.get("rel", "").split() and a.get("href"):
            self.next_links.append(a["href"])
        elif tag == "link" and "stylesheet" in a.get("rel", "").split() and a.get("href"):
            self.stylesheets.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"])


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def cursor_of(link: str, arg: str = "public_after") -> str | None:
    values = parse_qs(urlsplit(link).query).get(arg)
    return values[0] if values else None


class BenchError(RuntimeError):
    """The application did not answer as a browser would expect."""


def _expect(response: requests.Response, *statuses: int, what: str) -> requests.Response:
    if response.status_code not in statuses:
        body = response.text[:600].replace("\n", " ")
        raise BenchError(f"{what}: HTTP {response.status_code} (expected {statuses}): {body}")
    return response


@dataclass
class User:
    """A signed-in browser: its requests session, CSRF token and logged-in cookies."""

    base: str
    username: str
    session: requests.Session
    csrf_token: str = ""
    cookies: dict[str, str] = field(default_factory=dict)

    def refresh_token(self) -> None:
        """GET /myfiles for the form's CSRF token, then remember the session cookie.

        Each upload is sent with these cookies and the cookies it sets are dropped, so
        that flashed messages do not pile up in the cookie: every upload is the same
        request, as from a browser that follows each redirect.
        """
        page = _expect(
            self.session.get(self.base + "/myfiles", timeout=TIMEOUT), 200, what="GET /myfiles"
        )
        token = parse(page.text).csrf_token
        if not token:
            raise BenchError("no csrf_token on /myfiles")
        self.csrf_token = token
        self.cookies = self.session.cookies.get_dict()

    def restore_cookies(self) -> None:
        self.session.cookies.clear()
        for name, value in self.cookies.items():
            self.session.cookies.set(name, value)

    def upload(self, filename: str, data: bytes, visibility: str, content_type: str) -> float:
        """POST one file to /myfiles; return the seconds until the 303 came back."""
        started = time.perf_counter()
        response = self.session.post(
            self.base + "/myfiles",
            data={"visibility": visibility, "csrf_token": self.csrf_token},
            files={"file": (filename, data, content_type)},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        elapsed = time.perf_counter() - started
        self.restore_cookies()
        _expect(response, 303, what=f"upload of {filename}")
        return elapsed

    def clone(self) -> User:
        """Another connection of the same signed-in browser (same cookies, no new login)."""
        session = requests.Session()
        session.headers["User-Agent"] = str(self.session.headers.get("User-Agent", ""))
        session.cookies.update(self.cookies)
        return User(self.base, self.username, session, self.csrf_token, dict(self.cookies))

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def _submit_form(base: str, path: str, fields: dict[str, str], username: str, what: str) -> User:
    """GET a form page for its CSRF token, POST ``fields`` as a browser would, expect the
    redirect that means success; the session is then signed in as ``username``."""
    session = requests.Session()
    page = _expect(session.get(base + path, timeout=TIMEOUT), 200, what=f"GET {path}")
    token = parse(page.text).csrf_token
    if not token:
        raise BenchError(f"no csrf_token on {path}")
    response = session.post(
        base + path,
        data={**fields, "csrf_token": token},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    _expect(response, 302, 303, what=what)
    user = User(base, username, session)
    user.refresh_token()
    return user


def signup(base: str, prefix: str = "bench") -> User:
    """Create an account through the sign-up form, as a browser would."""
    username = f"{prefix}{secrets.token_hex(4)}"
    fields = {
        "name": f"Bench {username}",
        "username": username,
        "email": f"{username}@example.org",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    return _submit_form(base, "/signin", fields, username, f"sign-up of {username}")


def login(base: str, username: str) -> User:
    """Log an existing account in with a new browser session (the login form)."""
    fields = {"username": username, "password": PASSWORD}
    return _submit_form(base, "/login", fields, username, f"login of {username}")


def absolute(base: str, link: str) -> str:
    return urljoin(base + "/", link)


class RawHTTP:
    """One keep-alive connection sending GETs with fixed cookies (the serving test)."""

    def __init__(self, user: User) -> None:
        parts = urlsplit(user.base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        # The same User-Agent as the session that logged in: Flask-Login's "strong"
        # session protection ties the session to the client's address and User-Agent.
        self.headers = {
            "Cookie": user.cookie_header(),
            "User-Agent": str(user.session.headers.get("User-Agent", "")),
            "Accept": "image/avif,image/webp,*/*",
        }
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, etag: str | None = None) -> tuple[int, int, str | None]:
        """GET path; return (status, body bytes, ETag). Reconnects once if the server closed."""
        headers = dict(self.headers)
        if etag:
            headers["If-None-Match"] = etag
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request("GET", path, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, len(body), response.getheader("ETag")
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
