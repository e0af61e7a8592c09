#!/usr/bin/env python3
"""HTTP, memory and start-up figures of issue 7 (targets 5-7), driven by bench/run.sh.

  servers.py http    OUT LUAT HTTP_SECONDS ROUNDS [HELLO_HUMMINGBIRD [HELLO_NIO]]   (LUAT "-": hello-worlds only)
  servers.py memory  OUT LUAT DEPTH_DB LOAD_SECONDS
  servers.py startup OUT LUAT HELLO RUNS

Every server listens on 127.0.0.1 only and is stopped (by its own pid) before the script
returns; every load is bounded by a duration. Results go to OUT/http.json, memory.json,
startup.json for report.py.
"""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

ROUTE = """\
-- One key read per request (issue 7, target 5).
local kv = KV.namespace("bench")
if kv:get("hello") == nil then kv:put("hello", string.rep("v", 100)) end

function GET(ctx)
  return { status = 200, body = kv:get("hello"), headers = { ["Content-Type"] = "text/plain" } }
end
"""

MIXED = """\
-- Mixed load on the 1,000,000-key namespace: nine reads of random keys for one write.
local kv = KV.namespace("big")
local value = string.rep("w", 100)

function GET(ctx)
  local i = math.random(1000000) - 1
  local key = string.format("key:%08d", i)
  if math.random(10) == 1 then
    kv:put(key, value)
    return { status = 200, body = "ok", headers = { ["Content-Type"] = "text/plain" } }
  end
  local v = kv:get(key)
  return { status = 200, body = v or "", headers = { ["Content-Type"] = "text/plain" } }
end
"""

NGINX_CONF = """\
worker_processes 2;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
load_module /usr/share/nginx/modules/ndk_http_module.so;
load_module /usr/share/nginx/modules/ngx_http_lua_module.so;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    lua_shared_dict bench 16m;
    init_by_lua_block {{ ngx.shared.bench:set("hello", string.rep("v", 100)) }}
    server {{
        listen 127.0.0.1:{port};
        location /kv {{
            default_type text/plain;
            content_by_lua_block {{ ngx.print(ngx.shared.bench:get("hello")) }}
        }}
    }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=1.0):
    """One HTTP/1.1 GET; returns the status code or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            m = re.match(rb"HTTP/1\.[01] (\d+)", data)
            return int(m.group(1)) if m else None
    except OSError:
        return None


def wait_ready(port, path, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if get(port, path) == 200:
            return True
        time.sleep(0.05)
    return False


def project(root, route_name, source, data_dir=None):
    os.makedirs(os.path.join(root, "src/routes", route_name), exist_ok=True)
    os.makedirs(os.path.join(root, "src/lib"), exist_ok=True)
    toml = "[routing]\n"
    if data_dir:
        toml += f'data_dir = "{data_dir}"\n'
    with open(os.path.join(root, "luat.toml"), "w") as f:
        f.write(toml)
    with open(os.path.join(root, "src/routes", route_name, "+server.lua"), "w") as f:
        f.write(source)


class Server:
    def __init__(self, args, cwd=None):
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=self.errors,
                                        start_new_session=True)

    def pids(self):
        """The server and its children (nginx workers)."""
        pids = [self.process.pid]
        try:
            out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
            pids += [int(x) for x in out.split()]
        except OSError:
            pass
        return pids

    def cpu_seconds(self):
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except OSError:
                pass
        return total / CLK_TCK

    def rss_mb(self):
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace")[-2000:]


def wrk(port, path, seconds, threads=2, connections=64):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "requests": requests, "p99_ms": p99_ms, "non2xx": int(errors.group(1)) if errors else 0}


def measure(server, port, path, seconds):
    wrk(port, path, 2)  # warm-up: connections, caches, every Lua state
    cpu = server.cpu_seconds()
    r = wrk(port, path, seconds)
    r["cpu_us"] = (server.cpu_seconds() - cpu) * 1e6 / max(r["requests"], 1)
    return r


