import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from infra.redis import get_redis, key
from rooms import counters, services
from rooms.models import Room, RoomEvent
from tests.churn import Churn

from .conftest import eventually

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = Room.Status


def card(page, room):
    return page.locator(f'.card[data-room-id="{room.pk}"]')


def test_list_shows_live_rooms_and_not_others(page, make_room, make_user):
    live = make_room(make_user(nickname="Mia"), S.LIVE, title="Lo-fi coding")
    for status in (S.CREATED, S.INTERRUPTED, S.CLOSED, S.BANNED):
        make_room(make_user(), status, title=f"A {status} room")
    counters.join_all(live.pk, [counters.new_viewer() for _ in range(1234)])

    page.goto("/")

    expect(page.locator(".card")).to_have_count(1)
    expect(card(page, live)).to_contain_text("Lo-fi coding")
    expect(card(page, live)).to_contain_text("Mia")
    expect(card(page, live).locator('[data-field="viewer_count"]')).to_have_text("1.2K")
    expect(page.locator("[data-live-count]")).to_have_text("1")
    expect(page.locator("[data-empty]")).to_be_hidden()
    card(page, live).click()
    expect(page).to_have_url(f"/rooms/{live.pk}/")


def test_list_follows_rooms_going_live_and_closing_without_reload(page, settings, make_room, make_user):
    settings.WEB_LIST_REFRESH = 0.3
    first = make_room(make_user(), title="First show")
    second = make_room(make_user(), title="Second show")
    page.goto("/")
    expect(page.locator("[data-empty]")).to_contain_text("Nobody is live right now")
    page.evaluate("window.sameDocument = true")

    services.mark_live(first, source=RoomEvent.Source.API)
    expect(card(page, first)).to_contain_text("First show")
    expect(page.locator("[data-empty]")).to_be_hidden()
    card(page, first).evaluate("el => { el.dataset.probe = 'untouched' }")

    services.mark_live(second, source=RoomEvent.Source.API)
    expect(card(page, second)).to_be_visible()
    counters.like(second.pk, 7)
    expect(card(page, second).locator('[data-field="like_count"]')).to_have_text("7")
    # newest first: the second room went live later, so it comes first
    expect(page.locator(".card")).to_have_count(2)
    assert page.locator(".card").first.get_attribute("data-room-id") == str(second.pk)

    services.close_room(second, reason=Room.CloseReason.OWNER, source=RoomEvent.Source.API)
    expect(card(page, second)).to_have_count(0)
    expect(page.locator("[data-live-count]")).to_have_text("1")
    # the card that did not change is the same element as before, and the page never reloaded
    assert card(page, first).get_attribute("data-probe") == "untouched"
    assert page.evaluate("window.sameDocument") is True


def test_load_more_and_manual_refresh(page, make_room, make_user):
    rooms = [make_room(make_user(), S.LIVE, title=f"Show {n}") for n in range(3)]
    page.goto("/?page_size=2")  # the default refresh of 10 s does not happen during this test
    expect(page.locator(".card")).to_have_count(2)

    page.get_by_role("button", name="Load more").click()
    expect(page.locator(".card")).to_have_count(3)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    assert page.locator(".card").last.get_attribute("data-room-id") == str(rooms[0].pk)

    late = make_room(make_user(), S.LIVE, title="Late show")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator(".card")).to_have_count(4)
    expect(page.locator(".card").first).to_contain_text("Late show")
    expect(card(page, late)).to_be_visible()


def test_list_refresh_revalidates_with_if_none_match(page, settings, make_room, make_user):
    settings.WEB_LIST_REFRESH = 0.3
    first = make_room(make_user(), S.LIVE, title="First show")
    answers = []
    page.on(
        "response",
        lambda r: (
            answers.append((r.status, r.request.headers.get("if-none-match"))) if "/api/v1/rooms/" in r.url else None
        ),
    )
    page.goto("/")
    expect(card(page, first)).to_be_visible()
    eventually(lambda: any(status == 304 for status, _ in answers), page=page)
    assert answers[0] == (200, None)  # the first poll has nothing to revalidate
    assert any(status == 304 and tag for status, tag in answers), answers

    second = make_room(make_user(), S.LIVE, title="Second show")  # the list changed: a 200 again
    expect(card(page, second)).to_be_visible()
    expect(card(page, first)).to_be_visible()  # a 304 after it keeps the cards as they are
    page.wait_for_timeout(700)
    expect(page.locator(".card")).to_have_count(2)


@pytest.mark.parametrize("ordering", ["-started_at", "-viewer_count"])
def test_load_more_to_the_end_during_churn_shows_no_card_twice(page, settings, live_rooms, ordering):
    settings.WEB_LIST_REFRESH = 3  # refreshes re-read the shown pages while "Load more" walks on
    rooms = live_rooms(24)
    transient = rooms[1::4]
    steady = [room for room in rooms if room not in transient]
    page.goto(f"/?ordering={ordering}&page_size=4")
    more = page.locator("[data-load-more]")
    clicks = 0
    with Churn(steady, transient, threads=1, pause=0.02) as churn:  # gentle: the server shares the process
        while more.is_visible():
            churn.wait(2)
            try:
                more.click()
            except PlaywrightTimeout:  # a refresh found the end meanwhile and hid the button
                assert more.is_hidden()
                break
            clicks += 1
            eventually(lambda: more.is_hidden() or more.is_enabled(), page=page)  # that page is shown
        shown = page.eval_on_selector_all("#room-grid > .card", "cards => cards.map(card => card.dataset.roomId)")
    assert len(shown) == len(set(shown)), "a card is shown twice"
    assert {str(room.pk) for room in steady} <= set(shown), "a room live throughout never got a card"
    assert clicks >= 4 and churn.opened >= 2 and churn.closed >= 2


def test_load_more_after_the_snapshot_expired_walks_again_from_the_top(page, live_rooms):
    rooms = live_rooms(5)
    page.goto("/?ordering=-viewer_count&page_size=2")  # the default refresh of 10 s does not happen
    expect(page.locator(".card")).to_have_count(2)
    client = get_redis()
    for name in client.scan_iter(key("rooms", "snapshot", "*")):
        client.delete(name)  # as if the page had sat idle past LIST_SNAPSHOT_TTL

    with page.expect_response(lambda response: response.status == 400) as refused:
        page.get_by_role("button", name="Load more").click()
    assert refused.value.json()["code"] == "cursor_expired"
    expect(page.locator(".card")).to_have_count(4)
    page.get_by_role("button", name="Load more").click()
    expect(page.locator(".card")).to_have_count(5)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    shown = page.eval_on_selector_all("#room-grid > .card", "cards => cards.map(card => card.dataset.roomId)")
    assert sorted(shown) == sorted(str(room.pk) for room in rooms)
