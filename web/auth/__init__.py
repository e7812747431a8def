"""Accounts: sign up (/signin, as the original named it), log in, log out."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
