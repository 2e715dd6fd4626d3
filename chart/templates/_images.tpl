{{/*
airkube.images.ref: "repository:tag" of one entry of .Values.images; the Airflow tag defaults to
the chart's appVersion.
Usage: {{ include "airkube.images.ref" (dict "context" $ "image" .Values.images.airflow) }}
*/}}
{{- define "airkube.images.ref" -}}
{{- $tag := .image.tag | default .context.Chart.AppVersion -}}
{{- printf "%s:%s" .image.repository (toString $tag) -}}
{{- end -}}

{{/*
airkube.images.airflow: the Airflow image of the long-running components.
Usage: {{ include "airkube.images.airflow" . }}
*/}}
{{- define "airkube.images.airflow" -}}
{{- include "airkube.images.ref" (dict "context" . "image" .Values.images.airflow) -}}
{{- end -}}

{{/*
airkube.images.airflowVersion: the Airflow version deployed, as far as the chart knows it: the
Airflow image's tag (appVersion when unset), made a valid label value.
Usage: {{ include "airkube.images.airflowVersion" . }}
*/}}
{{- define "airkube.images.airflowVersion" -}}
{{- $tag := toString (.Values.images.airflow.tag | default .Chart.AppVersion) -}}
{{- regexReplaceAll "^[^A-Za-z0-9]+|[^A-Za-z0-9]+$" (regexReplaceAll "[^A-Za-z0-9_.-]" $tag "_" | trunc 63) "" -}}
{{- end -}}

{{/*
airkube.images.pullSecrets: the imagePullSecrets block, or nothing.
Usage: {{- with include "airkube.images.pullSecrets" . }}{{ . | trim | nindent 6 }}{{- end }}
*/}}
{{- define "airkube.images.pullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
