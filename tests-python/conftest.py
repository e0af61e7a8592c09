"""A real `luat serve` on a loopback port, with KV API tokens, for the SDK and browser tests."""
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNT = "0123456789abcdef0123456789abcdef"
WRITER = "writer-6c1d0e2f9a8b47c3"
READER = "reader-0b8e7d1c2a3f4e5d"
SCOPED = "scoped-9f8e7d6c5b4a3210"
ENV_TOKEN = "envtoken-1a2b3c4d5e6f"
SECRETS = [WRITER, READER, SCOPED, ENV_TOKEN]

LUAT_TOML = f"""
[kv_api]
account_id = "{ACCOUNT}"

[[kv_api.tokens]]
name = "writer"
secret_env = "KVAPI_WRITER"
access = "write"

[[kv_api.tokens]]
name = "reader"
secret_env = "KVAPI_READER"
access = "read"

[[kv_api.tokens]]
name = "scoped"
secret_env = "KVAPI_SCOPED"
access = "write"
namespaces = ["users"]
"""

# Lua routes that read and write the same store: /lua/get?ns=&key= and /lua/put?ns=&key=&value=
GET_ROUTE = """
function GET(ctx)
  local value = KV.namespace(ctx.query.ns):get(ctx.query.key)
  if value == nil then return { status = 404, body = "missing" } end
  return { status = 200, body = value }
end
"""
PUT_ROUTE = """
function GET(ctx)
  KV.namespace(ctx.query.ns):put(ctx.query.key, ctx.query.value, { metadata = { from = "lua" } })
  return { status = 200, body = "ok" }
end
"""
# A catch-all route: proves /client/v4 requests never reach route code.
SPY_ROUTE = """
function GET(ctx)
  return { status = 200, body = "route code saw " .. ctx.path }
end
"""


def luat_binary():
    path = os.environ.get("LUAT_BIN") or os.path.join(ROOT, ".build", "debug", "luat")
    if not os.path.exists(path):
        raise RuntimeError(f"{path} is missing: run `swift build --product luat` first")
    return path


class Server:
    def __init__(self, folder, extra_env=None):
        self.folder = folder
        self.lines = []
        env = dict(os.environ)
        env.update({"KVAPI_WRITER": WRITER, "KVAPI_READER": READER, "KVAPI_SCOPED": SCOPED, "LUAT_KV_API_TOKEN": ENV_TOKEN})
        env.update(extra_env or {})
        self.process = subprocess.Popen(
            [luat_binary(), "serve", folder, "--port", "0", "--workers", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            match = re.search(r"running at http://127\.0\.0\.1:(\d+)/", line)
            if match:
                self.port = int(match.group(1))
                break
        if self.port is None:
            self.process.kill()
            raise RuntimeError("luat serve did not start:\n" + "".join(self.lines))
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout=5)
        return "".join(self.lines)


def make_project():
    folder = tempfile.mkdtemp(prefix="luat-kvapi-")
    with open(os.path.join(folder, "luat.toml"), "w") as f:
        f.write(LUAT_TOML)
    routes = os.path.join(folder, "src", "routes")
    for path, text in [("lua/get", GET_ROUTE), ("lua/put", PUT_ROUTE), ("[...rest]", SPY_ROUTE)]:
        os.makedirs(os.path.join(routes, path), exist_ok=True)
        with open(os.path.join(routes, path, "+server.lua"), "w") as f:
            f.write(text)
    return folder


@pytest.fixture(scope="session")
def server():
    folder = make_project()
    srv = Server(folder)
    yield srv
    log = srv.stop()
    shutil.rmtree(folder, ignore_errors=True)
    # A token never reaches the access log (or any other server output).
    for secret in SECRETS:
        assert secret not in log, "a token secret appeared in the server's output"
    assert "/client/v4/accounts" in log, "the access log should show API requests (without tokens)"
