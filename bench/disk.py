#!/usr/bin/env python3
"""Disk use per value size (issue 11): imports entries through `luat kv import` into a fresh
kv.db and divides the file's bytes (kv.db plus its WAL, no VACUUM) by the data's bytes (key +
value + metadata). Writes disk.json into OUT_DIR for report.py.

Usage: disk.py OUT_DIR LUAT_BINARY
Entries: 10,000 per size up to 20 KB, 1,000 of 100 KB, 100 of 1 MB (LUAT_BENCH_DISK_SCALE=0.1
for a tenth); ~100-byte keys, ~20-byte metadata, random (incompressible) values as base64.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

SIZES = [10, 100, 500, 1000, 2000, 3000, 5000, 20_000, 100_000, 1_000_000]

def count(size, scale):
    n = 10_000 if size <= 20_000 else (1_000 if size <= 100_000 else 100)
    return max(10, int(n * scale))

def measure(luat, size, n, work):
    data_dir = os.path.join(work, f"data-{size}")
    bulk = os.path.join(work, f"bulk-{size}.json")
    data_bytes = 0
    with open(bulk, "w") as f:
        f.write("[")
        for i in range(n):
            key = f"user/{i:08d}/" + (f"{i * 2654435761 % 2**32:08x}" * 12)
            key = key[:100]
            metadata = {"type": "doc", "n": i}
            value = os.urandom(size)
            data_bytes += len(key.encode()) + size + len(json.dumps(metadata, separators=(",", ":")).encode())
            entry = {"key": key, "value": base64.b64encode(value).decode(), "base64": True, "metadata": metadata}
            f.write(("," if i else "") + json.dumps(entry, separators=(",", ":")))
        f.write("]")
    subprocess.run([luat, "kv", "import", "--data-dir", data_dir, "bench", bulk], check=True,
                   stdout=subprocess.DEVNULL, cwd=work)
    db = os.path.join(data_dir, "kv.db")
    file_bytes = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
    os.remove(bulk)
    shutil.rmtree(data_dir)
    return {"size": size, "entries": n, "file_bytes": file_bytes, "data_bytes": data_bytes,
            "ratio": file_bytes / data_bytes}

def main():
    out, luat = sys.argv[1], sys.argv[2]
    scale = float(os.environ.get("LUAT_BENCH_DISK_SCALE", "1"))
    results = []
    with tempfile.TemporaryDirectory(prefix="luat-disk-") as work:
        for size in SIZES:
            r = measure(luat, size, count(size, scale), work)
            print(f"  {size:>9} B x {r['entries']:>6}: {r['ratio']:.2f}", flush=True)
            results.append(r)
    with open(os.path.join(out, "disk.json"), "w") as f:
        json.dump(results, f, indent=1)

if __name__ == "__main__":
    main()
