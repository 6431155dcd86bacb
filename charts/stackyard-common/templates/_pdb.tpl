{{/* PodDisruptionBudget (podDisruptionBudget.create): minAvailable if set, else maxUnavailable. */}}
{{- define "stackyard-common.podDisruptionBudget" -}}
{{- if .Values.podDisruptionBudget.create -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "stackyard-common.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "stackyard-common.labels" . | nindent 4 }}
spec:
  {{- if ne (toString .Values.podDisruptionBudget.minAvailable) "" }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "stackyard-common.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}
