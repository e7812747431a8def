"""Sending mail (password resets) through the SMTP server of the MAIL_* settings.

A message is handed to a background thread, so that a request answers in the same time
whether or not it sent mail (a reset asked for an unknown account sends nothing, and
must not be told apart by its answer's time). A failure to deliver is logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

TIMEOUT = 15  # seconds an SMTP conversation may wait for the server
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


def configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def send(to: str, subject: str, body: str) -> threading.Thread:
    """Send a plain-text message in the background; returns the thread delivering it."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    settings = {k: config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_TLS")}
    settings.update(MAIL_USERNAME=config.get("MAIL_USERNAME"))
    settings.update(MAIL_PASSWORD=config.get("MAIL_PASSWORD"))
    thread = threading.Thread(target=_deliver, args=(settings, message), daemon=True)
    thread.start()
    return thread


def _deliver(settings: dict[str, Any], message: EmailMessage) -> None:
    tls = settings["MAIL_TLS"]
    port = settings["MAIL_PORT"] or DEFAULT_PORTS[tls]
    try:
        if tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings["MAIL_SERVER"], port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(settings["MAIL_SERVER"], port, timeout=TIMEOUT)
        with smtp:
            if tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings["MAIL_USERNAME"]:
                smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to %s not sent: %s", message["To"], exc)
