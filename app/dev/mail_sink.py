"""A local SMTP server that keeps every message: ``rollcall dev``'s mail catcher, and the tests' mail server.

It is a real SMTP server (aiosmtpd, in a thread, on loopback), so what reaches it went through the same
aiosmtplib code as production mail. Each message is kept in memory and, with a directory, written there
as ``<time>-<n>.eml``; one log line per message says who it was for and what it was about.
"""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["MailSink"]

logger = structlog.get_logger(__name__)


class MailSink:
    def __init__(self, directory: Path | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = directory
        self.host = host
        self.port = port or _free_port(host)
        self.messages: list[EmailMessage] = []
        self.refused_recipients: dict[str, str] = {}
        """address → SMTP reply (e.g. ``550 5.1.1 no such mailbox``): refuse mail to it."""
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    def keep(self, raw: bytes) -> EmailMessage:
        message = message_from_bytes(raw, policy=policy.default)
        with self._lock:
            self.messages.append(message)
            count = len(self.messages)
        if self.directory is not None:
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{count:05d}.eml"
            (self.directory / name).write_bytes(raw)
        logger.info("mail_received", to=str(message["To"]), subject=str(message["Subject"]))
        return message


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        refusal = self.sink.refused_recipients.get(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content: Any = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        self.sink.keep(raw)
        return f"250 OK: queued as sink-{len(self.sink.messages)}"


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
