#!/usr/bin/env bash
# Dependencies point inward (STYLE B): domain/ imports no adapters, application, I/O libraries or
# other services; application/ imports no adapters. Prints offending lines.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
for svc in services/*/; do
  if grep -rnE "from '(\.\./)+(adapters|application)|from '(mongodb|@nats-io/[^']*|@grpc/grpc-js|fastify|node:fs|node:net|node:child_process)'|from '@stackyard/(mongo|nats|grpc|http|service|devinfra|inventory|provisioning|network|deployment|monitoring)'" "$svc/src/domain" --include='*.ts' | grep -v '\.spec\.ts:'; then bad=1; fi
  if grep -rnE "from '(\.\./)+adapters|from '(mongodb|@nats-io/[^']*|@grpc/grpc-js|fastify)'|from '@stackyard/(mongo|nats|grpc|http|service|devinfra)'" "$svc/src/application" --include='*.ts' | grep -v '\.spec\.ts:'; then bad=1; fi
done
# No service imports another service.
for svc in services/*/; do
  name=$(basename "$svc")
  if grep -rnE "from '@stackyard/(inventory|provisioning|network|deployment|monitoring)'" "$svc/src" --include='*.ts' | grep -v "@stackyard/$name'"; then bad=1; fi
done
exit $bad
