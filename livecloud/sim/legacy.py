"""The legacy live-code API at `GET /common_access` (`sign = md5(API_KEY + t)`)."""

import json
import time

from ..signing import sign_matches
from .core import MAX_BAN

INTERNAL_ERROR, BAD_PARAM, NEVER_PUSHED = 1201, 1204, 20601
STATUS_CODES = {"inactive": 0, "active": 1, "forbid": 3}


class LegacyError(Exception):
    def __init__(self, ret, message):
        super().__init__(message)
        self.ret = ret
        self.message = message


def handle(sim, query: dict[str, str]):
    """(HTTP status, content type, body bytes) for one common_access request."""
    interface = query.get("interface", "")
    params = {k.split(".", 2)[2]: v for k, v in query.items() if k.startswith("Param.") and k.count(".") >= 2}
    delay, fault = sim.api_fault(interface)
    status, content_type, outcome = 200, "application/json", "ok"
    refusal = _refusal(sim.config, query, interface)
    if refusal:
        status, content_type, body, outcome = 403, "text/plain", refusal.encode(), refusal
    elif isinstance(fault, int):
        status, content_type, body, outcome = fault, "text/plain", b"injected HTTP error", fault
    else:
        body, outcome = _answer(sim, interface, params, fault)
    sim.record_call(interface, params, outcome)
    if delay:
        time.sleep(delay)
    return status, content_type, body


def _answer(sim, interface, params, fault):
    try:
        if fault is not None:
            raise LegacyError(INTERNAL_ERROR, f"internal error (injected fault {fault})")
        output = INTERFACES[interface](sim, params)
        body, outcome = {"ret": 0, "retcode": 0, "message": "", "errmsg": "", "output": output}, "ok"
    except LegacyError as exc:
        body = {"ret": exc.ret, "retcode": exc.ret, "message": exc.message, "errmsg": exc.message}
        outcome = exc.ret
    return json.dumps(body).encode(), outcome


def _refusal(config, query, interface):
    """The front end's text errors (403), or None."""
    if query.get("cmd" if interface in STAT_INTERFACES else "appid") != config.appid:
        return "appid is invalid"
    if interface not in INTERFACES:
        return "cmd is invalid"
    try:
        t = int(query.get("t", ""))
    except ValueError:
        return "time expired"
    if t < time.time():
        return "time expired"
    if not sign_matches(config.api_key, t, query.get("sign")):
        return "sign invalid"
    return None


def _channel(params):
    channel = params.get("channel_id")
    if not channel:
        raise LegacyError(BAD_PARAM, "invalid input param: channel_id")
    return channel


def get_status(sim, params):
    channel = _channel(params)
    if not sim.knows(channel):
        raise LegacyError(NEVER_PUSHED, "the live code has never pushed")
    status = STATUS_CODES[sim.stream_state(channel)]
    return [{"rate_type": 0, "recv_type": 1, "status": status, "width": 1280, "height": 720}]


def set_status(sim, params):
    channel = _channel(params)
    status = params.get("status")
    if status == "0":
        sim.forbid(channel, until=time.time() + MAX_BAN, reason="Live_Channel_SetStatus 0")
    elif status == "1":
        sim.resume(channel)
    elif status == "2":
        sim.drop(channel)
    else:
        raise LegacyError(BAD_PARAM, "invalid input param: status must be 0, 1 or 2")
    return None


def get_live_channel_list(sim, params):
    channels = sorted(s.stream_id for s in sim.listed_online())
    return {"all_count": len(channels), "channel_list": [{"channel_id": c} for c in channels]}


def get_push_stat(sim, params):
    """Get_LivePushStat (the statistics host's interface): fps and bitrate (bit/s) per online stream."""
    try:
        page, size = int(params.get("page_no") or 1), int(params.get("page_size") or 300)
    except ValueError:
        raise LegacyError(BAD_PARAM, "invalid input param: page_no / page_size") from None
    if page < 1 or not 1 <= size <= 300:
        raise LegacyError(BAD_PARAM, "invalid input param: page_no from 1, page_size 1-300")
    infos = sim.push_info()
    return {
        "stream_count": len(infos),
        "stream_info": [
            {
                "stream_name": i["stream_id"],
                "client_ip": "127.0.0.1",
                "server_ip": "127.0.0.1",
                "fps": round(i["fps"] or 0),
                "speed": (i["kbps"] or 0) * 1000,
            }
            for i in infos[(page - 1) * size : page * size]
        ],
    }


# The statistics interfaces name the account `cmd` instead of `appid`.
STAT_INTERFACES = {"Get_LivePushStat"}

INTERFACES = {
    "Get_LivePushStat": get_push_stat,
    "Live_Channel_GetStatus": get_status,
    "Live_Channel_SetStatus": set_status,
    "Live_Channel_GetLiveChannelList": get_live_channel_list,
}
