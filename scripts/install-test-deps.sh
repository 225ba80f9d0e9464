#!/usr/bin/env bash
# Installs, idempotently, the tools the test suite needs beyond the Rust toolchain:
# PostgreSQL (Debian), a Python venv at .venv with moto[server] (S3-compatible server) and
# NVIDIA's ngcsdk (the official NGC client the compatibility tests drive).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ "${#need_apt[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
pip_install() { .venv/bin/pip install --disable-pip-version-check -q "$@"; }
.venv/bin/python -c 'import moto' >/dev/null 2>&1 || pip_install 'moto[server]'
.venv/bin/python -c 'import ngcsdk, argcomplete, opentelemetry' >/dev/null 2>&1 \
  || pip_install ngcsdk 'ngcsdk[telemetry]' argcomplete
