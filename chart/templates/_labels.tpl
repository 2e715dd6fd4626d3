{{/*
airkube.labels.selector: the minimal, immutable labels that select one component's pods.
Usage: {{ include "airkube.labels.selector" (dict "context" $ "component" "scheduler") }}
*/}}
{{- define "airkube.labels.selector" -}}
app.kubernetes.io/name: {{ include "airkube.names.name" .context | quote }}
app.kubernetes.io/instance: {{ .context.Release.Name | quote }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end -}}

{{/*
airkube.labels.standard: the full label set of an object: selector labels plus version and
ownership labels (these change on upgrade, so they never appear in selectors).
Usage: {{ include "airkube.labels.standard" (dict "context" $ "component" "scheduler") }}
*/}}
{{- define "airkube.labels.standard" -}}
{{ include "airkube.labels.selector" . }}
app.kubernetes.io/version: {{ include "airkube.images.airflowVersion" .context | quote }}
app.kubernetes.io/part-of: airflow
app.kubernetes.io/managed-by: {{ .context.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .context.Chart.Name .context.Chart.Version | replace "+" "_" }}
{{- end -}}
