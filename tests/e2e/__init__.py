"""End-to-end tests: a real gunicorn server driven by Chromium through Playwright."""
