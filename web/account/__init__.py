"""What a signed-in person does as themselves: their account page (and deleting their
account), and their comments on public images."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
