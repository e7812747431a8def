"""Galleries: home, /myfiles (upload and list), /delete, image pages and image bytes."""

from flask import Blueprint

bp = Blueprint("gallery", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
