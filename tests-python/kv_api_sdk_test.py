"""The official Cloudflare Python SDK (PyPI `cloudflare`) against a real `luat serve`.

Every KV endpoint, pagination over thousands of keys, binary values and metadata, bulk
operations of 10,000 entries, expiration fields, every auth failure, and data crossing
between the REST API and Lua routes. (Entries actually expiring is tested in Swift with an
injected clock: Tests/LuatKVAPITests; no sleeps here.)
"""
import time
import urllib.parse

import cloudflare
import httpx
import pytest
from cloudflare import Cloudflare

from conftest import ACCOUNT, ENV_TOKEN, READER, SCOPED, WRITER


def client(server, token):
    return Cloudflare(api_token=token, base_url=f"{server.origin}/client/v4", max_retries=0)


def hex_id(title):
    return title.encode().hex()


@pytest.fixture
def cf(server):
    return client(server, WRITER)


@pytest.fixture
def ns(cf):
    """A fresh namespace, deleted afterwards."""
    title = f"t-{time.monotonic_ns()}"
    created = cf.kv.namespaces.create(account_id=ACCOUNT, title=title)
    yield created.id
    try:
        cf.kv.namespaces.delete(created.id, account_id=ACCOUNT)
    except cloudflare.NotFoundError:
        pass


def lua_get(server, title, key):
    query = urllib.parse.urlencode({"ns": title, "key": key})
    return httpx.get(f"{server.origin}/lua/get?{query}")


# MARK: namespaces

def test_namespace_lifecycle(cf, server):
    created = cf.kv.namespaces.create(account_id=ACCOUNT, title="lifecycle")
    assert created.title == "lifecycle"
    assert created.id == hex_id("lifecycle")
    assert cf.kv.namespaces.get(created.id, account_id=ACCOUNT).title == "lifecycle"
    assert "lifecycle" in [n.title for n in cf.kv.namespaces.list(account_id=ACCOUNT)]

    with pytest.raises(cloudflare.BadRequestError) as taken:
        cf.kv.namespaces.create(account_id=ACCOUNT, title="lifecycle")
    assert taken.value.status_code == 400
    assert 'a namespace with title "lifecycle" already exists' in str(taken.value)
    assert "10014" in str(taken.value)

    cf.kv.namespaces.values.update("k", account_id=ACCOUNT, namespace_id=created.id, value=b"v")
    renamed = cf.kv.namespaces.update(created.id, account_id=ACCOUNT, title="lifecycle2")
    assert renamed.title == "lifecycle2" and renamed.id == hex_id("lifecycle2")
    got = cf.kv.namespaces.values.get("k", account_id=ACCOUNT, namespace_id=renamed.id)
    assert got.read() == b"v"
    with pytest.raises(cloudflare.NotFoundError):
        cf.kv.namespaces.get(created.id, account_id=ACCOUNT)

    cf.kv.namespaces.delete(renamed.id, account_id=ACCOUNT)
    with pytest.raises(cloudflare.NotFoundError) as gone:
        cf.kv.namespaces.get(renamed.id, account_id=ACCOUNT)
    assert gone.value.status_code == 404
    assert lua_get(server, "lifecycle2", "k").status_code == 404


def test_namespace_pages(cf):
    titles = {f"page-{i:02d}" for i in range(25)}
    for title in titles:
        cf.kv.namespaces.create(account_id=ACCOUNT, title=title)
    first = cf.kv.namespaces.list(account_id=ACCOUNT, per_page=10, page=1, order="title", direction="asc")
    assert len(first.result) == 10
    seen = [n.title for n in cf.kv.namespaces.list(account_id=ACCOUNT, per_page=10, order="title", direction="desc")]
    assert titles <= set(seen)
    assert seen == sorted(seen, reverse=True)
    for title in titles:
        cf.kv.namespaces.delete(hex_id(title), account_id=ACCOUNT)


# MARK: values, metadata, keys

