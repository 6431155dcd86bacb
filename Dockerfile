# syntax=docker/dockerfile:1
# One image per service, from one Dockerfile. Build from the repository root (the npm workspace):
#   docker build --build-arg SERVICE=inventory --build-arg GRPC_PORT=50051 --build-arg HTTP_PORT=8081 -t stackyard/inventory:0.1.0 .
# Deployed by charts/<service> (docs/helm.md). TypeScript runs from source through tsx (ADR 0005), and tsx
# is a runtime dependency, so this is a plain `npm ci` of the whole workspace.
FROM node:20-bookworm-slim
ARG SERVICE
ARG GRPC_PORT=50051
ARG HTTP_PORT=8081

RUN test -n "$SERVICE" || (echo 'build with --build-arg SERVICE=<inventory|provisioning|network|deployment|monitoring>' >&2; exit 1)
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app

# Only what the workspace needs: manifests, lockfile, TypeScript config and the workspace packages
# (npm ci checks every workspace of the lockfile, so all of them are copied).
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY libs/ libs/
COPY services/ services/
COPY apps/ apps/
COPY integration-tests/ integration-tests/
# The same tree the tests ran on, devDependencies included (NODE_ENV is set only afterwards, as
# npm ci would skip them under NODE_ENV=production).
RUN npm ci --no-audit --no-fund && npm cache clean --force
ENV NODE_ENV=production

# The node image's unprivileged user (uid 1000, the chart's podSecurity.runAsUser). The root file
# system may be read-only: tsx writes its compile cache to /tmp (an emptyDir in the chart).
USER node
WORKDIR /app/services/${SERVICE}
# GRPC_PORT and HTTP_PORT are set by the chart; these are the chart's defaults.
EXPOSE ${GRPC_PORT} ${HTTP_PORT}
# The package's "start" script, without npm in between, so SIGTERM reaches node (graceful shutdown).
CMD ["node", "--conditions=@stackyard/source", "--import", "tsx", "--import", "./src/instrumentation.ts", "src/main.ts"]
