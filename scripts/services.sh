#!/usr/bin/env bash
# Starts, idempotently, the services the storage tests need, and writes the environment that
# points the tests at them to .ci-tmp/services.env:
#
#   - PostgreSQL (the Debian cluster, started with pg_ctlcluster), with role `arca` (password
#     `arca`) owning database `arca_test`;
#   - an S3-compatible server (moto, from a virtualenv in .venv/) on 127.0.0.1:5599, with the
#     bucket `arca-test`.
#
# Usage (as root on Debian), either
#   bash scripts/services.sh && set -a && source .ci-tmp/services.env && set +a
# or, equivalently, `source scripts/services.sh`.
#
# Safe to re-run while the services run; it stops nothing. Test credentials only: these are
# throw-away local services bound to the loopback interface.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: run in a child shell (so that `set -e`, `cd` and `exit` stay there), then export
  # the environment into the caller.
  bash "${BASH_SOURCE[0]}" >/dev/null \
    && set -a && . "$(dirname "${BASH_SOURCE[0]}")/../.ci-tmp/services.env" && set +a
  return $?
fi
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root="$(pwd)"

S3_HOST=127.0.0.1
S3_PORT=5599
S3_BUCKET=arca-test
PG_ROLE=arca
PG_PASSWORD=arca
PG_DB=arca_test

log() { echo "services.sh: $*" >&2; }

# ---- PostgreSQL ---------------------------------------------------------------------------------

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

# The first cluster Debian knows about (version and name), e.g. "15 main"; create one if none.
read -r pg_version pg_cluster pg_port _ < <(pg_lsclusters -h 2>/dev/null | head -n 1) || true
if [ -z "${pg_version:-}" ]; then
  pg_version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  pg_cluster=main
  log "creating cluster ${pg_version}/${pg_cluster}"
  pg_createcluster "${pg_version}" "${pg_cluster}" >/dev/null
  read -r pg_version pg_cluster pg_port _ < <(pg_lsclusters -h | head -n 1)
fi

if ! pg_ctlcluster "${pg_version}" "${pg_cluster}" status >/dev/null 2>&1; then
  log "starting PostgreSQL ${pg_version}/${pg_cluster}"
  pg_ctlcluster "${pg_version}" "${pg_cluster}" start
fi

psql_admin() {
  # Runs psql as the postgres superuser (peer authentication over the local socket).
  (cd / && runuser -u postgres -- psql -p "${pg_port}" -v ON_ERROR_STOP=1 -qtAX "$@")
}

for _ in $(seq 1 60); do
  if psql_admin -c 'SELECT 1' >/dev/null 2>&1; then break; fi
  sleep 0.5
done
psql_admin -c 'SELECT 1' >/dev/null

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '${PG_ROLE}'")" != "1" ]; then
  log "creating role ${PG_ROLE}"
  psql_admin -c "CREATE ROLE ${PG_ROLE} LOGIN PASSWORD '${PG_PASSWORD}'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'")" != "1" ]; then
  log "creating database ${PG_DB}"
  psql_admin -c "CREATE DATABASE ${PG_DB} OWNER ${PG_ROLE}"
fi

# ---- S3 (moto) ----------------------------------------------------------------------------------

# HTTP with python3's standard library (present wherever the venv can be made; curl may not be).
http() { # METHOD URL: succeeds on a 2xx answer
  python3 - "$1" "$2" <<'PY' 2>/dev/null
import sys, urllib.request
req = urllib.request.Request(sys.argv[2], method=sys.argv[1])
with urllib.request.urlopen(req, timeout=3) as r:
    sys.exit(0 if 200 <= r.status < 300 else 1)
PY
}
s3_up() { http GET "http://${S3_HOST}:${S3_PORT}/"; }

if ! s3_up; then
  if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    python3 -m venv .venv
  fi
  if [ ! -x .venv/bin/moto_server ]; then
    log "installing moto[server] into .venv"
    .venv/bin/pip install -q 'moto[server]'
  fi
  mkdir -p .ci-tmp
  moto_log="$(mktemp -t arca-moto.XXXXXX.log)"
  log "starting moto_server on ${S3_HOST}:${S3_PORT} (log: ${moto_log})"
  nohup .venv/bin/moto_server -H "${S3_HOST}" -p "${S3_PORT}" >"${moto_log}" 2>&1 </dev/null &
  disown || true
  for _ in $(seq 1 120); do
    if s3_up; then break; fi
    sleep 0.5
  done
  if ! s3_up; then
    log "moto_server did not answer; its log follows"
    cat "${moto_log}" >&2
    exit 1
  fi
fi

# Creating a bucket that exists is harmless on moto (us-east-1 returns 200).
http PUT "http://${S3_HOST}:${S3_PORT}/${S3_BUCKET}" \
  || { log "could not create bucket ${S3_BUCKET}"; exit 1; }

# ---- environment --------------------------------------------------------------------------------

mkdir -p .ci-tmp
cat >.ci-tmp/services.env <<EOF
export ARCA_TEST_POSTGRES_URL=postgres://${PG_ROLE}:${PG_PASSWORD}@127.0.0.1:${pg_port}/${PG_DB}
export ARCA_TEST_S3_URL=s3://${S3_BUCKET}/arca-tests
export AWS_ENDPOINT_URL=http://${S3_HOST}:${S3_PORT}
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_ALLOW_HTTP=true
EOF
log "services up; environment in ${repo_root}/.ci-tmp/services.env"
cat .ci-tmp/services.env