def test_binary_value_and_metadata_round_trip(cf, ns):
    data = bytes(range(256)) + b"\r\n--\x00\xff"
    meta = {"owner": "ann", "tags": ["a", "b"], "n": 3}
    cf.kv.namespaces.values.update("bin/ary:key", account_id=ACCOUNT, namespace_id=ns, value=data, metadata=meta)
    got = cf.kv.namespaces.values.get("bin/ary:key", account_id=ACCOUNT, namespace_id=ns)
    assert got.read() == data
    assert cf.kv.namespaces.metadata.get("bin/ary:key", account_id=ACCOUNT, namespace_id=ns) == meta
    keys = list(cf.kv.namespaces.keys.list(ns, account_id=ACCOUNT))
    assert [k.name for k in keys] == ["bin/ary:key"]
    assert keys[0].metadata == meta

    cf.kv.namespaces.values.update("plain", account_id=ACCOUNT, namespace_id=ns, value="héllo".encode())
    assert cf.kv.namespaces.values.get("plain", account_id=ACCOUNT, namespace_id=ns).read() == "héllo".encode()
    assert cf.kv.namespaces.metadata.get("plain", account_id=ACCOUNT, namespace_id=ns) is None

    cf.kv.namespaces.values.delete("plain", account_id=ACCOUNT, namespace_id=ns)
    with pytest.raises(cloudflare.NotFoundError) as missing:
        cf.kv.namespaces.values.get("plain", account_id=ACCOUNT, namespace_id=ns)
    assert missing.value.status_code == 404
    assert "10009" in str(missing.value) or missing.value.body["errors"][0]["code"] == 10009
    with pytest.raises(cloudflare.NotFoundError):
        cf.kv.namespaces.metadata.get("plain", account_id=ACCOUNT, namespace_id=ns)


def test_limits_have_the_lua_messages(cf, ns):
    with pytest.raises(cloudflare.BadRequestError) as long_key:
        cf.kv.namespaces.values.update("k" * 513, account_id=ACCOUNT, namespace_id=ns, value=b"v")
    assert "key exceeds 512 bytes (got 513)" in str(long_key.value)
    with pytest.raises(cloudflare.BadRequestError) as big_meta:
        cf.kv.namespaces.values.update("m", account_id=ACCOUNT, namespace_id=ns, value=b"v", metadata={"x": "y" * 1100})
    assert "metadata exceeds 1024 bytes" in str(big_meta.value)
    with pytest.raises(cloudflare.BadRequestError) as bad_limit:
        cf.kv.namespaces.keys.list(ns, account_id=ACCOUNT, limit=1001).result
    assert "limit must be an integer from 1 to 1000 (got 1001)" in str(bad_limit.value)


def test_expiration(cf, ns):
    now = time.time()
    cf.kv.namespaces.values.update("ttl", account_id=ACCOUNT, namespace_id=ns, value=b"a", expiration_ttl=3600)
    cf.kv.namespaces.values.update("abs", account_id=ACCOUNT, namespace_id=ns, value=b"b", expiration=int(now) + 7200)
    keys = {k.name: k for k in cf.kv.namespaces.keys.list(ns, account_id=ACCOUNT)}
    assert abs(keys["ttl"].expiration - (now + 3600)) < 10
    assert keys["abs"].expiration == int(now) + 7200
    with pytest.raises(cloudflare.BadRequestError) as past:
        cf.kv.namespaces.values.update("old", account_id=ACCOUNT, namespace_id=ns, value=b"c", expiration=1000)
    assert "expiration must be in the future" in str(past.value)
    with pytest.raises(cloudflare.BadRequestError):
        cf.kv.namespaces.values.update("zero", account_id=ACCOUNT, namespace_id=ns, value=b"c", expiration_ttl=0)
    bulk = cf.kv.namespaces.bulk_get(ns, account_id=ACCOUNT, keys=["ttl"], with_metadata=True)
    assert abs(bulk.values["ttl"].expiration - (now + 3600)) < 10


