{{/*
airkube.names.name: the chart name, or nameOverride.
Usage: {{ include "airkube.names.name" . }}
*/}}
{{- define "airkube.names.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
airkube.names.fullname: the prefix of every object name: the release name, or fullnameOverride.
Objects read as "<release>-scheduler", "<release>-api-server"... Truncated so the longest suffix
still fits 63 characters.
Usage: {{ include "airkube.names.fullname" . }}
*/}}
{{- define "airkube.names.fullname" -}}
{{- .Values.fullnameOverride | default .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/*
airkube.names.component: the name of one component's objects, "<fullname>-<component>".
Usage: {{ include "airkube.names.component" (dict "context" $ "component" "scheduler") }}
*/}}
{{- define "airkube.names.component" -}}
{{- printf "%s-%s" (include "airkube.names.fullname" .context) .component -}}
{{- end -}}

{{/*
airkube.names.serviceAccount: the ServiceAccount a component runs as. Components share the
values sub-shape serviceAccount {create, name}; an empty name means "<fullname>-<component>"
when the chart creates it and "default" when it does not.
Usage: {{ include "airkube.names.serviceAccount" (dict "context" $ "component" "scheduler" "values" .Values.scheduler) }}
*/}}
{{- define "airkube.names.serviceAccount" -}}
{{- $sa := .values.serviceAccount -}}
{{- if $sa.name -}}
{{- $sa.name -}}
{{- else if $sa.create -}}
{{- include "airkube.names.component" . -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{/*
airkube.names.workerNamespaces: the namespaces task pods run in, as a JSON list.
Usage: {{ include "airkube.names.workerNamespaces" . | fromJsonArray }}
*/}}
{{- define "airkube.names.workerNamespaces" -}}
{{- $w := .Values.workers -}}
{{- if $w.multiNamespace.enabled -}}
{{- $w.multiNamespace.namespaces | uniq | toJson -}}
{{- else -}}
{{- list (default .Release.Namespace $w.namespace) | toJson -}}
{{- end -}}
{{- end -}}

{{/*
airkube.names.apiServerUrl: in-cluster base URL of the api-server, fully qualified so task pods in
other namespaces reach it.
Usage: {{ include "airkube.names.apiServerUrl" . }}
*/}}
{{- define "airkube.names.apiServerUrl" -}}
{{- printf "http://%s.%s.svc.%s:%v" (include "airkube.names.component" (dict "context" . "component" "api-server")) .Release.Namespace .Values.clusterDomain .Values.apiServer.service.port -}}
{{- end -}}
