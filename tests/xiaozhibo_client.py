"""Requests as the original Xiaozhibo Android client (3.7) builds them, and envelope checks.

Field names, nesting and JSON types follow TCPusherMgr, TCPlayerMgr and TCLiveListMgr: ints are
JSON numbers there; `as_text` gives the variant with ints as decimal strings, which the original
server accepted too. Volley posts the JSON with this content type.
"""

import json

CONTENT_TYPE = "application/json; charset=utf-8"
URL = "/interface.php"
OK_MSG = "return successfully!"


def request_lvb_addr(userid="u_1001", groupid="@TGS#aHOST1001", title="hello", **userinfo):
    info = {"nickname": "Nick", "headpic": "http://img.example.com/a.jpg", "frontcover": "http://img.example.com/c.jpg"}
    info["location"] = "深圳"
    info.update(userinfo)
    return {"Action": "RequestLVBAddr", "userid": userid, "groupid": groupid, "title": title, "userinfo": info}


def change_status(userid="u_1001", status=0):
    return {"Action": "ChangeStatus", "userid": userid, "status": status}


def add_heart(userid="u_1001", optype=0):
    """TCPlayerMgr.addHeartCount: type 1 (likes), flag 0 (live), fileid ""."""
    return {"Action": "ChangeCount", "userid": userid, "type": 1, "optype": optype, "flag": 0, "fileid": ""}


def fetch_list(pageno=1, pagesize=20, flag=1):
    return {"flag": flag, "pageno": pageno, "pagesize": pagesize, "Action": "FetchList"}


def enter_group(liveuserid="u_1001", userid="v_2001", groupid="@TGS#aHOST1001", flag=0, **extra):
    body = {"Action": "EnterGroup", "userid": userid, "liveuserid": liveuserid, "groupid": groupid}
    body.update({"nickname": "Vic", "headpic": "http://img.example.com/v.jpg", "flag": flag})
    body.update(extra)
    return body


def quit_group(liveuserid="u_1001", userid="v_2001", groupid="@TGS#aHOST1001", flag=0):
    return {"Action": "QuitGroup", "userid": userid, "flag": flag, "liveuserid": liveuserid, "groupid": groupid}


def get_user_info(userid="u_1001", type=0, fileid=""):  # noqa: A002 - the protocol's name
    return {"Action": "GetUserInfo", "userid": userid, "type": type, "fileid": fileid}


def stop_lvb(userid="u_1001"):
    return {"Action": "StopLVB", "userid": userid}


def as_text(body):
    """The same request with every int sent as its decimal text."""
    return {k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in body.items()}


def call(client, body, *, path=URL, method="post", **extra):
    """Send like the app does and check the envelope the app reads (always HTTP 200)."""
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    if method == "post":
        response = client.post(path, raw, content_type=CONTENT_TYPE, **extra)
    else:
        response = client.get(path, **extra)
    assert response.status_code == 200
    envelope = response.json()
    assert set(envelope) == {"returnValue", "returnMsg", "returnData"}
    assert type(envelope["returnValue"]) is int
    assert type(envelope["returnMsg"]) is str
    return envelope


def ok(client, body, **extra):
    envelope = call(client, body, **extra)
    assert (envelope["returnValue"], envelope["returnMsg"]) == (0, OK_MSG), envelope
    return envelope["returnData"]


def error(client, body, code, msg=None):
    """An error answer: the code, the exact message when given, and PHP's empty array as data."""
    envelope = call(client, body)
    assert envelope["returnValue"] == code, envelope
    if msg is not None:
        assert envelope["returnMsg"] == msg
    assert envelope["returnData"] == []
    return envelope