def test_keys_paginate_over_thousands(cf, ns):
    entries = [{"key": f"user:{i:05d}", "value": str(i)} for i in range(2600)]
    entries += [{"key": f"other:{i}", "value": "x"} for i in range(50)]
    assert cf.kv.namespaces.bulk_update(ns, account_id=ACCOUNT, body=entries).successful_key_count == 2650

    page = cf.kv.namespaces.keys.list(ns, account_id=ACCOUNT, prefix="user:", limit=1000)
    assert len(page.result) == 1000
    assert page.result_info.count == 1000 and page.result_info.cursor
    names = [k.name for k in cf.kv.namespaces.keys.list(ns, account_id=ACCOUNT, prefix="user:", limit=1000)]
    assert names == [f"user:{i:05d}" for i in range(2600)]
    small = [k.name for k in cf.kv.namespaces.keys.list(ns, account_id=ACCOUNT, prefix="other:", limit=10)]
    assert sorted(small) == sorted(f"other:{i}" for i in range(50))


# MARK: bulk

def test_bulk_of_ten_thousand(cf, ns):
    body = [{"key": f"k{i:05d}", "value": f"v{i}"} for i in range(10_000)]
    body[7] = {"key": "k00007", "value": "AAEC/w==", "base64": True, "metadata": {"bin": True}}
    body[8] = {"key": "k00008", "value": '{"a": [1, 2]}', "expiration_ttl": 600}
    result = cf.kv.namespaces.bulk_update(ns, account_id=ACCOUNT, body=body)
    assert result.successful_key_count == 10_000
    assert cf.kv.namespaces.values.get("k00007", account_id=ACCOUNT, namespace_id=ns).read() == b"\x00\x01\x02\xff"

    got = cf.kv.namespaces.bulk_get(ns, account_id=ACCOUNT, keys=["k00001", "k09999", "nope"])
    assert got.values == {"k00001": "v1", "k09999": "v9999", "nope": None}
    as_json = cf.kv.namespaces.bulk_get(ns, account_id=ACCOUNT, keys=["k00008"], type="json", with_metadata=True)
    assert as_json.values["k00008"].value == {"a": [1, 2]}
    meta = cf.kv.namespaces.bulk_get(ns, account_id=ACCOUNT, keys=["k00001"], with_metadata=True)
    assert meta.values["k00001"].value == "v1" and meta.values["k00001"].metadata is None
    with pytest.raises(cloudflare.BadRequestError) as too_many:
        cf.kv.namespaces.bulk_get(ns, account_id=ACCOUNT, keys=[f"k{i:05d}" for i in range(101)])
    assert "too many keys (got 101, at most 100)" in str(too_many.value)

    deleted = cf.kv.namespaces.bulk_delete(ns, account_id=ACCOUNT, body=[f"k{i:05d}" for i in range(10_000)])
    assert deleted.successful_key_count == 10_000
    assert list(cf.kv.namespaces.keys.list(ns, account_id=ACCOUNT)) == []


def test_a_bad_bulk_entry_writes_nothing(cf, ns):
    with pytest.raises(cloudflare.BadRequestError) as bad:
        cf.kv.namespaces.bulk_update(ns, account_id=ACCOUNT, body=[{"key": "fine", "value": "1"}, {"key": "x" * 600, "value": "2"}])
    assert "entry 1: key exceeds 512 bytes (got 600)" in str(bad.value)
    assert list(cf.kv.namespaces.keys.list(ns, account_id=ACCOUNT)) == []


# MARK: REST and Lua share the store

def test_rest_writes_lua_reads_and_back(cf, server):
    users = hex_id("users")
    cf.kv.namespaces.values.update("from-rest", account_id=ACCOUNT, namespace_id=users, value=b"hello from REST")
    answer = lua_get(server, "users", "from-rest")
    assert answer.status_code == 200 and answer.text == "hello from REST"

    query = urllib.parse.urlencode({"ns": "users", "key": "from-lua", "value": "hello from Lua"})
    assert httpx.get(f"{server.origin}/lua/put?{query}").status_code == 200
    assert cf.kv.namespaces.values.get("from-lua", account_id=ACCOUNT, namespace_id=users).read() == b"hello from Lua"
    assert cf.kv.namespaces.metadata.get("from-lua", account_id=ACCOUNT, namespace_id=users) == {"from": "lua"}
    assert "users" in [n.title for n in cf.kv.namespaces.list(account_id=ACCOUNT)]


