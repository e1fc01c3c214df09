"""Equivalent list queries share one cache entry: the key is the parameters as the list reads them."""

import pytest
from django.http import QueryDict

from infra.redis import get_redis, key
from rooms.filters import canonical_query

pytestmark = pytest.mark.django_db
URL = "/api/v1/rooms/"


def cached_pages():
    return [field for field in get_redis().hkeys(key("answers")) if field.startswith(b"list:")]


@pytest.mark.parametrize(
    "first, equivalents",
    [
        (
            "page=1",
            [
                "page=01",
                "page_size=020",
                "search=%20",
                "",
                "ordering=-started_at&page=+1&page_size=20",
                "search=&owner=",
            ],
        ),
        ("", ["page=1", "page=01", "page=1&page_size=020", "page=1&search=%20", "page="]),
    ],
    ids=["asked-by-page-number", "asked-without-page"],
)
def test_equivalent_queries_share_one_entry(api, list_cache, live_room, django_assert_num_queries, first, equivalents):
    answer = api.get(f"{URL}?{first}")
    assert answer.status_code == 200 and len(cached_pages()) == 1
    for query in equivalents:
        with django_assert_num_queries(0):
            again = api.get(f"{URL}?{query}")
        assert again.status_code == 200, query
        assert again.content == answer.content
    assert len(cached_pages()) == 1


def test_page_one_is_the_first_cursor_page(api, live_rooms):
    """However page 1 is asked for, its `next` link walks cursors (never `page=1&cursor=`), and
    page 2's `previous` link leads back to it."""
    live_rooms(3)
    first = api.get(URL, {"page": 1, "page_size": 2}).json()
    assert "cursor=" in first["next"] and "page=" not in first["next"].replace("page_size=", "")
    assert api.get(first["next"]).json()["results"][0]["id"] not in [room["id"] for room in first["results"]]
    second = api.get(URL, {"page": 2, "page_size": 2}).json()
    assert "page=" not in second["previous"].replace("page_size=", "")
    assert api.get(second["previous"]).json()["results"] == first["results"]


def test_later_pages_by_number_are_cached_apart(api, list_cache, live_rooms):
    live_rooms(3)
    assert api.get(f"{URL}?page=1").status_code == 200
    assert api.get(f"{URL}?page=2&page_size=1").status_code == 200
    assert len(cached_pages()) == 2


def test_different_queries_get_entries_of_their_own(api, list_cache, live_room):
    for query in ("page_size=2", "search=evening", "ordering=-like_count", f"owner={live_room.owner_id}"):
        assert api.get(f"{URL}?{query}").status_code == 200
    assert len(cached_pages()) == 4


def test_a_query_the_list_refuses_has_no_entry_and_still_gets_its_400(api, list_cache, live_room):
    refused = (
        "page=0",
        "page_size=101",
        "owner=0",
        "ordering=title",
        "colour=red",
        "search=" + "x" * 65,
        "page=1&cursor=x",
    )
    for query in refused:
        assert canonical_query(QueryDict(query)) is None, query
        assert api.get(f"{URL}?{query}").status_code == 400, query
    assert cached_pages() == []


@pytest.mark.parametrize(
    "a, b",
    [
        ("page=01", "page=1"),
        ("page_size=020", ""),
        ("page=1", ""),
        ("search=%20", ""),
        ("search=%20show%20", "search=show"),
        ("owner=7.0", "owner=7"),
        ("ordering=", "ordering=-started_at"),
        ("page=2&page_size=5", "page_size=5&page=2"),
    ],
)
def test_canonical_query_of_equivalent_queries_is_the_same(a, b):

    assert canonical_query(QueryDict(a)) == canonical_query(QueryDict(b)) is not None
