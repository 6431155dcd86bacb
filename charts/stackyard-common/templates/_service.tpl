{{/* ClusterIP Service: gRPC (commands, queries, grpc.health.v1) and the ops HTTP port. */}}
{{- define "stackyard-common.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "stackyard-common.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "stackyard-common.labels" . | nindent 4 }}
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "stackyard-common.selectorLabels" . | nindent 4 }}
  ports:
    - name: grpc
      port: {{ .Values.ports.grpc }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    - name: http
      port: {{ .Values.ports.http }}
      targetPort: http
      protocol: TCP
      appProtocol: http
{{- end -}}