# MARK: auth

def test_every_auth_failure(server, ns):
    base = f"{server.origin}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
    missing = httpx.get(base)
    assert missing.status_code == 401
    assert missing.json()["success"] is False and missing.json()["errors"][0]["code"] == 10000
    assert httpx.get(base, headers={"Authorization": f"Basic {WRITER}"}).status_code == 401

    with pytest.raises(cloudflare.AuthenticationError):
        list(client(server, WRITER + "x").kv.namespaces.list(account_id=ACCOUNT))
    with pytest.raises(cloudflare.AuthenticationError):
        client(server, READER[:-1]).kv.namespaces.get(ns, account_id=ACCOUNT)
    assert httpx.get(base, headers={"Authorization": "Bearer"}).status_code == 401

    reader = client(server, READER)
    assert any(n.id == ns for n in reader.kv.namespaces.list(account_id=ACCOUNT))
    with pytest.raises(cloudflare.PermissionDeniedError) as read_only:
        reader.kv.namespaces.values.update("k", account_id=ACCOUNT, namespace_id=ns, value=b"v")
    assert 'token "reader" is read-only' in str(read_only.value)
    for call in [
        lambda: reader.kv.namespaces.create(account_id=ACCOUNT, title="nope"),
        lambda: reader.kv.namespaces.delete(ns, account_id=ACCOUNT),
        lambda: reader.kv.namespaces.update(ns, account_id=ACCOUNT, title="nope"),
        lambda: reader.kv.namespaces.bulk_update(ns, account_id=ACCOUNT, body=[{"key": "a", "value": "b"}]),
        lambda: reader.kv.namespaces.bulk_delete(ns, account_id=ACCOUNT, body=["a"]),
        lambda: reader.kv.namespaces.values.delete("k", account_id=ACCOUNT, namespace_id=ns),
    ]:
        with pytest.raises(cloudflare.PermissionDeniedError):
            call()

    scoped = client(server, SCOPED)
    scoped.kv.namespaces.values.update("mine", account_id=ACCOUNT, namespace_id=hex_id("users"), value=b"ok")
    with pytest.raises(cloudflare.PermissionDeniedError) as elsewhere:
        scoped.kv.namespaces.values.get("k", account_id=ACCOUNT, namespace_id=ns)
    assert 'may not access namespace' in str(elsewhere.value)
    assert [n.title for n in scoped.kv.namespaces.list(account_id=ACCOUNT)] == ["users"]

    with pytest.raises(cloudflare.PermissionDeniedError) as account:
        list(client(server, WRITER).kv.namespaces.list(account_id="someone-else"))
    assert "account" in str(account.value)

    # LUAT_KV_API_TOKEN is one read-write token for every namespace.
    env = client(server, ENV_TOKEN)
    env.kv.namespaces.values.update("env", account_id=ACCOUNT, namespace_id=ns, value=b"e")
    assert env.kv.namespaces.values.get("env", account_id=ACCOUNT, namespace_id=ns).read() == b"e"

    # No secret in any answer.
    for answer in [missing, httpx.get(base, headers={"Authorization": f"Bearer {WRITER}x"})]:
        for secret in [WRITER, READER, SCOPED, ENV_TOKEN]:
            assert secret not in answer.text


def test_route_code_never_sees_the_api(server):
    spy = httpx.get(f"{server.origin}/some/page")
    assert spy.text == "route code saw /some/page"
    api = httpx.get(f"{server.origin}/client/v4/anything", headers={"Authorization": f"Bearer {WRITER}"})
    assert api.status_code == 404 and api.json()["success"] is False
    assert "route code" not in api.text
