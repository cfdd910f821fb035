"""The e-mails the local stack has sent, as a page at /_local/outbox (newest first).

Mail goes to moto's SES, which runs in the local stack's own process; this reads what it
recorded, so a developer can open the links a person would receive.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from moto.ses.models import ses_backends

ACCOUNT = "123456789012"
REGION = "us-east-1"
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class SentMail:
    message_id: str
    sender: str
    to: list[str]
    subject: str
    text: str
    html: str | None
    links: list[str]


def _links(*bodies: str | None) -> list[str]:
    found: list[str] = []
    for body in bodies:
        for url in _URL.findall(html.unescape(body or "")):
            if url not in found:
                found.append(url)
    return found


def _from_raw(message_id: str, raw: str) -> SentMail:
    parsed = email.message_from_string(raw, policy=email.policy.default)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else ""  # type: ignore[attr-defined]
    markup = html_part.get_content() if html_part is not None else None  # type: ignore[attr-defined]
    return SentMail(
        message_id=message_id,
        sender=str(parsed.get("From", "")),
        to=[address.strip() for address in str(parsed.get("To", "")).split(",") if address],
        subject=str(parsed.get("Subject", "")),
        text=text,
        html=markup,
        links=_links(text, markup),
    )


def _from_message(message: Any) -> SentMail:
    if hasattr(message, "raw_data"):
        return _from_raw(message.id, message.raw_data)
    destinations = getattr(message, "destinations", {}) or {}
    body = str(getattr(message, "body", "") or "")
    is_html = "<" in body and ">" in body
    return SentMail(
        message_id=message.id,
        sender=str(getattr(message, "source", "")),
        to=list(destinations.get("ToAddresses", [])),
        subject=str(getattr(message, "subject", "") or ""),
        text="" if is_html else body,
        html=body if is_html else None,
        links=_links(body),
    )


def sent_mail() -> list[SentMail]:
    """Everything sent so far, newest first."""
    backend = ses_backends[ACCOUNT][REGION]
    return [_from_message(message) for message in reversed(backend.sent_messages)]


def outbox_json(method: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
    body = json.dumps([asdict(mail) for mail in sent_mail()], indent=2)
    return 200, "application/json", body.encode()


def outbox_page(method: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
    mails = sent_mail()
    items = []
    for mail in mails:
        links = "".join(
            f'<li><a href="{html.escape(url)}" target="_blank" rel="noopener">'
            f"{html.escape(url)}</a></li>"
            for url in mail.links
        )
        preview = (
            f'<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" '
            f'srcdoc="{html.escape(mail.html)}"></iframe>'
            if mail.html
            else f"<pre>{_linkify(mail.text)}</pre>"
        )
        items.append(
            f"<article><h2>{html.escape(mail.subject) or '(no subject)'}</h2>"
            f"<p class=meta>From {html.escape(mail.sender)} to "
            f"{html.escape(', '.join(mail.to))}</p>"
            f"{f'<ul class=links>{links}</ul>' if links else ''}{preview}</article>"
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local outbox</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; }}
article {{ border: 1px solid #ccc; border-radius: 6px; padding: 1rem; margin: 1rem 0; }}
.meta {{ color: #555; }} iframe {{ width: 100%; height: 24rem; border: 1px solid #eee; }}
</style></head><body>
<h1>Local outbox</h1>
<p>{len(mails)} message(s) sent by the local stack, newest first.
<a href="/_local/outbox.json">JSON</a></p>
{"".join(items) or "<p>Nothing sent yet.</p>"}
</body></html>"""
    return 200, "text/html; charset=utf-8", page.encode()


def _linkify(text: str) -> str:
    escaped = html.escape(text)
    return _URL.sub(
        lambda match: (
            f'<a href="{match.group(0)}" target="_blank" rel="noopener">{match.group(0)}</a>'
        ),
        escaped,
    )
