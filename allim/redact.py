"""The one redactor for secrets in logs and error texts, for both services.

A `Redactor` replaces known secret values (tokens, passwords, webhook URLs read from the config) and anything
matching its patterns (the token part of a Discord webhook path, `?token=` query values, a URL's password).
`redact_logs` attaches one to loggers, for libraries that log URLs (httpx logs every request URL at INFO).

    redact = Redactor(config.secrets(), patterns=TOKEN_PATTERNS)
    redact("POST https://discord.com/api/webhooks/1/abc failed")  # "... /api/webhooks/1/*** failed"
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

from allim.secret import Secret

MASK = "**********"
# Shorter values are not replaced: "abc" would scramble unrelated words and hides nothing worth hiding.
MIN_SECRET_LENGTH = 4

Pattern = tuple[re.Pattern[str], str]  # a regex and its replacement (may use groups: r"\1***")

# `/webhooks/<id>/<token>` (Discord): the id says which webhook, the token is the credential.
WEBHOOK_PATH_TOKEN: Pattern = (re.compile(r"(/webhooks/[^/\s]+/)[^/?\s\"']+"), r"\1***")
# `?token=...`, `&api_key=...` and similar query parameters.
QUERY_TOKEN: Pattern = (
    re.compile(r"([?&](?:token|access_token|api_key|apikey|key|secret|password)=)[^&#\s\"']+", re.IGNORECASE),
    r"\1***",
)
# `https://user:password@host/`
URL_PASSWORD: Pattern = (re.compile(r"(\bhttps?://[^/\s:@]+:)[^/\s@]+@"), r"\1***@")
# Any URL at all, for texts shown to users where no URL belongs (Discord error details).
ANY_URL: Pattern = (re.compile(r"https?://[^\s\"'<>]+"), "[url]")

TOKEN_PATTERNS: tuple[Pattern, ...] = (WEBHOOK_PATH_TOKEN, QUERY_TOKEN, URL_PASSWORD)
# The loggers of the HTTP stack: URLs (with whatever they carry) show up there.
HTTP_LOGGERS = ("httpx", "httpcore", "uvicorn.error", "uvicorn.access")


class Redactor:
    """A text with every known secret value masked and every pattern replaced; callable, so it can be passed
    wherever a `Callable[[str], str]` is expected."""

    def __init__(self, secrets: Iterable[str | Secret | None] = (), *, patterns: Sequence[Pattern] = ()) -> None:
        values = {s.reveal() if isinstance(s, Secret) else s for s in secrets if s}
        # Longest first, so a secret containing another is masked whole.
        self._values = tuple(sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=lambda v: (-len(v), v)))
        self._patterns = tuple(patterns)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, MASK)
        for pattern, replacement in self._patterns:
            text = pattern.sub(replacement, text)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} secrets, {len(self._patterns)} patterns)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Redactor) and (self._values, self._patterns) == (other._values, other._patterns)

    def __hash__(self) -> int:
        return hash((self._values, self._patterns))


class RedactingFilter(logging.Filter):
    """Rewrites a record's message through the redactor before any handler formats it."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def redact_logs(redact: Redactor, loggers: Iterable[str] = HTTP_LOGGERS) -> None:
    """Attach the redactor to each named logger, once (calling it again with an equal redactor adds nothing).

    A logger's filters see only what is logged on that logger itself, not on its children.
    """
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) and f.redact == redact for f in logger.filters):
            logger.addFilter(RedactingFilter(redact))
