"""The v1 Actions. Each validates like the original, then calls rooms.services / rooms.counters.

A handler takes the decoded body and the HTTP request, and returns `returnData` or raises
`ProtocolError`.
Rooms are found through the anchor's `userid`: the original kept one row per anchor, here it is
the anchor's newest room opened through this protocol.
"""

import logging

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from livecloud import stream_urls
from moderation import findings
from moderation.models import Report
from rooms import counters, listcache, services
from rooms.models import Room, RoomEvent

from . import identity
from .models import Account, RoomInfo
from .protocol import (
    DB_ERROR,
    FREQUENCY,
    INVALID_PARA,
    Encoded,
    ProtocolError,
    clean,
    integer,
    optional_string,
    profile_text,
    profile_url,
    string,
)

logger = logging.getLogger(__name__)
SOURCE = RoomEvent.Source.XIAOZHIBO
RESULT_OK = Encoded.ok_as_sent({"result": 0})  # encoded once: ChangeCount answers it on every like

# FetchList `flag` (GlobalDefine.php)
LIST_LIVE, LIST_TAPE, LIST_ALL, LIST_LIVE_DATA_ALL, LIST_UGC = 1, 2, 3, 4, 5
# ChangeCount `type` / `optype`; `flag` of ChangeCount, EnterGroup, QuitGroup
COUNT_FIELDS = {0: "viewer_count", 1: "like_count"}
COUNT_ADD, COUNT_DELETE = 0, 1
FLAG_LIVE, FLAG_VOD = 0, 1


def para_error(action):
    return ProtocolError(INVALID_PARA, f"{action}::process() fail request para error")


def not_found(detail):
    return ProtocolError(DB_ERROR, detail)


def listed_rooms():
    """Rooms opened through this protocol, with what their list items need."""
    return Room.objects.filter(xiaozhibo__isnull=False).select_related("owner__xiaozhibo_account", "xiaozhibo")


def _forget_answers():
    try:
        listcache.invalidate()
    except redis.RedisError:
        logger.warning("cached answers not dropped after a new room; they expire by themselves", exc_info=True)


# --- anchor ------------------------------------------------------------------------------------


def request_lvb_addr(args, request):
    userid = string(args, "userid", max_length=128)
    groupid = string(args, "groupid", max_length=128)
    title = string(args, "title", max_length=64)
    info = args.get("userinfo")
    info = info if isinstance(info, dict) else {}
    owner = identity.user_for(userid, nickname=profile_text(info, "nickname", 64), headpic=profile_url(info, "headpic"))
    try:
        with transaction.atomic():
            room = services.create_room(
                owner,
                title=title,
                cover_url=profile_url(info, "frontcover") or "",
                location=profile_text(info, "location", 64) or "",
                source=SOURCE,
            )
            RoomInfo.objects.create(room=room, groupid=groupid, desc=profile_text(info, "desc", 255) or "")
            # GetUserInfo answers name the anchor's newest room: cached ones are out of date now
            transaction.on_commit(_forget_answers)
    except services.StreamerBanned as banned:
        raise ProtocolError(DB_ERROR, clean(banned.args[0])) from None
    push_url, _ = stream_urls.push_url(room.stream_id)
    return {"pushurl": push_url, "timestamp": int(room.created_at.timestamp())}


def change_status(args, request):
    """`status` 0 = online (the app saw push-begin) → live; 1 = offline → closed."""
    userid = string(args, "userid")
    status = integer(args, "status", minimum=0)
    if status not in (0, 1):
        raise para_error("ChangeStatus")
    owner = _known_user(userid)
    return _go_live(owner) if status == 0 else _close(owner)


def stop_lvb(args, request):
    return _close(_known_user(string(args, "userid")))


def _known_user(userid):
    user = identity.find_user(userid)
    if user is None:
        raise not_found(f"unknown userid:{userid}")
    return user


def _open_room(owner):
    return Room.objects.filter(owner=owner, status__in=Room.OPEN_STATUSES).first()


def _go_live(owner):
    room = _open_room(owner)
    if room is not None and room.status != Room.Status.LIVE:
        services.mark_live(room, source=SOURCE, actor=owner)
        room.refresh_from_db()  # when another actor got there first, see where it left the room
    if room is None or room.status != Room.Status.LIVE:
        raise not_found("no open room to put online: call RequestLVBAddr first")
    return RESULT_OK


