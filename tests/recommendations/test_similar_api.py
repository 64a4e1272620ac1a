"""/{user}/similar and /{user}/compare/{other}: shapes, ordering, hashes, case."""
import pytest

from tests.factories import MalUserFactory
from tests.helpers import REQUESTER_HASH, hash_at, json_ok, similarity_of, user_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def requester():
    return MalUserFactory(username="req_user", hash=REQUESTER_HASH)


def test_similar_has_the_contract_envelope_and_shapes(client, requester):
    user_at(1, "amy")
    body = json_ok(client.get("/req_user/similar"))
    assert set(body) == {"requester", "pagination", "data"}
    assert body["requester"] == {"username": "req_user", "hash": "8000000000000000"}
    assert body["pagination"] == {"current": 1, "previous": None, "next": None}
    assert body["data"] == [{"username": "amy", "hash": format(hash_at(1), "x"),
                             "similarity": 99}]


def test_similar_users_come_most_similar_first_then_by_username(client, requester):
    for name, distance in [("bob", 2), ("amy", 2), ("cat", 1), ("zed", 0), ("dan", 45)]:
        user_at(distance, name)
    data = json_ok(client.get("/req_user/similar"))["data"]
    assert [u["username"] for u in data] == ["zed", "cat", "amy", "bob", "dan"]
    # 100 - floor(d * 100 / 83): 0 -> 100, 1 -> 99, 2 -> 98, 45 -> 100 - 54 = 46.
    assert [u["similarity"] for u in data] == [100, 99, 98, 98, 46]


def test_similar_never_lists_the_requester_even_with_an_identical_twin(client, requester):
    user_at(0, "twin")
    data = json_ok(client.get("/req_user/similar"))["data"]
    assert [u["username"] for u in data] == ["twin"]


def test_usernames_are_case_insensitive_and_returned_lower_cased(client, requester):
    user_at(1, "amy")
    body = json_ok(client.get("/REQ_User/similar"))
    assert body["requester"]["username"] == "req_user"
    body = json_ok(client.get("/Req_User/compare/AMY"))
    assert body["requester"]["username"] == "req_user"
    assert body["data"]["username"] == "amy"


def test_hashes_are_lower_case_hex_without_leading_zeros(client):
    MalUserFactory(username="small", hash=5)
    MalUserFactory(username="middle", hash=(1 << 47) | 1)
    MalUserFactory(username="top", hash=0xFEDC_BA98_7654_3210)
    body = json_ok(client.get("/small/similar"))
    assert body["requester"]["hash"] == "05"
    hashes = {u["username"]: u["hash"] for u in body["data"]}
    assert hashes == {"middle": "800000000001", "top": "fedcba9876543210"}


def test_compare_answers_the_other_user_as_a_similar_user(client, requester):
    user_at(3, "amy")
    body = json_ok(client.get("/req_user/compare/amy"))
    assert set(body) == {"requester", "data"}
    assert body["requester"] == {"username": "req_user", "hash": "8000000000000000"}
    assert body["data"] == {"username": "amy", "hash": format(hash_at(3), "x"),
                            "similarity": similarity_of(3)}


def test_compare_with_the_most_distant_hash_is_0_percent(client):
    MalUserFactory(username="zeroes", hash=0x8000_0000_0000_0000)
    MalUserFactory(username="ones", hash=0x7FFF_FFFF_FFFF_FFFF)
    body = json_ok(client.get("/zeroes/compare/ones"))
    assert body["data"]["similarity"] == 0


def test_similar_reads_no_row_per_listed_user(client, requester, django_assert_max_num_queries):
    for i in range(40):
        user_at(i % 5, f"n_{i:02d}")
    json_ok(client.get("/req_user/similar"))  # builds the index and the snapshot
    with django_assert_max_num_queries(3):
        data = json_ok(client.get("/req_user/similar?page=2"))["data"]
    assert len(data) == 8


def test_compare_with_oneself_is_100_percent(client, requester):
    body = json_ok(client.get("/req_user/compare/REQ_USER"))
    assert body["data"] == {"username": "req_user", "hash": "8000000000000000",
                            "similarity": 100}


@pytest.mark.parametrize("accept", ["text/html", "text/plain", "application/xml", "*/*", ""])
def test_the_answer_is_json_whatever_the_client_accepts(client, requester, accept):
    json_ok(client.get("/req_user/similar", HTTP_ACCEPT=accept))
    json_ok(client.get("/req_user/compare/req_user", HTTP_ACCEPT=accept))


@pytest.mark.parametrize("fmt", ["xml", "api", "json"])
def test_a_format_parameter_changes_nothing(client, requester, fmt):
    json_ok(client.get(f"/req_user/similar?format={fmt}"))


def test_errors_are_json_whatever_the_client_accepts(client):
    response = client.get("/x/similar", HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
