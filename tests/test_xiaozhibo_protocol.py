"""/interface.php: the switch, the envelope and the original's answers to bad input."""

import pytest

from . import xiaozhibo_client as xzb

pytestmark = pytest.mark.django_db

BAD_JSON = "http post body is empty or invalid json format in post body from client!"
INVALID = "invalid param in json from client!"


@pytest.fixture(autouse=True)
def compat_on(settings):
    settings.XIAOZHIBO_COMPAT = True


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", ["/interface.php", "/interface.php/"])
def test_switched_off_the_endpoint_does_not_exist(client, settings, method, path):
    settings.XIAOZHIBO_COMPAT = False
    if method == "post":
        response = client.post(path, xzb.fetch_list(), content_type=xzb.CONTENT_TYPE)
    else:
        response = client.get(path)
    assert response.status_code == 404


def test_get_answers_4001_like_the_deployment_check(client):
    envelope = xzb.call(client, None, method="get")
    assert envelope == {"returnValue": 4001, "returnMsg": BAD_JSON, "returnData": []}


def test_trailing_slash_is_served_too(client):
    data = xzb.call(client, xzb.fetch_list(), path="/interface.php/")["returnData"]
    assert data == {"totalcount": "0", "pusherlist": []}


@pytest.mark.parametrize("body", [b"", b"   ", b"{", b"not json", b"{'Action': 'FetchList'}", b"\xff\xfe{", b"NaN"])
def test_empty_or_broken_body_is_4001(client, body):
    xzb.error(client, body, 4001, BAD_JSON)


@pytest.mark.parametrize("body", ["{}", "[]", "null", "0", '""', "false"])
def test_empty_json_is_4001_like_phps_falsy_check(client, body):
    xzb.error(client, body, 4001, BAD_JSON)


@pytest.mark.parametrize("body", [{"userid": "u_1001"}, {"Action": ""}, {"Action": None}, "[1, 2]", '"FetchList"'])
def test_missing_action_is_1000(client, body):
    xzb.error(client, body, 1000, INVALID)


@pytest.mark.parametrize(
    "action",
    ["Nope", "fetchlist", "GetCOSSign", "ForbidLive", "RequestLVBAddrForLinkMic"],
)
def test_other_actions_are_1000_invalid_interface_name(client, action):
    xzb.error(client, {"Action": action, "userid": "u_1001"}, 1000, f"invalid interface name:{action}")


def test_invalid_interface_name_is_echoed_without_markup(client):
    xzb.error(client, {"Action": '<b>"x"&</b>'}, 1000, "invalid interface name:bx/b")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"Action": "ChangeStatus", "status": 0}, "userid is null or empty!"),
        ({"Action": "ChangeStatus", "userid": "", "status": 0}, "userid is null or empty!"),
        ({"Action": "ChangeStatus", "userid": "   ", "status": 0}, "userid is null or empty!"),
        ({"Action": "ChangeStatus", "userid": None, "status": 0}, "userid is null or empty!"),
        ({"Action": "ChangeStatus", "userid": {"a": 1}, "status": 0}, "userid is not string!"),
        ({"Action": "ChangeStatus", "userid": "u_1001"}, "status is null or empty!"),
        ({"Action": "ChangeStatus", "userid": "u_1001", "status": "abc"}, "status:abc is not int!"),
        ({"Action": "ChangeStatus", "userid": "u_1001", "status": "1.5"}, "status:1.5 is not int!"),
        ({"Action": "ChangeStatus", "userid": "u_1001", "status": 1.5}, "status:1.5 is not int!"),
        ({"Action": "ChangeStatus", "userid": "u_1001", "status": ""}, "status: is not int!"),
        ({"Action": "ChangeStatus", "userid": "u_1001", "status": "01"}, "status:01 is not int!"),
        ({"Action": "ChangeStatus", "userid": "u_1001", "status": "9" * 30}, f"status:{'9' * 30} is not int!"),
        ({"Action": "ChangeStatus", "userid": "u_1001", "status": -1}, "-1 is not in range [0,+)"),
        ({"Action": "FetchList", "flag": 1, "pageno": 1}, "pagesize is null or empty!"),
        ({"Action": "FetchList", "flag": 1, "pageno": -2, "pagesize": 20}, "-2 is not in range [0,+)"),
        ({"Action": "RequestLVBAddr", "userid": "u_1001", "title": "t"}, "groupid is null or empty!"),
        ({"Action": "RequestLVBAddr", "userid": "u_1001", "groupid": "g"}, "title is null or empty!"),
        ({"Action": "RequestLVBAddr", "userid": "u" * 129, "groupid": "g", "title": "t"}, "userid's len > 128"),
        ({"Action": "RequestLVBAddr", "userid": "u_1001", "groupid": "g", "title": "t" * 65}, "title's len > 64"),
        ({"Action": "ChangeCount", "userid": "u_1001", "type": 1, "optype": 0}, "flag is null or empty!"),
        ({"Action": "EnterGroup", "userid": "v", "groupid": "g", "flag": 0}, "liveuserid is null or empty!"),
        ({"Action": "QuitGroup", "userid": "v", "liveuserid": "u", "flag": 0}, "groupid is null or empty!"),
        ({"Action": "GetUserInfo", "userid": "u_1001"}, "type is null or empty!"),
        ({"Action": "StopLVB"}, "userid is null or empty!"),
    ],
)
def test_invalid_params_are_1000_naming_the_key(client, body, detail):
    xzb.error(client, body, 1000, f"{INVALID} | {detail}")


@pytest.mark.parametrize(
    ("body", "action"),
    [
        (xzb.change_status(status=2), "ChangeStatus"),
        ({**xzb.add_heart(), "type": 2}, "ChangeCount"),
        ({**xzb.add_heart(), "optype": 2}, "ChangeCount"),
        ({**xzb.add_heart(), "flag": 2}, "ChangeCount"),
        ({"Action": "ChangeCount", "userid": "u_1001", "type": 1, "optype": 0, "flag": 1}, "ChangeCount"),
        (xzb.fetch_list(flag=0), "FetchList"),
        (xzb.fetch_list(flag=6), "FetchList"),
        (xzb.enter_group(flag=2), "EnterGroup"),
        (xzb.quit_group(flag=-1), "QuitGroup"),
        (xzb.get_user_info(type=3), "GetUserInfo"),
        ({"Action": "GetUserInfo", "userid": "u_1001", "type": 1}, "GetUserInfo"),
    ],
)
def test_bad_enum_values_are_4002(client, body, action):
    xzb.error(client, body, 4002, f"request para error | {action}::process() fail request para error")


def test_nothing_is_written_on_a_refused_request(client, django_user_model):
    xzb.error(client, {**xzb.request_lvb_addr(), "title": ""}, 1000)
    assert not django_user_model.objects.exists()


def test_a_failing_database_statement_is_2003(client):
    # PostgreSQL refuses NUL in text: a real database error, answered like the original did
    msg = "db operator error | GetUserInfo::process() fail db operator error"
    xzb.error(client, xzb.get_user_info(userid="u\x001001"), 2003, msg)