def _close(owner):
    """Idempotent: an anchor without an open room is already offline."""
    room = _open_room(owner)
    if room is not None:
        services.close_room(room, reason=Room.CloseReason.OWNER, source=SOURCE, actor=owner)
    return RESULT_OK


# --- viewers -----------------------------------------------------------------------------------


def change_count(args, request):
    """Likes (`type` 1) of an anchor's live room, ±1. Viewers (`type` 0, deprecated by v1 itself)
    are who EnterGroup / QuitGroup name: such a call is checked, and changes nothing."""
    userid = string(args, "userid")
    kind, optype, flag = integer(args, "type"), integer(args, "optype"), integer(args, "flag")
    fileid = optional_string(args, "fileid")
    if kind not in COUNT_FIELDS or optype not in (COUNT_ADD, COUNT_DELETE) or flag not in (FLAG_LIVE, FLAG_VOD):
        raise para_error("ChangeCount")
    if flag == FLAG_VOD and fileid is None:
        raise para_error("ChangeCount")
    room_id = _live_room_id(userid, flag, fileid, remembered=True)
    if COUNT_FIELDS[kind] == "like_count":
        _counted(userid, counters.like, room_id, 1 if optype == COUNT_ADD else -1, counters.client(request))
    return RESULT_OK


def enter_group(args, request):
    """The viewer `userid` watches the anchor's live room: counted once, until QuitGroup, the
    room's end or XIAOZHIBO_VIEWER_TIMEOUT (the app sends no heartbeat)."""
    userid = string(args, "userid", max_length=128)
    liveuserid, groupid = string(args, "liveuserid"), string(args, "groupid")
    flag = integer(args, "flag")
    if flag not in (FLAG_LIVE, FLAG_VOD):
        raise para_error("EnterGroup")
    nickname, headpic = profile_text(args, "nickname", 64), profile_url(args, "headpic")
    room_id = _live_room_id(liveuserid, flag, groupid, remembered=True)
    # Counted (and throttled) first: a flood past the throttle, or into no live room, makes and renames nobody.
    _counted(
        liveuserid,
        counters.join,
        room_id,
        viewer_of_userid(userid),
        counters.client(request),
        timeout=settings.XIAOZHIBO_VIEWER_TIMEOUT,
    )
    identity.user_for(userid, nickname=nickname, headpic=headpic)
    return RESULT_OK


def quit_group(args, request):
    """The viewer `userid` left the anchor's live room (a repeat, or one who never entered, changes nothing)."""
    userid = string(args, "userid")
    liveuserid, groupid = string(args, "liveuserid"), string(args, "groupid")
    flag = integer(args, "flag")
    if flag not in (FLAG_LIVE, FLAG_VOD):
        raise para_error("QuitGroup")
    room_id = _live_room_id(liveuserid, flag, groupid, remembered=True)
    _counted(liveuserid, counters.leave, room_id, viewer_of_userid(userid), counters.client(request))
    return RESULT_OK


def viewer_of_userid(userid):
    """The counters' viewer of a Xiaozhibo `userid` (named without its user, which may not exist
    yet: EnterGroup counts before it makes one). Such users never sign in elsewhere, so it is
    never the viewer of a web tab."""
    return f"x{userid}"


def fetch_group_member_list(args, request):
    """The signed-in viewers (Xiaozhibo userids, and liveroom users by username) watching the
    anchor's live room now, by user id; `pageno` from 1, `pagesize` outside 10–100 means 10.
    Anonymous web viewers count in `viewercount` but have no identity to list."""
    liveuserid = string(args, "liveuserid")
    string(args, "groupid")
    pageno = max(integer(args, "pageno", minimum=0), 1)
    pagesize = integer(args, "pagesize", minimum=0)
    if not 10 <= pagesize <= 100:
        pagesize = 10
    room_id = _live_room_id(liveuserid, FLAG_LIVE, "")
    watching = counters.watching(room_id)
    users = get_user_model().objects.select_related("xiaozhibo_account")
    by_userid = users.filter(xiaozhibo_account__userid__in=[v[1:] for v in watching if v.startswith("x")])
    by_id = users.filter(pk__in=[int(v[1:]) for v in watching if v.startswith("u")])
    members = sorted({user.pk: user for user in [*by_userid, *by_id]}.values(), key=lambda user: user.pk)
    start = (pageno - 1) * pagesize
    page = members[start : start + pagesize]
    return {
        "totalcount": len(members),
        "memberlist": [
            {
                "userid": _xiaozhibo_userid(user),
                "nickname": user.nickname or user.username,
                "headpic": user.avatar_url,
            }
            for user in page
        ],
    }


