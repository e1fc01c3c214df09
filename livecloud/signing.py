"""Tencent's MD5 signatures (callbacks, the legacy API) and TC3-HMAC-SHA256 (API 3.0).

TC3 signing itself is done by the official SDK; `tc3_signature` recomputes it for the
simulator with the SDK's own `Sign.sign_tc3`.
"""

import hashlib
import hmac
from datetime import UTC, datetime

from tencentcloud.common.sign import Sign


def md5_sign(key: str, t) -> str:
    """`md5(key + t)`, lowercase hex: callbacks and legacy API calls."""
    return hashlib.md5(f"{key}{t}".encode()).hexdigest()


def sign_matches(key: str, t, sign) -> bool:
    """Constant-time check of an MD5 `sign` (any text: a non-ASCII one simply does not match)."""
    return isinstance(sign, str) and hmac.compare_digest(md5_sign(key, t).encode(), sign.lower().encode())


def tc3_signature(secret_key, *, method, host, content_type, query, payload: bytes, timestamp: int, service="live"):
    """The signature part of a TC3-HMAC-SHA256 `Authorization` header (signed headers: content-type;host)."""
    canonical = "\n".join(
        [
            method,
            "/",
            query,
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    return Sign.sign_tc3(secret_key, date, service, string_to_sign)
