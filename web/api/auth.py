"""Who calls the API: a personal access token (``Authorization: Bearer``) or, for the
pages' own scripts, the browser's session (whose state changes carry a CSRF token).

A request that carries a bearer token is authenticated by that token alone, never by
a session cookie it may also carry. A ``read`` token may not change anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..accounts import tokens
from ..models import ApiToken, User
from ..rules import Forbidden, RuleError
from ..security import has_bearer_token
from ..viewers import signed_in

NO_CREDENTIALS = "Authenticate with the header 'Authorization: Bearer <token>'."
NOT_VALID = "The token is not valid: it is unknown, revoked or expired, or its user is gone."
READ_ONLY = "This token may only read. Make a read-write token to change images."


class Unauthorized(RuleError):
    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="api"'}


@dataclass
class Caller:
    user: User
    token: ApiToken | None  # None: the browser's session

    @property
    def can_write(self) -> bool:
        return self.token is None or self.token.can_write


def caller(write: bool) -> Caller:
    """The caller of this request; Unauthorized without valid credentials, Forbidden when a
    ``read`` token asks to change something (``write``)."""
    if has_bearer_token():
        token = tokens.authenticate(request.authorization.token or "")
        if token is None:
            raise Unauthorized(NOT_VALID)
        found = Caller(token.user, token)
    elif signed_in(current_user):
        found = Caller(current_user._get_current_object(), None)
    else:
        raise Unauthorized(NO_CREDENTIALS)
    g.caller_user_id = found.user.id  # for the request's log line
    if write and not found.can_write:
        raise Forbidden(READ_ONLY)
    return found


def rate_limit_key() -> str:
    """Whose budget a request spends: its token's, else its user's, else its address's."""
    if has_bearer_token():
        secret = request.authorization.token or ""
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:32]
    if signed_in(current_user):
        return f"api-user:{current_user.id}"
    return "api-address:" + (get_remote_address() or "")
