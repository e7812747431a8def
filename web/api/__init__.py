"""The JSON API under /api: the endpoint the page scripts use for bulk upload with
progress (and, later, the token-authenticated public API). Views live in ``routes``."""