def _xiaozhibo_userid(user):
    try:
        return user.xiaozhibo_account.userid
    except ObjectDoesNotExist:
        return user.username


def _live_room_id(anchor_userid, flag, fileid, *, remembered=False):
    """The anchor's live room (2003 when there is none, or for a replay: this server keeps none).
    `remembered`: the id this process saw last will do (a counter change checks it is live)."""
    if flag == FLAG_VOD:
        # with flag 1 the original counted on a replay (its fileid)
        raise not_found(f"no replay {fileid} of userid:{anchor_userid}")
    room_id = (remembered and live_rooms.get(anchor_userid)) or live_rooms.look_up(anchor_userid)
    if room_id is None:
        raise not_found(f"no live room of userid:{anchor_userid}")
    return room_id


def _counted(anchor_userid, change, room_id, *args, **kwargs):
    """A change through `rooms.counters`, under the REST API's per-address counter throttle (the
    last of `args`). When the remembered room has left live, the anchor's current one (if any)
    takes the change, without meeting the throttle twice."""
    try:
        try:
            change(room_id, *args, **kwargs)
        except counters.NotLive:
            fresh = live_rooms.look_up(anchor_userid)
            if fresh is None or fresh == room_id:
                raise
            change(fresh, *args[:-1], None, **kwargs)
    except counters.Throttled:
        raise ProtocolError(FREQUENCY) from None
    except counters.NotLive:
        live_rooms.forget(anchor_userid)
        raise not_found(f"no live room of userid:{anchor_userid}") from None


class LiveRooms:
    """The live room of each anchor `userid`, remembered in this process.

    An anchor has at most one open room, so a remembered id can only go out of date by that room
    leaving live; the counter's change answers NotLive then, and the id is looked up again. So a
    like on a known anchor costs no query. Bounded: emptied when it reaches `size` entries.
    """

    def __init__(self, size=50_000):
        self.size, self._ids = size, {}

    def get(self, userid):
        return self._ids.get(userid)

    def look_up(self, userid):
        room_id = (
            listed_rooms()
            .filter(owner__xiaozhibo_account__userid=userid, status=Room.Status.LIVE)
            .values_list("pk", flat=True)
            .first()
        )
        if room_id is None:
            self.forget(userid)
            return None
        if len(self._ids) >= self.size:
            self._ids.clear()
        self._ids[userid] = room_id
        return room_id

    def forget(self, userid):
        self._ids.pop(userid, None)


live_rooms = LiveRooms()


def report_user(args, request):
    """A viewer (`userid`) reports an anchor (`hostuserid`): their live room gets a report, as
    from POST /api/v1/rooms/{id}/report/. Optional `reason` (that endpoint's reasons; default
    "other") and `detail` (cut to 500 characters). The original deleted the reporter's own
    records instead; here nothing but the report is written."""
    userid = string(args, "userid", max_length=128)
    hostuserid = string(args, "hostuserid", max_length=128)
    reason = optional_string(args, "reason") or Report.Reason.OTHER
    if reason not in Report.Reason.values:
        raise para_error("ReportUser")
    detail = (optional_string(args, "detail") or "")[:500]
    room_id = (
        listed_rooms()
        .filter(owner__xiaozhibo_account__userid=hostuserid, status__in=Room.OPEN_STATUSES)
        .values_list("pk", flat=True)
        .first()
    )
    if room_id is None:
        raise not_found(f"no live room of userid:{hostuserid}")
    try:
        findings.file_report(
            room_id,
            reporter_key=f"xzb:{userid}"[:80],
            reporter=identity.find_user(userid),
            reason=reason,
            detail=detail,
            source="xiaozhibo",
        )
    except (Room.DoesNotExist, findings.RoomNotLive):
        raise not_found(f"no live room of userid:{hostuserid}") from None
    return []


# --- list and details --------------------------------------------------------------------------