def http(out, luat, seconds, rounds, hello=None, nio_hello=None):
    """nginx + Lua against luat serve (SQLite and memory backends) and, for reference, the two
    hello-worlds (Hummingbird, and the SwiftNIO floor of issue 15), all interleaved. LUAT may be
    "-" to measure only nginx and the hello-worlds."""
    work = tempfile.mkdtemp(prefix="luat-http-")
    servers = []
    targets = []  # (name, server, port, path), measured in this order each round
    try:
        # nginx + lua shared dict
        nginx_dir = os.path.join(work, "nginx")
        os.makedirs(os.path.join(nginx_dir, "tmp"))
        nginx_port = free_port()
        with open(os.path.join(nginx_dir, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(dir=nginx_dir, port=nginx_port))
        nginx = Server(["nginx", "-c", os.path.join(nginx_dir, "nginx.conf"), "-p", nginx_dir])
        servers.append(nginx)
        targets.append(("nginx", nginx, nginx_port, "/kv"))
        # luat serve, SQLite and memory backends
        if luat != "-":
            app = os.path.join(work, "app")
            project(app, "kv", ROUTE)
            # LUAT_BENCH_BEFORE: an older luat binary measured in the same rounds (before/after);
            # LUAT_BENCH_BEFORE_ARGS: flags for it (e.g. the same binary with a feature off).
            binaries = [("", luat, [])]
            if os.environ.get("LUAT_BENCH_BEFORE"):
                binaries.append(("before_", os.environ["LUAT_BENCH_BEFORE"],
                                 os.environ.get("LUAT_BENCH_BEFORE_ARGS", "").split()))
            for prefix, binary, flags in binaries:
                root = app
                if prefix:  # its own project folder, so the two never share a kv.db
                    root = os.path.join(work, "app-" + prefix.rstrip("_"))
                    project(root, "kv", ROUTE)
                for name, extra in (("sqlite", []), ("memory", ["--memory"])):
                    port = free_port()
                    server = Server([binary, "serve", root, "--port", str(port), "--production"] + flags + extra)
                    servers.append(server)
                    targets.append((prefix + name, server, port, "/kv"))
        # For reference (no target): the HTTP stack alone.
        for name, binary in (("hello", hello), ("nio_hello", nio_hello)):
            if binary:
                port = free_port()
                server = Server([binary, str(port)])
                servers.append(server)
                targets.append((name, server, port, "/"))
        for name, _, port, path in targets:
            if not wait_ready(port, path):
                raise RuntimeError(f"{name} did not answer GET {path}")

        results = {name: [] for name, _, _, _ in targets}
        for _ in range(rounds):  # interleaved, so drift of the machine's load hits every server
            for name, server, port, path in targets:
                results[name].append(measure(server, port, path, seconds))
            print("  http round: " + ", ".join(f"{name} {results[name][-1]['rps']:.0f}/s" for name, _, _, _ in targets),
                  flush=True)

        def med(key, rs):
            return statistics.median(r[key] for r in rs)

        summary = {}
        for name, _, _, _ in targets[1:]:
            ratios = [o["rps"] / n["rps"] for o, n in zip(results[name], results["nginx"])]
            key = f"http_{name}"
            summary[key] = {
                "ratio": statistics.median(ratios), "rounds": ratios,
                "ours_rps": med("rps", results[name]), "nginx_rps": med("rps", results["nginx"]),
                "ours_p99_ms": med("p99_ms", results[name]), "nginx_p99_ms": med("p99_ms", results["nginx"]),
                "ours_cpu_us": med("cpu_us", results[name]), "nginx_cpu_us": med("cpu_us", results["nginx"]),
                "ours_non2xx": sum(r["non2xx"] for r in results[name]),
            }
        if "hello" in results:  # the old reference line
            summary["hello"] = {"rps": med("rps", results["hello"]), "cpu_us": med("cpu_us", results["hello"]),
                                "p99_ms": med("p99_ms", results["hello"])}
        if "memory" in results and "nio_hello" in results:  # issue 15: luat serve against the NIO floor
            ratios = [m["rps"] / h["rps"] for m, h in zip(results["memory"], results["nio_hello"])]
            summary["http_memory_vs_nio"] = {"ratio": statistics.median(ratios), "rounds": ratios}
        summary["raw"] = results
        with open(os.path.join(out, "http.json"), "w") as f:
            json.dump(summary, f, indent=1)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


def memory(out, luat, depth_db, seconds):
    work = tempfile.mkdtemp(prefix="luat-memory-")
    server = None
    try:
        app = os.path.join(work, "app")
        data = os.path.join(work, "data")
        os.makedirs(data)
        shutil.copyfile(depth_db, os.path.join(data, "kv.db"))
        project(app, "mix", MIXED, data_dir=data)
        port = free_port()
        server = Server([luat, "serve", app, "--port", str(port), "--production"])
        if not wait_ready(port, "/mix"):
            raise RuntimeError("luat serve did not answer GET /mix")
        r = wrk(port, "/mix", seconds)
        rss = server.rss_mb()
        with open(os.path.join(out, "memory.json"), "w") as f:
            json.dump({"rss_mb": rss, "keys": 1_000_000, "seconds": seconds, "requests": r["requests"],
                       "rps": r["rps"]}, f, indent=1)
        print(f"  memory: {rss:.1f} MB resident after {seconds} s ({r['requests']} requests)", flush=True)
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def first_response_ms(args, port, path, cwd=None):
    start = time.perf_counter()
    server = Server(args, cwd=cwd)
    try:
        end = start + 30
        while time.perf_counter() < end:
            if get(port, path, timeout=0.5) == 200:
                return (time.perf_counter() - start) * 1000
            if server.process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited: {server.stop()}")
            time.sleep(0.002)
        raise RuntimeError(f"{args[0]} did not answer within 30 s")
    finally:
        server.stop()


def startup(out, luat, hello, runs):
    work = tempfile.mkdtemp(prefix="luat-startup-")
    try:
        app = os.path.join(work, "app")
        project(app, "kv", ROUTE)
        ours, base = [], []
        for _ in range(runs):  # interleaved
            p = free_port()
            base.append(first_response_ms([hello, str(p)], p, "/"))
            p = free_port()
            ours.append(first_response_ms([luat, "serve", app, "--port", str(p), "--production"], p, "/kv"))
        with open(os.path.join(out, "startup.json"), "w") as f:
            json.dump({"ours_ms": statistics.median(ours), "baseline_ms": statistics.median(base), "runs": runs,
                       "ours": ours, "baseline": base}, f, indent=1)
        print(f"  startup: luat {statistics.median(ours):.0f} ms, hello {statistics.median(base):.0f} ms", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if kind == "http":
        http(out, sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] if len(sys.argv) > 6 else None,
             sys.argv[7] if len(sys.argv) > 7 else None)
    elif kind == "memory":
        memory(out, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif kind == "startup":
        startup(out, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(f"unknown kind {kind}")
