"""The KV browser page (/_luat/kv/) in headless Chromium against a real `luat serve`:
sign in, page through keys, open binary and JSON values, edit, delete (with confirmation),
and a read-only token's edits refused by the API."""
import json
import os

import httpx
import pytest

from cdp import Browser
from conftest import ACCOUNT, READER, ROOT, WRITER

TITLE = "browser"
NS = TITLE.encode().hex()


@pytest.fixture(scope="module")
def seeded(server):
    base = f"{server.origin}/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
    auth = {"Authorization": f"Bearer {WRITER}"}
    entries = [{"key": f"item:{i:03d}", "value": f"value {i}"} for i in range(120)]
    entries.append({"key": "bin", "value": "AAEC/4CBgoM=", "base64": True})
    entries.append({"key": "doc", "value": json.dumps({"name": "Ada", "nested": {"langs": ["lua", "swift"]}}),
                    "metadata": {"owner": "ada", "v": 2}, "expiration_ttl": 86400})
    assert httpx.put(f"{base}/{NS}/bulk", json=entries, headers=auth).status_code == 200
    return base, auth


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def sign_in(b, server, token):
    b.goto(f"{server.origin}/_luat/kv/")
    b.wait_for("!document.getElementById('login').hidden")
    b.fill("#token", token)
    b.click("#login-button")
    b.wait_for(f"document.querySelector('#namespaces button[data-namespace=\"{TITLE}\"]')")


def open_namespace(b):
    b.click(f'#namespaces button[data-namespace="{TITLE}"]')
    b.wait_for("document.querySelectorAll('#keys tr').length > 0")


def open_key(b, key):
    b.wait_for(f"document.querySelector('#keys button[data-key=\"{key}\"]')")
    b.click(f'#keys button[data-key="{key}"]')
    b.wait_for(f"!document.getElementById('value-panel').hidden && document.getElementById('value-title').textContent === {json.dumps(key)}")


def keys_on_page(b):
    return b.eval("Array.from(document.querySelectorAll('#keys button')).map(b => b.dataset.key)")


def test_browse_edit_delete(server, seeded, browser, tmp_path):
    base, auth = seeded
    b = browser
    sign_in(b, server, WRITER)
    # The token is in sessionStorage, never in the URL.
    assert WRITER not in b.eval("location.href")
    assert b.eval("sessionStorage.getItem('luat-kv-token')") == WRITER

    open_namespace(b)
    b.fill("#prefix", "item:")
    b.click('#search button[type="submit"]')
    b.wait_for("document.querySelector('#keys button') && document.querySelector('#keys button').dataset.key === 'item:000' && document.querySelectorAll('#keys tr').length === 50")
    assert keys_on_page(b) == [f"item:{i:03d}" for i in range(50)]
    b.click("#next-page")
    b.wait_for("document.querySelector('#keys button').dataset.key === 'item:050'")
    b.click("#next-page")
    b.wait_for("document.querySelector('#keys button').dataset.key === 'item:100'")
    assert keys_on_page(b) == [f"item:{i:03d}" for i in range(100, 120)]
    assert b.eval("document.getElementById('next-page').disabled") is True
    b.click("#prev-page")
    b.wait_for("document.querySelector('#keys button').dataset.key === 'item:050'")

    b.fill("#prefix", "")
    b.click('#search button[type="submit"]')
    b.wait_for("document.querySelector('#keys button').dataset.key === 'bin'")

    open_key(b, "bin")
    assert "binary, 8 bytes" in b.text("#value-kind")
    assert b.eval("document.getElementById('value-view').dataset.view") == "hex"
    assert b.text("#value-view").startswith("00000000  00 01 02 ff 80 81 82 83")

    open_key(b, "doc")
    assert b.eval("document.getElementById('value-view').dataset.view") == "json"
    assert '"nested": {\n    "langs": [' in b.text("#value-view")
    assert json.loads(b.text("#value-metadata")) == {"owner": "ada", "v": 2}
    assert b.text("#value-expiration") != "never"
    # docs/kv-browser.png is this screenshot (LUAT_UPDATE_SCREENSHOT=1 rewrites it).
    shot = os.path.join(ROOT, "docs", "kv-browser.png") if os.environ.get("LUAT_UPDATE_SCREENSHOT") else os.path.join(tmp_path, "kv-browser.png")
    b.screenshot(shot)
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    # Edit: the new value and metadata go through PUT .../values/doc (multipart).
    b.click("#edit")
    b.wait_for("!document.getElementById('editor').hidden")
    b.fill("#edit-value", '{"edited": true}')
    b.fill("#edit-metadata", '{"owner": "grace"}')
    b.click("#save")
    b.wait_for("document.getElementById('status').textContent === 'Saved doc'")
    assert httpx.get(f"{base}/{NS}/values/doc", headers=auth).text == '{"edited": true}'
    assert httpx.get(f"{base}/{NS}/metadata/doc", headers=auth).json()["result"] == {"owner": "grace"}

    # Delete asks first; Cancel keeps the key, Delete removes it.
    open_key(b, "item:000")
    b.click("#delete")
    b.wait_for("document.getElementById('confirm').open")
    b.click("#confirm-no")
    assert httpx.get(f"{base}/{NS}/values/item:000", headers=auth).status_code == 200
    b.click("#delete")
    b.wait_for("document.getElementById('confirm').open")
    b.click("#confirm-yes")
    b.wait_for("document.getElementById('status').textContent === 'Deleted item:000'")
    assert httpx.get(f"{base}/{NS}/values/item:000", headers=auth).status_code == 404
    assert "item:000" not in keys_on_page(b)


def test_read_only_token_is_refused(server, seeded, browser):
    base, auth = seeded
    b = browser
    sign_in(b, server, READER)
    open_namespace(b)
    open_key(b, "item:005")
    b.click("#edit")
    b.wait_for("!document.getElementById('editor').hidden")
    b.fill("#edit-value", "changed by a reader")
    b.click("#save")
    b.wait_for("document.getElementById('status').textContent.startsWith('Save refused')")
    assert 'token "reader" is read-only' in b.text("#status")
    b.click("#delete")
    b.wait_for("document.getElementById('confirm').open")
    b.click("#confirm-yes")
    b.wait_for("document.getElementById('status').textContent.startsWith('Delete refused')")
    assert httpx.get(f"{base}/{NS}/values/item:005", headers=auth).text == "value 5"


def test_wrong_token_stays_signed_out(server, browser):
    b = browser
    b.goto(f"{server.origin}/_luat/kv/")
    b.fill("#token", "not-a-token")
    b.click("#login-button")
    b.wait_for("document.getElementById('login-error').textContent.length > 0")
    assert "invalid API token" in b.text("#login-error")
    assert b.eval("sessionStorage.getItem('luat-kv-token')") is None
    assert b.eval("document.getElementById('app').hidden") is True
