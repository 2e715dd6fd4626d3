{{- define "gitserver.labels" -}}
app.kubernetes.io/name: gitserver
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}
