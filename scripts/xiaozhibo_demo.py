#!/usr/bin/env python3
"""Walk a Xiaozhibo app's story through a running stack (`XIAOZHIBO_COMPAT=on make run`).

RequestLVBAddr → publish the push URL on the simulator (its push callback puts the room live)
→ FetchList shows the room with play URLs → likes with ChangeCount → ChangeStatus 1 → the room
is gone from FetchList. Requests are shaped as the original Android client sends them.

    python3 scripts/xiaozhibo_demo.py [--server http://127.0.0.1:8000] [--simulator http://127.0.0.1:8100]

Exits 0 when every step behaved, 1 at the first one that did not. Standard library only.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

LIKES = 3


class StepFailed(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://127.0.0.1:8000", help="liveroom's base URL")
    parser.add_argument("--simulator", default="http://127.0.0.1:8100", help="the Tencent simulator's base URL")
    parser.add_argument("--timeout", type=float, default=10, help="seconds to wait for the push callback")
    args = parser.parse_args()
    try:
        run(args.server.rstrip("/"), args.simulator.rstrip("/"), args.timeout)
    except (StepFailed, OSError) as exc:
        print(f"FAILED: {exc}")
        return 1
    print("OK: the Xiaozhibo story works end to end.")
    return 0


def run(server, simulator, timeout):
    userid = f"demo_{uuid.uuid4().hex[:8]}"
    app = App(f"{server}/interface.php")

    data = app.call(
        "RequestLVBAddr",
        userid=userid,
        groupid=f"@TGS#{userid}",
        title="Xiaozhibo demo",
        userinfo={"nickname": "Demo anchor", "headpic": "", "frontcover": "", "location": "Shenzhen"},
    )
    push_url = data["pushurl"]
    step(f"RequestLVBAddr as {userid}: pushurl {push_url}")
    stream_id = urlsplit(push_url).path.rsplit("/", 1)[-1]

    status, body = post_json(f"{simulator}/sim/publish", {"push_url": push_url})
    if status != 200:
        raise StepFailed(f"the simulator refused the push URL: {status} {body}")
    step(f"published on the simulator: {body}")

    item = wait_for(lambda: app.find(userid), timeout, "the room to appear in FetchList (push callback)")
    if not item["playurl"].endswith(".flv") or not item["hls_play_url"].endswith(".m3u8"):
        raise StepFailed(f"no play URLs in {item}")
    step(f"FetchList shows the room: playurl {item['playurl']}, hls_play_url {item['hls_play_url']}")

    for _ in range(LIKES):
        app.call("ChangeCount", userid=userid, type=1, optype=0, flag=0, fileid="")
    likes = app.find(userid)["likecount"]
    if likes != LIKES:
        raise StepFailed(f"likecount is {likes} after {LIKES} likes")
    step(f"ChangeCount ×{LIKES}: likecount {likes}")

    app.call("ChangeStatus", userid=userid, status=1)
    if app.find(userid) is not None:
        raise StepFailed("the room is still listed after ChangeStatus 1")
    step("ChangeStatus 1: the room is gone from FetchList")

    # the app stops pushing too; the stream-end callback finds the room already closed
    post_json(f"{simulator}/sim/streams/{stream_id}/stop", {})


class App:
    """The original client's side of the protocol: POST JSON, read the envelope."""

    def __init__(self, url):
        self.url = url

    def call(self, action, **fields):
        status, body = post_json(self.url, {"Action": action, **fields})
        if status != 200:
            raise StepFailed(f"{action}: HTTP {status} (is XIAOZHIBO_COMPAT on?)")
        if body["returnValue"] != 0:
            raise StepFailed(f"{action}: {body['returnValue']} {body['returnMsg']}")
        return body["returnData"]

    def find(self, userid):
        """The user's item in the live list, paging like TCLiveListMgr; None when not listed."""
        pageno = 1
        while True:
            data = self.call("FetchList", flag=1, pageno=pageno, pagesize=20)
            for item in data["pusherlist"]:
                if item["userid"] == userid:
                    return item
            if not data["pusherlist"] or pageno * 20 >= int(data["totalcount"]):
                return None
            pageno += 1


def post_json(url, payload):
    """POST JSON like Volley does; (HTTP status, decoded body or text)."""
    data = json.dumps(payload).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_for(probe, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise StepFailed(f"gave up after {timeout:g} s waiting for {what}")


def step(text):
    print(f"✓ {text}")


if __name__ == "__main__":
    sys.exit(main())
