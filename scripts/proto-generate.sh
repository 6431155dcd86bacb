#!/usr/bin/env bash
# Regenerates libs/proto/src/gen from proto/ with buf + ts-proto (pinned in package.json).
set -euo pipefail
cd "$(dirname "$0")/../proto"
../node_modules/.bin/buf lint
../node_modules/.bin/buf generate
