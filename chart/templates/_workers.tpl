{{/*
airkube.workers.settings: the worker settings of one pod template: the workers block, with a
named template's entries merged over it (lists and scalars replace, maps merge).
Usage: {{ $s := include "airkube.workers.settings" (dict "context" $ "name" "highmem") | fromYaml }}
*/}}
{{- define "airkube.workers.settings" -}}
{{- $base := omit (deepCopy .context.Values.workers) "podTemplates" -}}
{{- if ne .name "default" -}}
{{- $base = mergeOverwrite $base (deepCopy (index .context.Values.workers.podTemplates .name)) -}}
{{- end -}}
{{- toYaml $base -}}
{{- end -}}

{{/*
airkube.workers.image: the task image of a settings dict, falling back to images.airflow.
Usage: {{ include "airkube.workers.image" (dict "context" $ "settings" $s) }}
*/}}
{{- define "airkube.workers.image" -}}
{{- include "airkube.images.ref" (dict "context" .context "image" (include "airkube.workers.imageParts" . | fromYaml)) -}}
{{- end -}}

{{/*
airkube.workers.imageParts: repository and tag (defaulted to appVersion) of the task image of a
settings dict, as YAML; airflow.cfg names them apart ([kubernetes_executor] worker_container_*).
Usage: {{ $image := include "airkube.workers.imageParts" (dict "context" $ "settings" .Values.workers) | fromYaml }}
*/}}
{{- define "airkube.workers.imageParts" -}}
{{- $airflow := .context.Values.images.airflow -}}
repository: {{ .settings.image.repository | default $airflow.repository | quote }}
tag: {{ .settings.image.tag | default $airflow.tag | default .context.Chart.AppVersion | toString | quote }}
{{- end -}}

{{/*
airkube.workers.pod: the pod template the KubernetesExecutor starts each task from. Airflow's
rules: the first container is named "base" and has an image, and metadata.name is set (Airflow
replaces it per task). The executor fills in the base container's args with the task command.
Usage: {{ include "airkube.workers.pod" (dict "context" $ "name" "default") }}
*/}}
{{- define "airkube.workers.pod" -}}
{{- $ctx := .context -}}
{{- $s := include "airkube.workers.settings" . | fromYaml -}}
{{- $writableRoot := not (dig "readOnlyRootFilesystem" false ($s.containerSecurityContext | default dict)) -}}
{{- $podSecurity := $s.podSecurityContext | default dict -}}
apiVersion: v1
kind: Pod
metadata:
  name: placeholder-name
  labels:
    {{- include "airkube.labels.standard" (dict "context" $ctx "component" "worker") | nindent 4 }}
    airkube.io/pod-template: {{ .name }}
    {{- with $s.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $s.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  restartPolicy: Never
  serviceAccountName: {{ include "airkube.names.serviceAccount" (dict "context" $ctx "component" "worker" "values" $s) | quote }}
  automountServiceAccountToken: {{ $s.serviceAccount.automountToken }}
  terminationGracePeriodSeconds: {{ $s.terminationGracePeriodSeconds }}
  securityContext:
    {{- include "airkube.airflow.podSecurityContext" (dict "context" $ctx "override" $podSecurity) | nindent 4 }}
  {{- with include "airkube.images.pullSecrets" $ctx }}{{ . | trim | nindent 2 }}{{- end }}
  {{- with include "airkube.airflow.scheduling" $s }}{{ . | trim | nindent 2 }}{{- end }}
  {{- with $s.runtimeClassName }}
  runtimeClassName: {{ . | quote }}
  {{- end }}
  {{- if or (eq $ctx.Values.dags.mode "gitSync") $s.extraInitContainers }}
  initContainers:
    {{- if eq $ctx.Values.dags.mode "gitSync" }}
    {{- include "airkube.airflow.gitSync" (dict "context" $ctx "oneTime" true) | nindent 4 }}
    {{- end }}
    {{- with $s.extraInitContainers }}
    {{- include "airkube.airflow.extraContainers" . | nindent 4 }}
    {{- end }}
  {{- end }}
  containers:
    - name: base
      image: {{ include "airkube.workers.image" (dict "context" $ctx "settings" $s) }}
      imagePullPolicy: {{ $ctx.Values.images.airflow.pullPolicy }}
      env:
        {{- include "airkube.airflow.env" (dict "context" $ctx "secrets" false "dags" true "extra" $s.env) | nindent 8 }}
      {{- with $s.envFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      resources:
        {{- toYaml $s.resources | nindent 8 }}
      securityContext:
        {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" true "override" $s.containerSecurityContext) | nindent 8 }}
      volumeMounts:
        {{- include "airkube.airflow.volumeMounts" (dict "context" $ctx "dags" true "writableRoot" $writableRoot "extra" $s.extraVolumeMounts) | nindent 8 }}
    {{- with $s.extraContainers }}
    {{- include "airkube.airflow.extraContainers" . | nindent 4 }}
    {{- end }}
  volumes:
    {{- include "airkube.airflow.volumes" (dict "context" $ctx "dags" true "writableRoot" $writableRoot "extra" $s.extraVolumes) | nindent 4 }}
{{- end -}}
