{{/*
Shared helpers of the Stackyard service charts. Every template takes the including chart's root
context (`.`), so .Chart, .Values and .Release are the service chart's own.
*/}}

{{/* Chart name, truncated to 63 characters (the DNS-1123 label limit). */}}
{{- define "stackyard-common.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified name: <release>-<chart>, or the release name alone when it already contains the
chart name; truncated to 63 characters. Helm caps release names at 53 characters, so the five
service names stay distinct after truncation.
*/}}
{{- define "stackyard-common.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <chart>-<version> for the helm.sh/chart label (never used in a selector). */}}
{{- define "stackyard-common.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The site this release serves: the chart's `site`, else global.site ("" for a hub). */}}
{{- define "stackyard-common.site" -}}
{{- .Values.site | default (dig "site" "" (.Values.global | default dict)) -}}
{{- end -}}

{{/*
Selector labels: stable for the life of a release (selectors are immutable), so no version, chart
or site in them.
*/}}
{{- define "stackyard-common.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stackyard-common.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "stackyard-common.labels" -}}
helm.sh/chart: {{ include "stackyard-common.chart" . }}
{{ include "stackyard-common.selectorLabels" . }}
app.kubernetes.io/version: {{ include "stackyard-common.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: service
app.kubernetes.io/part-of: stackyard
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with include "stackyard-common.site" . }}
stackyard/site: {{ . }}
{{- end }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* ServiceAccount name. */}}
{{- define "stackyard-common.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "stackyard-common.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image tag: the chart's image.tag, else global.image.tag, else the chart's appVersion. */}}
{{- define "stackyard-common.imageTag" -}}
{{- $g := dig "image" dict (.Values.global | default dict) -}}
{{- .Values.image.tag | default (dig "tag" "" $g) | default .Chart.AppVersion | toString -}}
{{- end -}}

{{/* Image reference: [registry/]repository(:tag|@digest); local values win over global ones. */}}
{{- define "stackyard-common.image" -}}
{{- $g := dig "image" dict (.Values.global | default dict) -}}
{{- $registry := .Values.image.registry | default (dig "registry" "" $g) -}}
{{- $ref := .Values.image.repository -}}
{{- if $registry -}}
{{- $ref = printf "%s/%s" (trimSuffix "/" $registry) $ref -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $ref .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (include "stackyard-common.imageTag" .) -}}
{{- end -}}
{{- end -}}

{{- define "stackyard-common.imagePullPolicy" -}}
{{- $g := dig "image" dict (.Values.global | default dict) -}}
{{- .Values.image.pullPolicy | default (dig "pullPolicy" "" $g) | default "IfNotPresent" -}}
{{- end -}}

{{/*
NATS URL, as the `value:` or `valueFrom:` of NATS_URL: the chart's own nats.url (e.g. a site's
leaf node) wins; else a key of the Secret nats.existingSecret / global.nats.existingSecret (for a
URL that carries credentials); else global.nats.url.
*/}}
{{- define "stackyard-common.natsUrlEnv" -}}
{{- $g := dig "nats" dict (.Values.global | default dict) -}}
{{- $secret := .Values.nats.existingSecret | default (dig "existingSecret" "" $g) -}}
{{- if .Values.nats.url -}}
value: {{ .Values.nats.url | quote }}
{{- else if $secret -}}
valueFrom:
  secretKeyRef:
    name: {{ $secret }}
    key: {{ .Values.nats.secretKey | default (dig "secretKey" "" $g) | default "url" }}
{{- else -}}
value: {{ required "nats.url or global.nats.url (or a nats.existingSecret) is required, e.g. nats://nats:4222" (dig "url" "" $g) | quote }}
{{- end -}}
{{- end -}}

{{/*
Secret with this service's own NATS user (NATS_USER, NATS_PASSWORD; docs/security.md): the chart's
nats.credentials.existingSecret, else <global.nats.credentials.secretPrefix>-<chart name>, else ""
(NATS without authentication).
*/}}
{{- define "stackyard-common.natsCredentialsSecret" -}}
{{- $prefix := dig "nats" "credentials" "secretPrefix" "" (.Values.global | default dict) -}}
{{- if .Values.nats.credentials.existingSecret -}}
{{- .Values.nats.credentials.existingSecret -}}
{{- else if $prefix -}}
{{- printf "%s-%s" $prefix .Chart.Name | trunc 253 -}}
{{- end -}}
{{- end -}}

{{- define "stackyard-common.natsCredentialsKey" -}}
{{- $g := dig "nats" "credentials" dict (.Values.global | default dict) -}}
{{- index .Values.nats.credentials .key | default (dig .key "" $g) | default .default -}}
{{- end -}}

{{/*
A JetStream stream setting (docs/scale-out.md) as an environment string: the chart's nats.<key>,
else global.nats.<key>; "" (also for null and []) leaves its variable unset.
*/}}
{{- define "stackyard-common.natsStreamSetting" -}}
{{- $v := include "stackyard-common.envValue" (index .Values.nats .key | default "") -}}
{{- if eq $v "" -}}
{{- $v = include "stackyard-common.envValue" (dig "nats" .key "" (.Values.global | default dict) | default "") -}}
{{- end -}}
{{- $v -}}
{{- end -}}

{{/*
The stream layout variables, as env entries; each one only when it has a value, so the service's
own default applies otherwise. NATS_SITE falls back to the release's site with the `site` layout.
*/}}
{{- define "stackyard-common.natsStreamEnv" -}}
{{- $topology := include "stackyard-common.natsStreamSetting" (dict "Values" .Values "key" "streamTopology") -}}
{{- $natsSite := include "stackyard-common.natsStreamSetting" (dict "Values" .Values "key" "site") -}}
{{- if and (eq $topology "site") (eq $natsSite "") -}}
{{- $natsSite = include "stackyard-common.site" . -}}
{{- end -}}
{{- $vars := list
  (list "STREAM_REPLICAS" (include "stackyard-common.natsStreamSetting" (dict "Values" .Values "key" "streamReplicas")))
  (list "NATS_STREAM_TOPOLOGY" $topology)
  (list "NATS_SITE" $natsSite)
  (list "NATS_HUB_SITES" (include "stackyard-common.natsStreamSetting" (dict "Values" .Values "key" "hubSites")))
  (list "NATS_HUB_DOMAIN" (include "stackyard-common.natsStreamSetting" (dict "Values" .Values "key" "hubDomain"))) -}}
{{- range $vars }}
{{- if ne (index . 1) "" }}
- name: {{ index . 0 }}
  value: {{ index . 1 | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* MongoDB settings: the chart's mongo.*, else global.mongo.*. */}}
{{- define "stackyard-common.mongoSecret" -}}
{{- $s := .Values.mongo.existingSecret | default (dig "mongo" "existingSecret" "" (.Values.global | default dict)) -}}
{{- required "mongo.existingSecret or global.mongo.existingSecret is required: the name of a Secret holding the MongoDB URL" $s -}}
{{- end -}}

{{- define "stackyard-common.mongoSecretKey" -}}
{{- .Values.mongo.secretKey | default (dig "mongo" "secretKey" "" (.Values.global | default dict)) | default "url" -}}
{{- end -}}

{{- define "stackyard-common.mongoDbPrefix" -}}
{{- .Values.mongo.dbPrefix | default (dig "mongo" "dbPrefix" "" (.Values.global | default dict)) | default "stackyard" -}}
{{- end -}}

{{/* Secret with the gRPC TLS certificate (kubernetes.io/tls); "" for plaintext gRPC. */}}
{{- define "stackyard-common.grpcTlsSecret" -}}
{{- .Values.grpcTls.existingSecret | default (dig "grpcTls" "existingSecret" "" (.Values.global | default dict)) -}}
{{- end -}}

{{/* "true" when clients must present a certificate (mutual TLS), else "". */}}
{{- define "stackyard-common.grpcTlsMutual" -}}
{{- if or .Values.grpcTls.mutual (dig "grpcTls" "mutual" false (.Values.global | default dict)) -}}true{{- end -}}
{{- end -}}

{{/* Secret with the API token list; "" leaves the API open (development only). */}}
{{- define "stackyard-common.authSecret" -}}
{{- .Values.auth.existingSecret | default (dig "auth" "existingSecret" "" (.Values.global | default dict)) -}}
{{- end -}}

{{- define "stackyard-common.authSecretKey" -}}
{{- .Values.auth.secretKey | default (dig "auth" "secretKey" "" (.Values.global | default dict)) | default "tokens.json" -}}
{{- end -}}

{{- define "stackyard-common.otelEndpoint" -}}
{{- .Values.otel.endpoint | default (dig "otel" "endpoint" "" (.Values.global | default dict)) -}}
{{- end -}}

{{/*
An environment variable value as a string. Helm reads numbers as float64, so whole numbers are
printed as integers (1000000, not 1e+06); lists become comma lists (the services split on ",").
*/}}
{{- define "stackyard-common.envValue" -}}
{{- $v := . -}}
{{- if kindIs "slice" $v -}}
{{- join "," $v -}}
{{- else if and (kindIs "float64" $v) (eq (floor $v) $v) -}}
{{- $v | int64 | toString -}}
{{- else -}}
{{- $v | toString -}}
{{- end -}}
{{- end -}}

{{/*
A config value that is a map names a file: {existingSecret, key} or {configMap, key}. Returns the
path the service reads it at, or "" when neither is set (the variable stays unset). Files from a
Secret are private: an init container copies them, at mode 0400 and owned by podSecurity.runAsUser,
into a memory emptyDir (/etc/stackyard/private). A Secret volume cannot give them that mode itself:
with an fsGroup the kubelet adds group read to every file of the volume (kubernetes/kubernetes#57923),
and without one the files are root's. Files from a ConfigMap are public (a CA certificate) and are
mounted as they are under /etc/stackyard/files.
Takes (dict "key" <config key> "file" <the map>).
*/}}
{{- define "stackyard-common.configFilePath" -}}
{{- $dir := .key | kebabcase -}}
{{- if dig "existingSecret" "" .file -}}
{{- printf "/etc/stackyard/private/%s/%s" $dir .file.key -}}
{{- else if dig "configMap" "" .file -}}
{{- printf "/etc/stackyard/files/%s/%s" $dir .file.key -}}
{{- end -}}
{{- end -}}

{{/* `config.someSetting` -> SOME_SETTING (the variable the service's src/config.ts reads). */}}
{{- define "stackyard-common.envName" -}}
{{- . | snakecase | upper -}}
{{- end -}}

{{/*
Fails the render on settings that are valid one by one but not together (values.schema.json
checks each value alone).
*/}}
{{- define "stackyard-common.validate" -}}
{{- $grace := .Values.terminationGracePeriodSeconds | int64 -}}
{{- $shutdown := .Values.shutdownTimeoutMs | int64 -}}
{{- if ge $shutdown (mul $grace 1000) -}}
{{- fail (printf "shutdownTimeoutMs (%d) must be below terminationGracePeriodSeconds (%ds), or the kubelet kills the pod mid-shutdown (STYLE G)" $shutdown $grace) -}}
{{- end -}}
{{- if and (include "stackyard-common.grpcTlsMutual" .) (not (include "stackyard-common.grpcTlsSecret" .)) -}}
{{- fail "grpcTls.mutual needs grpcTls.existingSecret (or global.grpcTls.existingSecret): mutual TLS is TLS with client certificates" -}}
{{- end -}}
{{- if eq (include "stackyard-common.natsStreamSetting" (dict "Values" .Values "key" "streamTopology")) "site" -}}
{{- if and (eq (include "stackyard-common.natsStreamSetting" (dict "Values" .Values "key" "site")) "") (eq (include "stackyard-common.site" .) "") -}}
{{- fail "nats.streamTopology site needs the site it serves: nats.site or global.nats.site, or else site or global.site (NATS_SITE)" -}}
{{- end -}}
{{- $hubDomain := include "stackyard-common.natsStreamSetting" (dict "Values" .Values "key" "hubDomain") -}}
{{- if eq $hubDomain "" -}}
{{- fail "nats.streamTopology site needs the hub's JetStream domain: nats.hubDomain or global.nats.hubDomain (NATS_HUB_DOMAIN), e.g. hub" -}}
{{- end -}}
{{- $natsSite := include "stackyard-common.natsStreamSetting" (dict "Values" .Values "key" "site") | default (include "stackyard-common.site" .) -}}
{{- if eq $hubDomain $natsSite -}}
{{- fail (printf "nats.hubDomain (%s) must differ from the site's own JetStream domain, its site id (NATS_SITE %s)" $hubDomain $natsSite) -}}
{{- end -}}
{{- end -}}
{{- $pdb := .Values.podDisruptionBudget -}}
{{- if and $pdb.create (not (kindIs "string" $pdb.minAvailable)) -}}
{{- if ge ($pdb.minAvailable | int64) (.Values.replicaCount | int64) -}}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be below replicaCount (%d), or no node can ever be drained" ($pdb.minAvailable | int64) (.Values.replicaCount | int64)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