def fetch_list(args, request):
    """Live rooms, newest first. `pageno` from 1; `pagesize` outside 10–100 means 10."""
    flag = integer(args, "flag", minimum=0)
    pageno = max(integer(args, "pageno", minimum=0), 1)
    pagesize = integer(args, "pagesize", minimum=0)
    if not 10 <= pagesize <= 100:
        pagesize = 10
    if flag in (LIST_TAPE, LIST_UGC):
        return {"totalcount": "0", "pusherlist": []}  # replays and UGC videos are not kept here
    if flag not in (LIST_LIVE, LIST_ALL):
        raise para_error("FetchList")
    cache = listcache.AnswerCache.named(f"xiaozhibo:list:{flag}:{pageno}:{pagesize}")
    if cache is not None and (body := cache.get()) is not None:
        return Encoded(body)
    # The page's ids from the list index (live rooms by start, in a subquery), then those rooms with
    # their joins: joining and sorting every live room before the LIMIT costs as much as the whole list.
    live = Room.objects.filter(status=Room.Status.LIVE, xiaozhibo__isnull=False)
    total = live.count()
    start = (pageno - 1) * pagesize
    page = []
    if start < total:
        ids = live.order_by("-started_at", "-id").values("pk")[start : start + pagesize]
        page = list(listed_rooms().filter(pk__in=ids).order_by("-started_at", "-id"))
    now = timezone.now()
    items = [pusher_info(room, now) for room in counters.with_pending(page)]
    # the original's COUNT(*) came back as text, except for flag 3, where it was a sum of two
    answer = Encoded.ok({"totalcount": total if flag == LIST_ALL else str(total), "pusherlist": items})
    if cache is not None:
        cache.set(answer.body)
    return answer


def get_user_info(args, request):
    """The anchor's newest room (`status` "1" while live, "0" after), as one list item."""
    userid = string(args, "userid")
    kind = integer(args, "type")
    fileid = optional_string(args, "fileid")
    if kind not in (0, 1, 2) or (kind != 0 and fileid is None):
        raise para_error("GetUserInfo")
    if kind != 0:
        raise not_found(f"no replay {fileid} of userid:{userid}")
    cache = listcache.RoomAnswerCache.named(f"xiaozhibo:user:{userid}", count_keys=(b"viewercount", b"likecount"))
    if cache is not None and (body := cache.get()) is not None:
        return Encoded(body)
    account = Account.objects.filter(userid=userid).values_list("user_id", flat=True).first()
    room = account and listed_rooms().filter(owner_id=account).order_by("-created_at", "-id").first()
    if not room:
        raise not_found(f"no room of userid:{userid}")
    info = pusher_info(counters.with_pending([room])[0], timezone.now())
    info["userinfo"]["desc"] = info.pop("desc")
    del info["forbid_status"]
    answer = Encoded.ok(info)
    if cache is not None:
        cache.set(answer.body, room_id=room.pk)
    return answer


def pusher_info(room, now):
    """One `pusherlist` item with the original's fields and types (`status` is text)."""
    live = room.status == Room.Status.LIVE
    urls = stream_urls.play_urls(room.stream_id, now=now) if live else {"flv": "", "hls": ""}
    owner = room.owner
    return {
        "userid": owner.xiaozhibo_account.userid,
        "groupid": room.xiaozhibo.groupid,
        "timestamp": int(room.created_at.timestamp()),
        "type": 0,
        "viewercount": room.viewer_count,
        "likecount": room.like_count,
        "title": room.title,
        "playurl": urls["flv"],
        "hls_play_url": urls["hls"],
        "desc": room.xiaozhibo.desc,
        "forbid_status": int(room.status == Room.Status.BANNED),
        "status": "1" if live else "0",
        "fileid": "",
        "userinfo": {
            "nickname": owner.nickname,
            "headpic": owner.avatar_url,
            "frontcover": room.cover_url,
            "location": room.location,
        },
    }


HANDLERS = {
    "RequestLVBAddr": request_lvb_addr,
    "ChangeStatus": change_status,
    "ChangeCount": change_count,
    "FetchList": fetch_list,
    "GetUserInfo": get_user_info,
    "EnterGroup": enter_group,
    "QuitGroup": quit_group,
    "FetchGroupMemberList": fetch_group_member_list,
    "StopLVB": stop_lvb,
    "ReportUser": report_user,
}
