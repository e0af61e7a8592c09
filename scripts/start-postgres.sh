#!/usr/bin/env bash
# Starts a local PostgreSQL server for the KVPostgres tests, idempotently, on Debian as root:
# installs `postgresql` when missing, creates the cluster when there is none, starts it when
# it is down, and makes the role `luat` (password `luat`) owning the database `luat_test`.
#
# Prints one line on stdout, ready for `export`:
#     LUAT_TEST_POSTGRES_URL=postgres://luat:luat@127.0.0.1:5432/luat_test
# so CI does:  pg_env=$(bash scripts/start-postgres.sh); export "$pg_env"
# Progress goes to stderr.
set -euo pipefail

role=${LUAT_TEST_POSTGRES_ROLE:-luat}
password=${LUAT_TEST_POSTGRES_PASSWORD:-luat}
database=${LUAT_TEST_POSTGRES_DATABASE:-luat_test}

say() { echo "start-postgres: $*" >&2; }

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

# 1. The server packages.
if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    say "installing postgresql from Debian"
    "${sudo_cmd[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq postgresql >&2
fi

# The newest installed server version.
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
cluster=${LUAT_TEST_POSTGRES_CLUSTER:-main}

# 2. The cluster.
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    say "creating cluster $version $cluster"
    "${sudo_cmd[@]}" pg_createcluster "$version" "$cluster" >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')

# 3. Started. /var/run/postgresql lives on a tmpfs that a fresh boot empties.
"${sudo_cmd[@]}" install -d -o postgres -g postgres -m 2775 /var/run/postgresql
status=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')
if [ "$status" != "online" ]; then
    say "starting cluster $version $cluster on port $port"
    # A cluster stopped uncleanly (the machine was halted) recovers on start, and
    # pg_ctlcluster may report failure while it does: readiness below decides.
    "${sudo_cmd[@]}" pg_ctlcluster "$version" "$cluster" start >&2 \
        || say "pg_ctlcluster reported a failure; waiting for the server to become ready"
fi
for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$port"; then break; fi
    sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
    say "PostgreSQL did not become ready on 127.0.0.1:$port; its log:"
    tail -n 30 "/var/log/postgresql/postgresql-$version-$cluster.log" >&2 || true
    exit 1
fi

# 4. The test role and database (idempotent).
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"; }

psql_admin -v role="$role" -v password="$password" >&2 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password') \gexec
SQL
psql_admin -v role="$role" -v database="$database" >&2 <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SQL

say "PostgreSQL $version is up on 127.0.0.1:$port; database $database, role $role"
echo "LUAT_TEST_POSTGRES_URL=postgres://$role:$password@127.0.0.1:$port/$database"
