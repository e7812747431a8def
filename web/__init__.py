"""The image repository: a Flask application built by ``create_app``.

Rooms by feature (``accounts``, ``images``, ``comments``, ``admin``, ``api``,
``operations``), each with its views in ``routes``, above one floor that knows no
feature (config, extensions, models, storage, imaging, rules, audit, paging, errors,
security). Only this factory imports the views.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from flask import session as flask_session
from flask_babel import gettext
from werkzeug.middleware.proxy_fix import ProxyFix

from . import activity, cli, errors, i18n, security
from . import config as settings
from .accounts import sessions
from .accounts.password_routes import bp as passwords_bp
from .accounts.routes import account_bp, auth_bp
from .accounts.token_routes import bp as tokens_bp
from .accounts.two_factor_routes import bp as two_factor_bp
from .admin.routes import bp as admin_bp
from .albums.routes import albums_bp
from .albums.routes import bp as sharing_bp
from .api import v1_album_routes, v1_routes, v1_trash_routes  # noqa: F401 - their views register on api_v1
from .api.routes import bp as api_bp
from .api.v1 import bp as api_v1_bp
from .comments.routes import bp as comments_bp
from .extensions import bootstrap, csrf, db, limiter, login_manager, storage
from .i18n import N_
from .images.routes import BYTES_ENDPOINTS
from .images.routes import bp as gallery_bp
from .integers import IdConverter
from .operations import maintenance, metrics, request_log
from .operations.routes import bp as operations_bp
from .sizes import filesize


@limiter.request_filter  # once: the limiter is this module's, whatever the application
def _no_rate_limit() -> bool:
    """Whether the request is one no rate limit applies to (image bytes, the most asked
    for): Flask-Limiter then skips looking for its limits."""
    return request.endpoint in BYTES_ENDPOINTS


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application from the environment, with ``config`` overriding it (tests)."""
    app = Flask(__name__)
    app.config.update(settings.load(config))
    # Before any view is registered: every <int:...> in a route is an id that fits the
    # database, so a larger number is a 404 rather than an overflow in a query.
    app.url_map.converters["int"] = IdConverter

    db.init_app(app)
    # First of the request hooks: background previews wait for a quiet moment.
    activity.init_app(app, BYTES_ENDPOINTS)
    i18n.init_app(app)
    storage.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please log in to see this page.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.config.setdefault("USE_SESSION_FOR_NEXT", True)

    @login_manager.user_loader
    def _load_user(user_id: str):
        return sessions.load(user_id, flask_session.get("sid"))

    for blueprint in (
        auth_bp,
        gallery_bp,
        api_bp,
        admin_bp,
        account_bp,
        tokens_bp,
        two_factor_bp,
        passwords_bp,
        api_v1_bp,
        comments_bp,
        sharing_bp,
        albums_bp,
        operations_bp,
    ):
        app.register_blueprint(blueprint)

    errors.init_app(app)
    security.init_app(app)
    request_log.init_app(app)
    metrics.init_app(app)
    cli.init_app(app)
    app.add_template_filter(filesize, "filesize")
    maintenance.init_app(app)
    hops = app.config["TRUSTED_PROXIES"]
    if hops:  # behind that many proxies, trust their X-Forwarded-For/-Proto/-Host/-Port
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    return app
