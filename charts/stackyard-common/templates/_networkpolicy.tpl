{{/*
NetworkPolicy (networkPolicy.create): ingress only to the gRPC port from networkPolicy.grpcFrom
and to the ops HTTP port from networkPolicy.httpFrom; egress only to DNS, NATS, MongoDB, the OTLP
collector (when otel.endpoint is set) and networkPolicy.extraEgress. An empty peer list
(`*From: []`, `*To: []`) means any peer, as in Kubernetes itself.
*/}}
{{- define "stackyard-common.networkPolicy.ports" -}}
{{- range .ports }}
- port: {{ . }}
  protocol: TCP
{{- end }}
{{- end -}}

{{- define "stackyard-common.networkPolicy" -}}
{{- if .Values.networkPolicy.create -}}
{{- $np := .Values.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "stackyard-common.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "stackyard-common.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "stackyard-common.selectorLabels" . | nindent 6 }}
  policyTypes: ["Ingress", "Egress"]
  ingress:
    - ports:
        - port: grpc
          protocol: TCP
      {{- with $np.grpcFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    - ports:
        - port: http
          protocol: TCP
      {{- with $np.httpFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
  egress:
    {{- if $np.egress.dns }}
    - ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    {{- end }}
    - ports:
        {{- include "stackyard-common.networkPolicy.ports" (dict "ports" $np.egress.natsPorts) | trim | nindent 8 }}
      {{- with $np.egress.natsTo }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    - ports:
        {{- include "stackyard-common.networkPolicy.ports" (dict "ports" $np.egress.mongoPorts) | trim | nindent 8 }}
      {{- with $np.egress.mongoTo }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- if include "stackyard-common.otelEndpoint" . }}
    - ports:
        {{- include "stackyard-common.networkPolicy.ports" (dict "ports" $np.egress.otlpPorts) | trim | nindent 8 }}
      {{- with $np.egress.otlpTo }}
      to:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
    {{- with $np.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
{{- end -}}
