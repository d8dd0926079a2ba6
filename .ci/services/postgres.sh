# Sourced by .ci/run: PostgreSQL for the store's contract tests.
# shellcheck shell=bash
# PostgreSQL: the store's contract tests run against it when
# FERRY_TEST_POSTGRES_URL is set. This machine kind runs a server on
# 127.0.0.1:5432 (trust authentication, user postgres); start it if it is
# down, install it if it is missing, then make a throw-away database.
PG_HOST=127.0.0.1
PG_PORT=5432
pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1 || ! pg_up; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        echo "PostgreSQL is not installed: installing it from Debian's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    fi
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if pg_up; then
    PG_DB="ferry_ci_$$"
    psql -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE $PG_DB" >/dev/null
    on_exit "psql -q -h $PG_HOST -p $PG_PORT -U postgres -d postgres -c 'DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)' >/dev/null 2>&1"
    export FERRY_TEST_POSTGRES_URL="postgres://postgres@$PG_HOST:$PG_PORT/$PG_DB"
    echo "FERRY_TEST_POSTGRES_URL=$FERRY_TEST_POSTGRES_URL"
else
    echo "PostgreSQL could not be started: refusing to run CI without it" >&2
    exit 1
fi
