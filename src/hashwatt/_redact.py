"""The one URL redaction rule: every URL is passed through :func:`redact_url` before it is
formatted into a message, a log line, a page or a database row (no secrets anywhere)."""

from __future__ import annotations

import re

__all__ = ["redact_url", "redact_urls_in"]

#: A URL inside free text: a scheme, ``://`` and everything up to the next blank or quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``; the user name and host stay readable.

    Text with no ``scheme://`` is not shown at all: it may be a password pasted in the wrong
    place. The last ``@`` ends the user info, so a password holding ``@`` is masked whole.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "<unparseable URL>"
    userinfo, at, hostpart = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{hostpart}"


def redact_urls_in(text: str) -> str:
    """``text`` (a library's error message, say) with every URL in it passed through :func:`redact_url`."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group()), text)
