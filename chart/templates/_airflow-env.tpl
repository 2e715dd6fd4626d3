{{- /* Environment of Airflow containers. */ -}}

{{/*
airkube.airflow.reservedEnv: environment variable names the chart sets on Airflow containers;
user env may not redefine them (the checks say which value to change instead).
Usage: {{ include "airkube.airflow.reservedEnv" . | fromJsonArray }}
*/}}
{{- define "airkube.airflow.reservedEnv" -}}
{{- $names := list "AIRFLOW_HOME" "AIRFLOW_CONFIG" "PGPASSWORD" "AIRKUBE_ADMIN_PASSWORD" -}}
{{- range $option, $_ := include "airkube.config.pinned" . | fromYaml -}}
{{- $parts := splitList "." $option -}}
{{- $names = append $names (printf "AIRFLOW__%s__%s" (index $parts 0) (index $parts 1) | upper) -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/*
airkube.airflow.env: environment of Airflow containers. Every container gets the config location;
long-running components and Jobs (.secrets true) also get the database URL, the keys and the
remote log connection, read from Secrets. Task pods (.secrets false) get none of them: in Airflow 3
they talk only to the execution API with a per-task token, and ask it for connections. In gitBundle
mode, pods that clone DAGs (.dags) trust the git server's private CA, and .component names who
holds the bundle's git connection: the dag-processor, which clones, and the api-server, which
serves it to task pods.
Usage: {{- include "airkube.airflow.env" (dict "context" $ "secrets" true "dags" true "component" "dag-processor" "extra" .Values.dagProcessor.env) | nindent 12 }}
*/}}
{{- define "airkube.airflow.env" -}}
{{- $ctx := .context -}}
{{- $paths := include "airkube.config.paths" $ctx | fromYaml -}}
- name: AIRFLOW_HOME
  value: {{ $paths.home | quote }}
- name: AIRFLOW_CONFIG
  value: {{ $paths.configFile | quote }}
{{- /* Also in airflow.cfg, but an image may set this variable (the airkube image does, to run on
its own), and the environment outranks the file: the DAG mode's folder must win. */}}
- name: AIRFLOW__CORE__DAGS_FOLDER
  value: {{ include "airkube.config.dagsFolder" $ctx | quote }}
{{- $bundle := $ctx.Values.dags.gitBundle }}
{{- if and .dags (eq $ctx.Values.dags.mode "gitBundle") $bundle.caBundle.name }}
- name: GIT_SSL_CAINFO
  value: {{ printf "%s/%s" $paths.gitCa $bundle.caBundle.key | quote }}
{{- end }}
{{- if .secrets }}
{{- $db := include "airkube.secrets.database" $ctx | fromYaml }}
{{- if $db.connectionSecret }}
- name: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
  valueFrom:
    secretKeyRef:
      name: {{ $db.connectionSecret | quote }}
      key: connection
{{- else }}
{{- /* libpq (psycopg2) and asyncpg read the password from PGPASSWORD when the URL has none: it
never sits in a ConfigMap, and any character works, where in a URL it would need escaping. */}}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.passwordSecret | quote }}
      key: {{ $db.passwordKey | quote }}
- name: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
  value: {{ printf "postgresql+psycopg2://%s@%s:%v/%s?sslmode=%s" $db.user $db.host $db.port $db.database $db.sslmode | quote }}
{{- end }}
{{- $keys := include "airkube.secrets.airflowName" $ctx }}
- name: AIRFLOW__CORE__FERNET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $keys | quote }}
      key: fernet-key
- name: AIRFLOW__API_AUTH__JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $keys | quote }}
      key: jwt-secret
- name: AIRFLOW__API__SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $keys | quote }}
      key: api-secret-key
{{- $remote := $ctx.Values.logs.remote }}
{{- if and $remote.enabled $remote.connectionSecret.name }}
- name: {{ printf "AIRFLOW_CONN_%s" ($remote.connId | upper) | quote }}
  valueFrom:
    secretKeyRef:
      name: {{ $remote.connectionSecret.name | quote }}
      key: {{ $remote.connectionSecret.key | quote }}
{{- end }}
{{- if and (eq $ctx.Values.dags.mode "gitBundle") $bundle.connectionSecret.name (has .component (list "dag-processor" "api-server")) }}
- name: {{ printf "AIRFLOW_CONN_%s" ($bundle.connectionId | upper) | quote }}
  valueFrom:
    secretKeyRef:
      name: {{ $bundle.connectionSecret.name | quote }}
      key: {{ $bundle.connectionSecret.key | quote }}
{{- end }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}
