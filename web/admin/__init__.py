"""The admin panel (/admin): users, their images, reset and the audit log, for admins only.

Everyone else gets the 404 page for every address under /admin, whatever the method:
the guard runs before the CSRF check, and before a wrong method could answer 405 and
so reveal that the address exists.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import routes  # noqa: E402,F401  (registers the views on bp)
