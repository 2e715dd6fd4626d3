{{- define "objectstore.labels" -}}
app.kubernetes.io/name: objectstore
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}
