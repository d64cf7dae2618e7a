"""Usage history: a key holder's own rows, an admin's view of everyone's,
time filters, pagination, CSV and JSON export, and per-day totals."""

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from gemmachat.db.tables import usage
from tests.admin_helpers import admin, start_admin
from tests.conftest import BOTH_DATABASES, KEY, OTHER_KEY, auth

pytestmark = pytest.mark.anyio

# Three earlier days of history for key 1 and one row for key 2.
HISTORY = [
    (1, "2030-01-01T09:00:00", 10, 3, 1_000_000),
    (1, "2030-01-01T23:59:59", 20, 4, 1_000_000),
    (1, "2030-01-02T00:00:00", 30, 5, 2_500_000),
    (2, "2030-01-02T12:00:00", 40, 6, 1_000_000),
    (1, "2030-01-03T08:00:00", 50, 7, 1_000_000),
]


async def _seed(gc) -> None:
    rows = [
        {
            "account_id": key_id,
            "request_id": f"req{n}",
            "route": "/chat",
            "model": "gemma-3-270m",
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "credits": units,
            "status": "ok",
            "latency_ms": 100 + n,
            "created_at": datetime.fromisoformat(when).replace(tzinfo=UTC),
        }
        for n, (key_id, when, tokens_in, tokens_out, units) in enumerate(HISTORY)
    ]
    async with gc.gateway.engine.begin() as conn:
        await conn.execute(insert(usage), rows)


async def _get(gc, path: str, headers: dict, **params):
    response = await gc.client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def test_usage_shows_a_real_request(start):
    gc = await start_admin(start)
    chat = await gc.client.post(
        "/chat", headers=auth(), json={"prompt": "Hi", "max_tokens": 2}
    )
    [row] = (await _get(gc, "/usage", auth())).json()["data"]
    assert row["request_id"] == chat.headers["x-request-id"]
    assert {k: row[k] for k in ("key_id", "route", "model", "credits", "status")} == {
        "key_id": 1,
        "route": "/chat",
        "model": "gemma-3-270m",
        "credits": 1,
        "status": "ok",
    }
    assert row["input_tokens"] > 0 and row["output_tokens"] == 2
    assert row["latency_ms"] >= 0 and row["time"].endswith("+00:00")


async def test_usage_pages_newest_first_and_only_own_rows(start):
    gc = await start_admin(start)
    await _seed(gc)
    first = (await _get(gc, "/usage", auth(), limit=3)).json()
    second = (
        await _get(gc, "/usage", auth(), limit=3, cursor=first["next_cursor"])
    ).json()
    ids = [row["request_id"] for row in first["data"] + second["data"]]
    assert ids == ["req4", "req2", "req1", "req0"]
    assert second["next_cursor"] is None
    other = (await _get(gc, "/usage", auth(OTHER_KEY))).json()["data"]
    assert [row["request_id"] for row in other] == ["req3"]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"since": "2030-01-02T00:00:00Z"}, ["req4", "req2"]),
        ({"until": "2030-01-02T00:00:00Z"}, ["req1", "req0"]),
        (
            {"since": "2030-01-01T12:00:00", "until": "2030-01-03T00:00:00"},
            ["req2", "req1"],
        ),
        ({"since": "2030-01-02T01:00:00+01:00"}, ["req4", "req2"]),
    ],
    ids=["since", "until-exclusive", "naive-is-utc", "with-zone"],
)
async def test_usage_filters_by_time(start, params, expected):
    gc = await start_admin(start)
    await _seed(gc)
    rows = (await _get(gc, "/usage", auth(), **params)).json()["data"]
    assert [row["request_id"] for row in rows] == expected


async def test_usage_exports_csv_and_json(start):
    gc = await start_admin(start)
    await _seed(gc)
    exported = await _get(
        gc, "/usage/export", auth(), format="csv", since="2030-01-02T00:00:00Z"
    )
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"] == (
        'attachment; filename="usage.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["time"], r["request_id"], r["credits"]) for r in rows] == [
        ("2030-01-02T00:00:00+00:00", "req2", "2.5"),
        ("2030-01-03T08:00:00+00:00", "req4", "1"),
    ]
    as_json = (await _get(gc, "/usage/export", auth(), format="json")).json()
    assert [row["request_id"] for row in as_json] == ["req0", "req1", "req2", "req4"]
    empty = await _get(
        gc, "/usage/export", auth(OTHER_KEY), format="json", since="2031-01-01"
    )
    assert empty.json() == []


@BOTH_DATABASES
async def test_usage_summary_totals_per_utc_day(start):
    gc = await start_admin(start)
    await _seed(gc)
    mine = (await _get(gc, "/usage/summary", auth())).json()["data"]
    assert mine == [
        {
            "day": "2030-01-01",
            "requests": 2,
            "input_tokens": 30,
            "output_tokens": 7,
            "credits": 2,
        },
        {
            "day": "2030-01-02",
            "requests": 1,
            "input_tokens": 30,
            "output_tokens": 5,
            "credits": 2.5,
        },
        {
            "day": "2030-01-03",
            "requests": 1,
            "input_tokens": 50,
            "output_tokens": 7,
            "credits": 1,
        },
    ]
    overall = (await _get(gc, "/admin/usage/summary", admin())).json()["data"]
    assert [(d["day"], d["requests"], d["credits"]) for d in overall] == [
        ("2030-01-01", 2, 2),
        ("2030-01-02", 2, 3.5),
        ("2030-01-03", 1, 1),
    ]
    per_key = (
        await _get(gc, "/admin/usage/summary", admin(), by="key", since="2030-01-02")
    ).json()["data"]
    assert [
        (d["day"], d["key_id"], d["key_prefix"], d["credits"]) for d in per_key
    ] == [
        ("2030-01-02", 1, KEY[:10], 2.5),
        ("2030-01-02", 2, OTHER_KEY[:10], 1),
        ("2030-01-03", 1, KEY[:10], 1),
    ]


async def test_admin_reads_anyones_usage(start):
    gc = await start_admin(start)
    await _seed(gc)
    everyone = (await _get(gc, "/admin/usage", admin())).json()["data"]
    assert [row["key_id"] for row in everyone] == [1, 2, 1, 1, 1]
    key_two = (await _get(gc, "/admin/usage", admin(), key_id=2)).json()["data"]
    assert [row["request_id"] for row in key_two] == ["req3"]
    exported = await _get(gc, "/admin/usage/export", admin(), key_id=2)
    assert exported.text.splitlines()[1].split(",")[1:4] == [
        "req3",
        "2",
        OTHER_KEY[:10],
    ]


@pytest.mark.parametrize(
    "params, param",
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
        ({"since": "yesterday"}, "query.since"),
        ({"cursor": "x"}, "query.cursor"),
        ({"format": "xml"}, "query.format"),
    ],
    ids=[
        "limit-zero",
        "limit-high",
        "since-garbage",
        "cursor-garbage",
        "unknown-format",
    ],
)
async def test_usage_bad_query_is_422(start, params, param):
    gc = await start_admin(start)
    path = "/usage/export" if "format" in params else "/usage"
    response = await gc.client.get(path, params=params, headers=auth())
    assert response.status_code == 422
    assert response.json()["error"]["param"] == param
