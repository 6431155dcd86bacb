{{/* Prometheus Operator ServiceMonitor for /metrics on the http port (serviceMonitor.create). */}}
{{- define "stackyard-common.serviceMonitor" -}}
{{- if .Values.serviceMonitor.create -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "stackyard-common.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "stackyard-common.labels" . | nindent 4 }}
    {{- with .Values.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  namespaceSelector:
    matchNames:
      - {{ .Release.Namespace }}
  selector:
    matchLabels:
      {{- include "stackyard-common.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: http
      path: /metrics
      scheme: http
      interval: {{ .Values.serviceMonitor.interval }}
      scrapeTimeout: {{ .Values.serviceMonitor.scrapeTimeout }}
{{- end -}}
{{- end -}}
