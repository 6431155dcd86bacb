#!/usr/bin/env bash
# Set-up plus the main job: deploy the sample site on the embedded default (local NATS, FerretDB,
# the five services, lab drivers) and exit 0 when every node is ready. Arguments go to `stackyard up`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec apps/stackyard/bin/stackyard up "$@"
