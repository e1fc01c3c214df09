"""The v1 wire format: envelope, return codes and the original parameter rules (common/Param.php).

Every answer is `{"returnValue", "returnMsg", "returnData"}`. `returnMsg` is the code's base text,
followed by `" | <detail>"` when there is one. An empty `returnData` is `[]`, as PHP encoded it.
"""

import json
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator

OK = 0
INVALID_INPUT = 1000
DB_ERROR = 2003
INVALID_JSON = 4001
INVALID_PARA = 4002
FREQUENCY = 4003

MESSAGES = {
    OK: "return successfully!",
    INVALID_INPUT: "invalid param in json from client!",
    DB_ERROR: "db operator error",
    INVALID_JSON: "http post body is empty or invalid json format in post body from client!",
    INVALID_PARA: "request para error",
    FREQUENCY: "frequency control",
}

_INT = re.compile(r"-?[1-9][0-9]{0,18}|0")  # PHP ints are 64-bit
_url = URLValidator(schemes=["http", "https"])


class ProtocolError(Exception):
    """Ends an Action with `code`; `detail` follows the code's base message."""

    def __init__(self, code, detail=""):
        super().__init__(code, detail)
        self.code, self.detail = code, detail


def message(code, detail=""):
    return f"{MESSAGES[code]} | {detail}" if detail else MESSAGES[code]


def envelope(code, data=None, *, detail="", msg=None):
    return {"returnValue": code, "returnMsg": msg or message(code, detail), "returnData": data or []}


@dataclass(frozen=True)
class Encoded:
    """A whole answer as the bytes of its JSON (a handler's cached success)."""

    body: bytes

    @classmethod
    def ok(cls, data):
        """The success envelope around `data`, encoded compactly (a cached answer's counts are
        patched in where `"viewercount":` and `"likecount":` stand)."""
        return cls(json.dumps(envelope(OK, data), cls=DjangoJSONEncoder, separators=(",", ":")).encode())

    @classmethod
    def ok_as_sent(cls, data):
        """The success envelope around `data`, encoded once as JsonResponse would (a handler's
        constant answer, byte for byte what it answered before)."""
        return cls(json.dumps(envelope(OK, data), cls=DjangoJSONEncoder).encode())


def invalid(detail):
    return ProtocolError(INVALID_INPUT, detail)


def clean(text):
    """The original's ParaStrFilter: messages echo client input without `<>"&`."""
    return re.sub(r'[<>"&]', "", str(text)).strip()


def string(args, key, *, max_length=None):
    """A required string: present, not empty once trimmed. Numbers are taken as their text."""
    value = args.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        if value is None or value == [] or value == {}:
            raise invalid(f"{key} is null or empty!")
        raise invalid(f"{key} is not string!")
    value = str(value).strip()
    if not value:
        raise invalid(f"{key} is null or empty!")
    if max_length and len(value) > max_length:
        raise invalid(f"{key}'s len > {max_length}")
    return value


def optional_string(args, key):
    """A string that may be missing or null (None then)."""
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"{key} is not string!")
    return str(value).strip()


def integer(args, key, *, minimum=None):
    """An int, sent as a number or as its decimal text (`"12"`); `"1.5"`, `"abc"`, `""` are not."""
    value = args.get(key)
    if value is None:
        raise invalid(f"{key} is null or empty!")
    if not _is_int(value):
        raise invalid(f"{key}:{clean(_text(value))} is not int!")
    number = int(value)
    if minimum is not None and number < minimum:
        raise invalid(f"{number} is not in range [{minimum},+)")
    return number


def profile_text(obj, key, max_length):
    """A display field (nickname, location, ...): never a reason to refuse a request, so a value
    that is not text is ignored (None) and a long one is cut to what the database holds."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip()[:max_length]


def profile_url(obj, key, max_length=500):
    """An http(s) picture URL, `""`, or None when missing or unusable (then the old one stays)."""
    value = profile_text(obj, key, max_length + 1)
    if not value:
        return value
    if len(value) > max_length:
        return None
    try:
        _url(value)
    except ValidationError:
        return None
    return value


def _is_int(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        return bool(_INT.fullmatch(value))
    return isinstance(value, int)


def _text(value):
    if isinstance(value, str):
        return value
    if value is True:
        return "1"
    if value is False:
        return ""
    return str(value)
