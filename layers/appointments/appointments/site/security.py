"""Cookies the site trusts, CSRF tokens, and the headers every page carries.

Every cookie the site reads back is sealed: AES-GCM with a key derived from the service
secret, the cookie's purpose as associated data, and its expiry inside. So a cookie cannot be
read (it may hold the details typed on the booking form), forged, or replayed as another kind
of cookie, and it stops working when it expires even if the browser keeps it.

CSRF: a random value in a cookie, and in every POST form an HMAC of that value; a POST whose
token does not match its cookie is refused. Cookies are `__Host-`, HttpOnly, Secure and
SameSite=Strict.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from appointments.codes import service_secret

if TYPE_CHECKING:
    # cryptography loads OpenSSL: imported where a cookie is sealed or opened, not at start.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CSRF_COOKIE = "__Host-csrf"
CSRF_FIELD = "csrf_token"
NONCE_BYTES = 12
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _key(purpose: str) -> bytes:
    return hmac.new(service_secret(), f"site-{purpose}".encode(), hashlib.sha256).digest()


def _cookie_cipher() -> AESGCM:
    """AES-GCM under the cookies' key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415 - see TYPE_CHECKING

    return AESGCM(_key("cookies"))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(purpose: str, payload: dict[str, Any], expires: datetime) -> str:
    """`payload` encrypted and authenticated for `purpose`, valid until `expires`."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = json.dumps({"exp": int(expires.timestamp()), "data": payload}).encode()
    sealed = _cookie_cipher().encrypt(nonce, plain, purpose.encode())
    return _encode(nonce + sealed)


def unseal(purpose: str, token: str | None, now: datetime) -> dict[str, Any] | None:
    """The payload sealed for `purpose`, or None if the token is missing, forged, for another
    purpose or expired."""
    if not token:
        return None
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415 - see TYPE_CHECKING

    try:
        raw = _decode(token)
        plain = _cookie_cipher().decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
        content = json.loads(plain)
    except (ValueError, InvalidTag):
        return None
    if not isinstance(content, dict) or content.get("exp", 0) <= now.timestamp():
        return None
    data = content.get("data")
    return data if isinstance(data, dict) else None


def sealed_cookie(name: str, payload: dict[str, Any], now: datetime, lifetime: timedelta) -> Cookie:
    """A cookie holding `payload` sealed for the cookie's name, for `lifetime`."""
    return site_cookie(name, seal(name, payload, now + lifetime), lifetime)


def site_cookie(name: str, value: str, lifetime: timedelta | None = None) -> Cookie:
    max_age = None if lifetime is None else int(lifetime.total_seconds())
    return Cookie(
        name=name,
        value=value,
        path="/",
        secure=True,
        http_only=True,
        max_age=max_age,
        same_site=SameSite.STRICT_MODE,
    )


def expired_cookie(name: str) -> Cookie:
    return Cookie(
        name=name,
        value="",
        path="/",
        secure=True,
        http_only=True,
        max_age=0,
        same_site=SameSite.STRICT_MODE,
    )


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(cookie_value: str) -> str:
    """The token forms carry: bound to the browser's CSRF cookie."""
    return hmac.new(_key("csrf"), cookie_value.encode(), hashlib.sha256).hexdigest()


def csrf_valid(cookie_value: str | None, token: str | None) -> bool:
    if not cookie_value or not token:
        return False
    return hmac.compare_digest(csrf_token(cookie_value), token)
