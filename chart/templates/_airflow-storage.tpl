{{- /* Volumes and mounts of Airflow pods: config, logs, DAGs, pod templates. */ -}}

{{/*
airkube.airflow.dagsClaim: the claim holding DAG files in volume mode.
Usage: {{ include "airkube.airflow.dagsClaim" . }}
*/}}
{{- define "airkube.airflow.dagsClaim" -}}
{{- .Values.dags.volume.existingClaim | default (include "airkube.names.component" (dict "context" . "component" "dags")) -}}
{{- end -}}

{{/*
airkube.airflow.logsClaim: the claim holding task logs when logs.persistence is on.
Usage: {{ include "airkube.airflow.logsClaim" . }}
*/}}
{{- define "airkube.airflow.logsClaim" -}}
{{- .Values.logs.persistence.existingClaim | default (include "airkube.names.component" (dict "context" . "component" "logs")) -}}
{{- end -}}

{{/*
airkube.airflow.volumes: volumes of an Airflow pod. .dags says whether it reads DAG files,
.podTemplates whether it mounts the worker pod templates (the scheduler), .writableRoot whether
its root filesystem is writable (task pods), .simpleAuth whether it holds the simple auth
manager's password file (the api-server), .ephemeralLogs keeps the logs claim out (pods that
outlive the release, like `helm test` pods, must not pin it).
Usage: {{- include "airkube.airflow.volumes" (dict "context" $ "dags" true "extra" .Values.dagProcessor.extraVolumes) | nindent 8 }}
*/}}
{{- define "airkube.airflow.volumes" -}}
{{- $ctx := .context -}}
{{- $v := $ctx.Values -}}
- name: config
  configMap:
    name: {{ include "airkube.names.component" (dict "context" $ctx "component" "config") }}
{{- if not .writableRoot }}
- name: tmp
  emptyDir:
    sizeLimit: {{ $v.emptyDirSizeLimits.scratch | quote }}
{{- end }}
- name: logs
{{- if and $v.logs.persistence.enabled (not .ephemeralLogs) }}
  persistentVolumeClaim:
    claimName: {{ include "airkube.airflow.logsClaim" $ctx | quote }}
{{- else }}
  emptyDir:
    sizeLimit: {{ $v.emptyDirSizeLimits.logs | quote }}
{{- end }}
{{- if .podTemplates }}
- name: pod-templates
  configMap:
    name: {{ include "airkube.names.component" (dict "context" $ctx "component" "pod-templates") }}
{{- end }}
{{- if .simpleAuth }}
- name: auth
  emptyDir:
    sizeLimit: {{ $v.emptyDirSizeLimits.scratch | quote }}
{{- end }}
{{- if .dags }}
{{- if eq $v.dags.mode "volume" }}
- name: dags
  persistentVolumeClaim:
    claimName: {{ include "airkube.airflow.dagsClaim" $ctx | quote }}
{{- else if eq $v.dags.mode "gitSync" }}
- name: dags
  emptyDir:
    sizeLimit: {{ $v.emptyDirSizeLimits.dags | quote }}
- name: git-tmp
  emptyDir:
    sizeLimit: {{ $v.emptyDirSizeLimits.scratch | quote }}
{{- with (or $v.dags.gitSync.sshKeySecret $v.dags.gitSync.credentialsSecret) }}
- name: git-secret
  secret:
    secretName: {{ . | quote }}
    defaultMode: 0440
{{- end }}
{{- else if eq $v.dags.mode "gitBundle" }}
- name: dag-bundles
  emptyDir:
    sizeLimit: {{ $v.emptyDirSizeLimits.dags | quote }}
{{- end }}
{{- with (include "airkube.config.gitSettings" $ctx | fromYaml).caBundle }}
{{- if .name }}
- name: git-ca
  {{- if eq .kind "Secret" }}
  secret:
    secretName: {{ .name | quote }}
  {{- else }}
  configMap:
    name: {{ .name | quote }}
  {{- end }}
    items:
      - key: {{ .key | quote }}
        path: {{ .key | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
airkube.airflow.volumeMounts: the mounts matching airkube.airflow.volumes (same arguments).
Usage: {{- include "airkube.airflow.volumeMounts" (dict "context" $ "dags" true "extra" .Values.dagProcessor.extraVolumeMounts) | nindent 12 }}
*/}}
{{- define "airkube.airflow.volumeMounts" -}}
{{- $ctx := .context -}}
{{- $v := $ctx.Values -}}
{{- $paths := include "airkube.config.paths" $ctx | fromYaml -}}
- name: config
  mountPath: {{ $paths.configDir }}
  readOnly: true
{{- if not .writableRoot }}
- name: tmp
  mountPath: /tmp
{{- end }}
- name: logs
  mountPath: {{ $paths.logs }}
{{- if .podTemplates }}
- name: pod-templates
  mountPath: {{ $paths.podTemplatesDir }}
  readOnly: true
{{- end }}
{{- if .simpleAuth }}
- name: auth
  mountPath: {{ $paths.authDir }}
{{- end }}
{{- if and .dags (has $v.dags.mode (list "volume" "gitSync")) }}
- name: dags
  mountPath: {{ $paths.dagsMount }}
  readOnly: {{ not .dagsWritable }}
{{- end }}
{{- if and .dags (eq $v.dags.mode "gitBundle") }}
{{- /* Airflow's GitDagBundle clones here; ssh checks the host against the system-wide known
hosts, and git trusts the private CA through GIT_SSL_CAINFO (see airkube.airflow.env). */}}
- name: dag-bundles
  mountPath: {{ $paths.bundlesDir }}
{{- if include "airkube.config.knownHosts" $ctx }}
- name: config
  mountPath: {{ $paths.systemKnownHosts }}
  subPath: known_hosts
  readOnly: true
{{- end }}
{{- if $v.dags.gitBundle.caBundle.name }}
- name: git-ca
  mountPath: {{ $paths.gitCa }}
  readOnly: true
{{- end }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}
