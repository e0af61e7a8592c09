#!/usr/bin/env bash
# Disk use of the PostgreSQL backend's layout (issue 11): pg_total_relation_size (table, TOAST
# and indexes) / (key + value + metadata bytes) after a bulk insert, per value size, with
# incompressible values. Entries: 10,000 per size up to 20 KB, 1,000 of 100 KB, 100 of 1 MB.
#
#   bench/postgres_sizes.sh postgres://luat:luat@127.0.0.1:5432/luat_layout
#
# Works in a scratch schema `luat_disk_check` (dropped at the end); prints `disk_ratio_pg_SIZE=R`.
set -euo pipefail
url=${1:?usage: bench/postgres_sizes.sh POSTGRES_URL}
sizes=${SIZES:-10 100 500 1000 2000 3000 5000 20000 100000 1000000}
export PGOPTIONS="-c client_min_messages=warning"
psql() { command psql -X -q -t -A -v ON_ERROR_STOP=1 "$url" "$@"; }
psql -c "DROP SCHEMA IF EXISTS luat_disk_check CASCADE; CREATE SCHEMA luat_disk_check"
trap 'psql -c "DROP SCHEMA IF EXISTS luat_disk_check CASCADE" >/dev/null 2>&1 || true' EXIT
for size in $sizes; do
    if ((size <= 20000)); then n=10000; elif ((size <= 100000)); then n=1000; else n=100; fi
    ratio=$(psql <<SQL
SET search_path = luat_disk_check;
DROP TABLE IF EXISTS entries;
-- The layout of Sources/KVPostgres/PostgresSchema.swift (migrations 1 and 2).
CREATE TABLE entries (
    namespace  bigint NOT NULL,
    key        bytea NOT NULL,
    value      bytea NOT NULL,
    expiration bigint,
    metadata   bytea,
    PRIMARY KEY (namespace, key)
);
ALTER TABLE entries ADD COLUMN version bigint NOT NULL DEFAULT 0;
CREATE INDEX entries_by_expiration ON entries (expiration) WHERE expiration IS NOT NULL;
INSERT INTO entries (namespace, key, value, expiration, metadata, version)
SELECT 1, convert_to(rpad('user/' || lpad(i::text, 8, '0') || '/', 100, md5(i::text)), 'UTF8'),
       substring((SELECT decode(string_agg(md5(i::text || '/' || j::text || random()::text), ''), 'hex')
                  FROM generate_series(1, ($size + 15) / 16) j) FROM 1 FOR $size),
       NULL, convert_to('{"type":"doc","n":' || i || '}', 'UTF8'), i
FROM generate_series(1, $n) i;
VACUUM (ANALYZE) entries;
SELECT round(pg_total_relation_size('entries')::numeric
             / (SELECT sum(length(key) + length(value) + coalesce(length(metadata), 0)) FROM entries), 2);
SQL
)
    echo "disk_ratio_pg_$size=$ratio"
done
