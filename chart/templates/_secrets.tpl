{{/*
airkube.secrets.generated: a base64 value for key .key of Secret .name: the value the live Secret
already holds (so upgrades keep it), else a newly generated one. Helm's lookup sees nothing under
`helm template` and GitOps renderers; they should use the existingSecret values instead.
Usage: {{ include "airkube.secrets.generated" (dict "context" $ "name" $name "key" "password" "value" (randAlphaNum 32)) }}
*/}}
{{- define "airkube.secrets.generated" -}}
{{- $live := lookup "v1" "Secret" .context.Release.Namespace .name -}}
{{- if and $live $live.data (hasKey $live.data .key) -}}
{{- index $live.data .key -}}
{{- else -}}
{{- .value | b64enc -}}
{{- end -}}
{{- end -}}

{{/*
airkube.secrets.airflowName: the Secret with the fernet key, JWT secret and API secret key.
Usage: {{ include "airkube.secrets.airflowName" . }}
*/}}
{{- define "airkube.secrets.airflowName" -}}
{{- .Values.secrets.existingSecret | default (include "airkube.names.component" (dict "context" . "component" "airflow-secrets")) -}}
{{- end -}}

{{/*
airkube.secrets.adminName: the Secret with the admin password (key "password").
Usage: {{ include "airkube.secrets.adminName" . }}
*/}}
{{- define "airkube.secrets.adminName" -}}
{{- .Values.auth.admin.existingSecret | default (include "airkube.names.component" (dict "context" . "component" "admin")) -}}
{{- end -}}

{{/*
airkube.secrets.postgresName: the Secret with the embedded database password (key "password").
Usage: {{ include "airkube.secrets.postgresName" . }}
*/}}
{{- define "airkube.secrets.postgresName" -}}
{{- .Values.postgresql.auth.existingSecret | default (include "airkube.names.component" (dict "context" . "component" "postgresql")) -}}
{{- end -}}

{{/*
airkube.secrets.database: how Airflow reaches its database, as a dict: host, port, database, user,
sslmode and the password's Secret name/key, or connectionSecret for a complete URL.
Usage: {{ $db := include "airkube.secrets.database" . | fromYaml }}
*/}}
{{- define "airkube.secrets.database" -}}
{{- if .Values.postgresql.enabled -}}
host: {{ printf "%s.%s" (include "airkube.names.component" (dict "context" . "component" "postgresql")) .Release.Namespace }}
port: 5432
database: {{ .Values.postgresql.auth.database | quote }}
user: {{ .Values.postgresql.auth.username | quote }}
sslmode: disable
passwordSecret: {{ include "airkube.secrets.postgresName" . | quote }}
passwordKey: password
connectionSecret: ""
{{- else -}}
{{- $ext := .Values.externalDatabase -}}
host: {{ $ext.host | quote }}
port: {{ $ext.port }}
database: {{ $ext.database | quote }}
user: {{ $ext.user | quote }}
sslmode: {{ $ext.sslmode | quote }}
passwordSecret: {{ $ext.passwordSecret.name | quote }}
passwordKey: {{ $ext.passwordSecret.key | quote }}
connectionSecret: {{ $ext.connectionSecret | quote }}
{{- end -}}
{{- end -}}
