#!/usr/bin/env bash
# One-time (idempotent) set-up on a fresh Debian 12 machine: npm packages, nats-server from Debian,
# FerretDB built from its Go module (pinned). Prints what it does; fails with a message saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
FERRETDB_VERSION=v1.24.2
say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm packages are installed"
fi

if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then
  say "nats-server is installed ($( (nats-server --version 2>/dev/null || /usr/sbin/nats-server --version) | head -1))"
else
  say "installing nats-server from Debian..."
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq || die "apt-get update failed: cannot install nats-server"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >/dev/null || die "apt-get install nats-server failed"
fi

if [ -x /usr/bin/chromium ]; then
  say "chromium is installed (for the dashboard test)"
else
  say "installing chromium from Debian (headless browser for the dashboard test)..."
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq || die "apt-get update failed: cannot install chromium"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null || die "apt-get install chromium failed"
fi

if command -v promtool >/dev/null 2>&1; then
  say "promtool is installed (checks generated Prometheus rules)"
else
  say "installing prometheus from Debian (for promtool)..."
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq || die "apt-get update failed: cannot install prometheus"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null || die "apt-get install prometheus failed"
fi

if command -v ansible-inventory >/dev/null 2>&1; then
  say "ansible-core is installed (parses generated Kolla inventories)"
else
  say "installing ansible-core from Debian (ansible-inventory checks generated Kolla inventories)..."
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq || die "apt-get update failed: cannot install ansible-core"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ansible-core >/dev/null || die "apt-get install ansible-core failed"
fi

if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; then
  say "OpenSSH is installed (ssh, ssh-keygen, sshd: the network ssh applier's tests run a private sshd)"
else
  say "installing openssh-server and openssh-client from Debian (the network ssh applier's tests)..."
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq || die "apt-get update failed: cannot install openssh-server"
  # The tests start their own sshd on a free loopback port with its own keys: the packaged service is not used.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null || die "apt-get install openssh-server failed"
fi

if command -v ironic-api >/dev/null 2>&1 && command -v ironic-conductor >/dev/null 2>&1 && python3 -c 'import sushy' 2>/dev/null; then
  say "Ironic is installed (ironic-api, ironic-conductor, sushy: the ironic driver's tests run it standalone)"
else
  say "installing Ironic from Debian (ironic-api, ironic-conductor, python3-sushy; ~1 min)..."
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq || die "apt-get update failed: cannot install Ironic"
  # The tests run their own Ironic on free loopback ports (libs/devinfra): the packaged services are not used.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ironic-api ironic-conductor python3-sushy >/dev/null || die "apt-get install ironic-api ironic-conductor python3-sushy failed"
fi

bin=.stackyard/bin/ferretdb
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -1)" = "$FERRETDB_VERSION" ]; then
  say "FerretDB $FERRETDB_VERSION is built ($bin)"
else
  command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || die "Go is needed to build FerretDB (install Go 1.22+)"
  export PATH="$PATH:/usr/local/go/bin"
  say "building FerretDB $FERRETDB_VERSION from its Go module (first time: about 1-2 minutes)..."
  src=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}console.log(j.Dir)})') \
    || die "could not download github.com/FerretDB/FerretDB@$FERRETDB_VERSION from the Go module proxy"
  work=$(mktemp -d)
  cp -r "$src" "$work/ferretdb" && chmod -R u+w "$work/ferretdb"
  # The module zip lacks the version file that FerretDB's own build generates from git.
  echo "$FERRETDB_VERSION" > "$work/ferretdb/build/version/version.txt"
  mkdir -p .stackyard/bin
  (cd "$work/ferretdb" && go build -o "$OLDPWD/$bin" ./cmd/ferretdb) || die "go build of FerretDB failed"
  rm -rf "$work"
  say "FerretDB built: $("$bin" --version | head -1)"
fi
say "done"
