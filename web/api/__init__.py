"""JSON endpoints used by the page scripts (bulk upload with progress)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import routes  # noqa: E402,F401  (registers the views on bp)
