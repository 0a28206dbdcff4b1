"""Email (SMTP) delivery: one multipart/alternative mail (text + HTML) per notification, one attempt per call.

smtplib runs in a worker thread (no extra runtime dependency). Threading: every mail of an Alertmanager group
carries `In-Reply-To`/`References` pointing at one synthetic root id derived from the receiver and groupKey
(as Alertmanager's own email threading does), so the resolved mail joins the firing one in mail clients,
while each mail keeps its own unique `Message-ID` (servers drop mails whose Message-ID they already saw).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from allim.secret import Secret
from bridge import render
from bridge.alertmanager import Notification
from bridge.channels import SendError

log = logging.getLogger(__name__)

MESSAGE_ID_DOMAIN = "allim"


@dataclass(frozen=True)
class EmailConfig:
    host: str
    port: int
    from_addr: str
    to: tuple[str, ...]
    tls: str = "starttls"  # "starttls" | "implicit" | "none"
    username: str | None = None
    password: Secret | None = None
    timeout: float = 15.0


def thread_root_id(notification: Notification) -> str:
    """A stable `<hash@allim>` per receiver and alert group: the id every mail of the group replies to."""
    group = notification.group_key or "|".join(sorted({a.name for a in notification.alerts}))
    digest = hashlib.sha256(f"{notification.receiver}\0{group}".encode()).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def build_message(notification: Notification, config: EmailConfig, formatting: render.Formatting) -> EmailMessage:
    """The mail: subject without control characters, text part first, then the escaped HTML part."""
    msg = EmailMessage()
    msg["From"] = config.from_addr
    msg["To"] = ", ".join(config.to)
    msg["Subject"] = render.email_subject(notification, formatting)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=MESSAGE_ID_DOMAIN)
    root = thread_root_id(notification)
    msg["In-Reply-To"] = root
    msg["References"] = root
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to alerts
    msg.set_content(render.text_body(notification, formatting))
    msg.add_alternative(render.html_body(notification, formatting), subtype="html")
    return msg


class EmailChannel:
    """Sends each notification as one mail to the configured recipients."""

    name = "email"

    def __init__(
        self, config: EmailConfig, formatting: render.Formatting, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.config = config
        self.formatting = formatting
        self.ssl_context = ssl_context  # None: the system's trust store, with hostname checks
        self.target = "email:" + ",".join(config.to)

    def __repr__(self) -> str:
        return f"EmailChannel({self.target} via {self.config.host}:{self.config.port})"

    async def send(self, notification: Notification, *, skip_parts: frozenset[int] = frozenset()) -> None:
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
        password = self.config.password.reveal() if self.config.password else ""
        return message.replace(password, "***") if password else message


def _replies(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{addr} {code} {text.decode(errors='replace')}" for addr, (code, text) in refused.items())
