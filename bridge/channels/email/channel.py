"""Email (SMTP) delivery: one multipart/alternative mail (text + HTML, see format.py) per notification, one
attempt per call. smtplib runs in a worker thread (no extra runtime dependency).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage

import httpx

from allim.redact import Redactor
from bridge.channels import Attempt, ChannelType, SendError
from bridge.channels.email.config import EmailConfig, EmailLoader
from bridge.channels.email.format import build_message
from bridge.config import Formatting
from bridge.notification import Notification

log = logging.getLogger(__name__)


class EmailChannel:
    """Sends each notification as one mail to the configured recipients."""

    name = "email"

    def __init__(
        self, config: EmailConfig, formatting: Formatting, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.config = config
        self.formatting = formatting
        self.ssl_context = ssl_context  # None: the system's trust store, with hostname checks
        self.target = "email:" + ",".join(config.to)
        self._redact = Redactor(config.secrets())

    def __repr__(self) -> str:
        return f"EmailChannel({self.target} via {self.config.host}:{self.config.port})"

    async def send(self, notification: Notification, attempt: Attempt | None = None) -> None:
        msg = build_message(notification, self.config, self.formatting)
        await asyncio.to_thread(self._deliver, msg)

    def _deliver(self, msg: EmailMessage) -> None:
        try:
            self._transmit(msg)
        except SendError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendError(
                self._clean(f"smtp refused every recipient: {_replies(exc.recipients)}"),
                retryable=all(400 <= code < 500 for code in codes),
                reason=f"smtp_{codes[0]}" if codes else "smtp_refused",
            ) from None
        except smtplib.SMTPResponseException as exc:
            reply = (
                exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            )
            raise SendError(
                self._clean(f"smtp answered {exc.smtp_code}: {reply}"),
                retryable=not 500 <= exc.smtp_code < 600,
                reason=f"smtp_{exc.smtp_code}",
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SendError(self._clean(f"smtp server: {exc}"), retryable=False, reason="smtp_unsupported") from None
        except ssl.SSLCertVerificationError as exc:
            raise SendError(f"tls certificate rejected: {exc.verify_message}", retryable=False, reason="tls") from None
        except TimeoutError:
            raise SendError("smtp timed out", retryable=True, reason="timeout") from None
        except (smtplib.SMTPException, OSError) as exc:
            message = self._clean(f"smtp connection failed: {type(exc).__name__}: {exc}")
            raise SendError(message, retryable=True, reason="network") from None

    def _transmit(self, msg: EmailMessage) -> None:
        cfg = self.config
        context = self.ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if cfg.tls == "implicit":
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        with smtp:
            if cfg.tls == "starttls":
                smtp.starttls(context=context)
            if cfg.username:
                smtp.login(cfg.username, cfg.password.reveal() if cfg.password else "")
            refused = smtp.send_message(msg)
        if refused:  # some recipients got it: a retry would send it to them twice, so only warn
            log.warning("smtp refused some recipients", extra={"refused": _replies(refused)})

    def _clean(self, message: str) -> str:
        """Server replies may echo what we sent; the password must never travel on in an error."""
        return self._redact(message)

    def preview(self, notification: Notification) -> list[tuple[str, str]]:
        """The mail as built for sending (for the console): its headers, the text part and the HTML part's source."""
        msg = build_message(notification, self.config, self.formatting)
        headers = "\n".join(f"{name}: {msg[name]}" for name in ("From", "To", "Subject"))
        parts = [(subtype, msg.get_body((subtype,))) for subtype in ("plain", "html")]
        return [("headers", headers)] + [(f"text/{sub}", part.get_content()) for sub, part in parts if part is not None]


def _replies(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{addr} {code} {text.decode(errors='replace')}" for addr, (code, text) in refused.items())


def build(config: EmailConfig, formatting: Formatting, client: httpx.AsyncClient) -> EmailChannel:
    return EmailChannel(config, formatting)


EMAIL = ChannelType(loader=EmailLoader, factory=build)
