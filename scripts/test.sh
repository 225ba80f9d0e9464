#!/usr/bin/env bash
# The whole test suite, as README.md documents it: installs what the tests need (idempotent),
# starts the services they use (PostgreSQL, an S3-compatible server), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
bash scripts/services.sh
set -a
# shellcheck disable=SC1091
source .ci-tmp/services.env
set +a

cargo test --workspace --all-targets
cargo test --workspace --doc
