{{/*
The service's Deployment. The security context is fixed here, not taken from values, so that no
values file can weaken it: non-root, read-only root file system (tsx's compile cache goes to the
/tmp emptyDir), no privilege escalation, no capabilities, the runtime's default seccomp profile.
*/}}
{{- define "stackyard-common.deployment" -}}
{{- include "stackyard-common.validate" . -}}
{{- $fullname := include "stackyard-common.fullname" . -}}
{{- $site := include "stackyard-common.site" . -}}
{{- $otelEndpoint := include "stackyard-common.otelEndpoint" . -}}
{{- $tlsSecret := include "stackyard-common.grpcTlsSecret" . -}}
{{- $tlsMutual := include "stackyard-common.grpcTlsMutual" . -}}
{{- $authSecret := include "stackyard-common.authSecret" . -}}
{{- $natsCredentials := include "stackyard-common.natsCredentialsSecret" . -}}
{{- $managed := list "NATS_URL" "NATS_USER" "NATS_PASSWORD" "STREAM_REPLICAS" "NATS_STREAM_TOPOLOGY" "NATS_SITE" "NATS_HUB_SITES" "NATS_HUB_DOMAIN" "MONGO_URL" "MONGO_DB_PREFIX" "GRPC_HOST" "GRPC_PORT" "HTTP_HOST" "HTTP_PORT" "LOG_LEVEL" "CONSUMER_ACK_WAIT_MS" "SHUTDOWN_TIMEOUT_MS" "GRPC_TLS_CERT_FILE" "GRPC_TLS_KEY_FILE" "GRPC_TLS_CLIENT_CA_FILE" "AUTH_TOKENS_FILE" "OTEL_SERVICE_NAME" "OTEL_RESOURCE_ATTRIBUTES" "OTEL_EXPORTER_OTLP_ENDPOINT" "OTEL_TRACES_EXPORTER" "OTEL_METRICS_EXPORTER" "OTEL_LOGS_EXPORTER" -}}
{{- range $k, $_ := .Values.config -}}
{{- $managed = append $managed (include "stackyard-common.envName" $k) -}}
{{- end -}}
{{- range .Values.extraEnv -}}
{{- if has .name $managed -}}
{{- fail (printf "extraEnv: %s is set by the chart; use its value instead (see values.yaml)" .name) -}}
{{- end -}}
{{- end -}}
{{- /* Config files ({existingSecret|configMap, key}; see stackyard-common.configFilePath). */ -}}
{{- $privateFiles := list -}}
{{- $publicFiles := list -}}
{{- range $key, $value := .Values.config -}}
{{- if kindIs "map" $value -}}
{{- $file := dict "volume" (printf "file-%s" ($key | kebabcase)) "dir" ($key | kebabcase) "key" $value.key -}}
{{- if dig "existingSecret" "" $value -}}
{{- $privateFiles = append $privateFiles (set $file "secret" $value.existingSecret) -}}
{{- else if dig "configMap" "" $value -}}
{{- $publicFiles = append $publicFiles (set $file "configMap" $value.configMap) -}}
{{- end -}}
{{- end -}}
{{- end -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "stackyard-common.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  revisionHistoryLimit: {{ .Values.revisionHistoryLimit }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "stackyard-common.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "stackyard-common.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "stackyard-common.serviceAccountName" . }}
      # The services never call the Kubernetes API.
      automountServiceAccountToken: false
      # No <SERVICE>_PORT variables injected beside the service's own configuration.
      enableServiceLinks: false
      {{- $pullSecrets := concat (dig "imagePullSecrets" list (.Values.global | default dict)) .Values.imagePullSecrets }}
      {{- with $pullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      # SIGTERM -> not ready, drain NATS, stop gRPC and HTTP, close Mongo, flush OpenTelemetry,
      # forced after SHUTDOWN_TIMEOUT_MS, which is below this grace period (STYLE G).
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ .Values.podSecurity.runAsUser }}
        runAsGroup: {{ .Values.podSecurity.runAsGroup }}
        fsGroup: {{ .Values.podSecurity.fsGroup }}
        seccompProfile:
          type: RuntimeDefault
      {{- if $privateFiles }}
      # Copies the files from Secrets to /etc/stackyard/private at mode 0400, owned by runAsUser:
      # the service refuses credentials readable by group or others, and a Secret volume's files
      # are group-readable whenever the pod has an fsGroup (kubernetes/kubernetes#57923).
      initContainers:
        - name: private-files
          image: {{ include "stackyard-common.image" . | quote }}
          imagePullPolicy: {{ include "stackyard-common.imagePullPolicy" . }}
          command:
            - sh
            - -ec
            - 'while [ "$#" -gt 0 ]; do install -D -m 0400 "$1" "$2"; shift 2; done'
            - private-files
            {{- range $privateFiles }}
            - {{ printf "/etc/stackyard/secret-src/%s/%s" .dir .key | quote }}
            - {{ printf "/etc/stackyard/private/%s/%s" .dir .key | quote }}
            {{- end }}
          securityContext:
            {{- include "stackyard-common.containerSecurityContext" . | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - name: private-files
              mountPath: /etc/stackyard/private
            {{- range $privateFiles }}
            - name: {{ .volume }}
              mountPath: {{ printf "/etc/stackyard/secret-src/%s" .dir }}
              readOnly: true
            {{- end }}
      {{- end }}
      containers:
        - name: {{ .Chart.Name }}
          image: {{ include "stackyard-common.image" . | quote }}
          imagePullPolicy: {{ include "stackyard-common.imagePullPolicy" . }}
          securityContext:
            {{- include "stackyard-common.containerSecurityContext" . | nindent 12 }}
          ports:
            - name: grpc
              containerPort: {{ .Values.ports.grpc }}
              protocol: TCP
            - name: http
              containerPort: {{ .Values.ports.http }}
              protocol: TCP
          env:
            - name: NATS_URL
              {{- include "stackyard-common.natsUrlEnv" . | nindent 14 }}
            {{- if $natsCredentials }}
            - name: NATS_USER
              valueFrom:
                secretKeyRef:
                  name: {{ $natsCredentials }}
                  key: {{ include "stackyard-common.natsCredentialsKey" (dict "Values" .Values "key" "userKey" "default" "user") }}
            - name: NATS_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ $natsCredentials }}
                  key: {{ include "stackyard-common.natsCredentialsKey" (dict "Values" .Values "key" "passwordKey" "default" "password") }}
            {{- end }}
            {{- with include "stackyard-common.natsStreamEnv" . }}
            {{- . | trim | nindent 12 }}
            {{- end }}
            - name: MONGO_URL
              valueFrom:
                secretKeyRef:
                  name: {{ include "stackyard-common.mongoSecret" . }}
                  key: {{ include "stackyard-common.mongoSecretKey" . }}
            - name: MONGO_DB_PREFIX
              value: {{ include "stackyard-common.mongoDbPrefix" . | quote }}
            - name: GRPC_HOST
              value: "0.0.0.0"
            - name: GRPC_PORT
              value: {{ include "stackyard-common.envValue" .Values.ports.grpc | quote }}
            - name: HTTP_HOST
              value: "0.0.0.0"
            - name: HTTP_PORT
              value: {{ include "stackyard-common.envValue" .Values.ports.http | quote }}
            - name: LOG_LEVEL
              value: {{ .Values.logLevel | quote }}
            - name: CONSUMER_ACK_WAIT_MS
              value: {{ include "stackyard-common.envValue" .Values.consumerAckWaitMs | quote }}
            - name: SHUTDOWN_TIMEOUT_MS
              value: {{ include "stackyard-common.envValue" .Values.shutdownTimeoutMs | quote }}
            {{- if $tlsSecret }}
            - name: GRPC_TLS_CERT_FILE
              value: /etc/stackyard/grpc-tls/tls.crt
            - name: GRPC_TLS_KEY_FILE
              value: /etc/stackyard/grpc-tls/tls.key
            {{- if $tlsMutual }}
            - name: GRPC_TLS_CLIENT_CA_FILE
              value: /etc/stackyard/grpc-tls/ca.crt
            {{- end }}
            {{- end }}
            {{- if $authSecret }}
            - name: AUTH_TOKENS_FILE
              value: /etc/stackyard/auth/tokens.json
            {{- end }}
            - name: OTEL_SERVICE_NAME
              value: {{ printf "stackyard-%s" .Chart.Name | quote }}
            - name: OTEL_RESOURCE_ATTRIBUTES
              value: {{ printf "service.namespace=stackyard,k8s.namespace.name=%s%s" .Release.Namespace (ternary (printf ",stackyard.site=%s" $site) "" (ne $site "")) | quote }}
            {{- if $otelEndpoint }}
            - name: OTEL_EXPORTER_OTLP_ENDPOINT
              value: {{ $otelEndpoint | quote }}
            - name: OTEL_TRACES_EXPORTER
              value: "otlp"
            {{- else }}
            - name: OTEL_TRACES_EXPORTER
              value: "none"
            {{- end }}
            # Metrics are scraped from /metrics; logs are JSON on stdout.
            - name: OTEL_METRICS_EXPORTER
              value: "none"
            - name: OTEL_LOGS_EXPORTER
              value: "none"
            {{- /* An empty value ("" or []) leaves the variable unset: the service's default applies.
              A map is a file from a Secret or ConfigMap: the variable is its path. */}}
            {{- range $key, $value := .Values.config }}
            {{- $s := "" }}
            {{- if kindIs "map" $value }}
            {{- $s = include "stackyard-common.configFilePath" (dict "key" $key "file" $value) }}
            {{- else }}
            {{- $s = include "stackyard-common.envValue" $value }}
            {{- end }}
            {{- if ne $s "" }}
            - name: {{ include "stackyard-common.envName" $key }}
              value: {{ $s | quote }}
            {{- end }}
            {{- end }}
            {{- with .Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ .Values.probes.startup.periodSeconds }}
            failureThreshold: {{ .Values.probes.startup.failureThreshold }}
            timeoutSeconds: {{ .Values.probes.startup.timeoutSeconds }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
            failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
            timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
            failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
            timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $tlsSecret }}
            - name: grpc-tls
              mountPath: /etc/stackyard/grpc-tls
              readOnly: true
            {{- end }}
            {{- if $authSecret }}
            - name: auth-tokens
              mountPath: /etc/stackyard/auth
              readOnly: true
            {{- end }}
            {{- if $privateFiles }}
            - name: private-files
              mountPath: /etc/stackyard/private
              readOnly: true
            {{- end }}
            {{- range $publicFiles }}
            - name: {{ .volume }}
              mountPath: {{ printf "/etc/stackyard/files/%s" .dir }}
              readOnly: true
            {{- end }}
            {{- with .Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit }}
        {{- if $tlsSecret }}
        - name: grpc-tls
          secret:
            secretName: {{ $tlsSecret }}
            defaultMode: 288 # 0440: the group is fsGroup
            items:
              - key: tls.crt
                path: tls.crt
              - key: tls.key
                path: tls.key
              {{- if $tlsMutual }}
              - key: ca.crt
                path: ca.crt
              {{- end }}
        {{- end }}
        {{- if $authSecret }}
        - name: auth-tokens
          secret:
            secretName: {{ $authSecret }}
            defaultMode: 288 # 0440: the group is fsGroup
            items:
              - key: {{ include "stackyard-common.authSecretKey" . }}
                path: tokens.json
        {{- end }}
        {{- if $privateFiles }}
        # The private copies: in memory, never on the node's disk.
        - name: private-files
          emptyDir:
            medium: Memory
            sizeLimit: 1Mi
        {{- end }}
        {{- range $privateFiles }}
        - name: {{ .volume }}
          secret:
            secretName: {{ .secret }}
            defaultMode: 288 # 0440: the group is fsGroup; read only by the private-files init container
            items:
              - key: {{ .key }}
                path: {{ .key }}
        {{- end }}
        {{- range $publicFiles }}
        - name: {{ .volume }}
          configMap:
            name: {{ .configMap }}
            defaultMode: 292 # 0444: public (e.g. a CA certificate)
            items:
              - key: {{ .key }}
                path: {{ .key }}
        {{- end }}
        {{- with .Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* The container security context, fixed (not from values), for the service and its init container. */}}
{{- define "stackyard-common.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
