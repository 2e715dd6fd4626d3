{{- /* Remote task logs. */ -}}

{{/*
airkube.logs.remoteProviders: Airflow's remote task log handlers, by the folder scheme that picks
each, with the provider package (apache-airflow-providers-<name>) it lives in.
Usage: {{ include "airkube.logs.remoteProviders" . | fromYaml }}
*/}}
{{- define "airkube.logs.remoteProviders" -}}
"s3://": amazon
"cloudwatch://": amazon
"gs://": google
"stackdriver://": google
"wasb": microsoft-azure
"oss://": alibaba
"hdfs://": apache-hdfs
{{- end -}}

{{/*
airkube.logs.remoteProvider: the provider logs.remote.baseFolder needs; empty for a scheme no
handler serves.
Usage: {{ include "airkube.logs.remoteProvider" . }}
*/}}
{{- define "airkube.logs.remoteProvider" -}}
{{- $folder := .Values.logs.remote.baseFolder -}}
{{- range $scheme, $provider := include "airkube.logs.remoteProviders" . | fromYaml -}}
{{- if hasPrefix $scheme $folder }}{{ $provider }}{{ end -}}
{{- end -}}
{{- end -}}
