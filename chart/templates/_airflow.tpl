{{/*
airkube.airflow.reservedEnv: environment variable names the chart sets on Airflow containers;
user env may not redefine them (the checks say which value to change instead).
Usage: {{ include "airkube.airflow.reservedEnv" . | fromJsonArray }}
*/}}
{{- define "airkube.airflow.reservedEnv" -}}
{{- $names := list "AIRFLOW_HOME" "AIRFLOW_CONFIG" "AIRKUBE_DB_PASSWORD" "AIRKUBE_ADMIN_PASSWORD" -}}
{{- range $option, $_ := include "airkube.config.pinned" . | fromYaml -}}
{{- $parts := splitList "." $option -}}
{{- $names = append $names (printf "AIRFLOW__%s__%s" (index $parts 0) (index $parts 1) | upper) -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/*
airkube.airflow.env: environment of Airflow containers. Every container gets the config location;
long-running components and Jobs (.secrets true) also get the database URL and the keys, read
from Secrets. Task pods (.secrets false) get none of them: in Airflow 3 they talk only to the
execution API with a per-task token.
Usage: {{- include "airkube.airflow.env" (dict "context" $ "secrets" true "extra" .Values.scheduler.env) | nindent 12 }}
*/}}
{{- define "airkube.airflow.env" -}}
{{- $ctx := .context -}}
{{- $paths := include "airkube.config.paths" $ctx | fromYaml -}}
- name: AIRFLOW_HOME
  value: {{ $paths.home | quote }}
- name: AIRFLOW_CONFIG
  value: {{ $paths.configFile | quote }}
{{- if .secrets }}
{{- $db := include "airkube.secrets.database" $ctx | fromYaml }}
{{- if $db.connectionSecret }}
- name: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
  valueFrom:
    secretKeyRef:
      name: {{ $db.connectionSecret }}
      key: connection
{{- else }}
- name: AIRKUBE_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.passwordSecret }}
      key: {{ $db.passwordKey }}
{{- /* Kubernetes expands $(VAR) from the variable above, so the password never sits in a ConfigMap. */}}
- name: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
  value: {{ printf "postgresql+psycopg2://%s:$(AIRKUBE_DB_PASSWORD)@%s:%v/%s?sslmode=%s" $db.user $db.host $db.port $db.database $db.sslmode | quote }}
{{- end }}
{{- $keys := include "airkube.secrets.airflowName" $ctx }}
- name: AIRFLOW__CORE__FERNET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $keys }}
      key: fernet-key
- name: AIRFLOW__API_AUTH__JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $keys }}
      key: jwt-secret
- name: AIRFLOW__API__SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $keys }}
      key: api-secret-key
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
airkube.airflow.podSecurityContext: the hardened pod securityContext of Airflow pods.
Usage: {{- include "airkube.airflow.podSecurityContext" (dict "context" $ "override" dict) | nindent 6 }}
*/}}
{{- define "airkube.airflow.podSecurityContext" -}}
{{- $base := dict "runAsNonRoot" true "fsGroupChangePolicy" "OnRootMismatch" "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- $merged := mergeOverwrite $base (deepCopy .context.Values.securityContext) (deepCopy (.override | default dict)) -}}
{{- toYaml $merged -}}
{{- end -}}

{{/*
airkube.airflow.containerSecurityContext: the hardened container securityContext: no privilege
escalation, no capabilities, read-only root filesystem unless .writableRoot.
Usage: {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" false "override" dict) | nindent 10 }}
*/}}
{{- define "airkube.airflow.containerSecurityContext" -}}
{{- $base := dict "allowPrivilegeEscalation" false "readOnlyRootFilesystem" (not .writableRoot) "runAsNonRoot" true "capabilities" (dict "drop" (list "ALL")) "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml (mergeOverwrite $base (deepCopy (.override | default dict))) -}}
{{- end -}}

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
  emptyDir: {}
{{- end }}
- name: logs
{{- if and $v.logs.persistence.enabled (not .ephemeralLogs) }}
  persistentVolumeClaim:
    claimName: {{ include "airkube.airflow.logsClaim" $ctx }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- if .podTemplates }}
- name: pod-templates
  configMap:
    name: {{ include "airkube.names.component" (dict "context" $ctx "component" "pod-templates") }}
{{- end }}
{{- if .simpleAuth }}
- name: auth
  emptyDir: {}
{{- end }}
{{- if .dags }}
{{- if eq $v.dags.mode "volume" }}
- name: dags
  persistentVolumeClaim:
    claimName: {{ include "airkube.airflow.dagsClaim" $ctx }}
{{- else if eq $v.dags.mode "gitSync" }}
- name: dags
  emptyDir: {}
- name: git-tmp
  emptyDir: {}
{{- with $v.dags.gitSync.sshKeySecret }}
- name: git-ssh-key
  secret:
    secretName: {{ . }}
    defaultMode: 0440
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
{{- if and .dags (ne $v.dags.mode "image") }}
- name: dags
  mountPath: {{ $paths.dagsMount }}
  readOnly: {{ not .dagsWritable }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
airkube.airflow.gitSync: a git-sync v4 container. .oneTime makes it an init container that clones
once and exits (task pods, first start of components); otherwise it is a sidecar that keeps pulling.
Usage: {{- include "airkube.airflow.gitSync" (dict "context" $ "oneTime" true) | nindent 8 }}
*/}}
{{- define "airkube.airflow.gitSync" -}}
{{- $ctx := .context -}}
{{- $g := $ctx.Values.dags.gitSync -}}
{{- $paths := include "airkube.config.paths" $ctx | fromYaml -}}
- name: {{ ternary "git-sync-init" "git-sync" .oneTime }}
  image: {{ include "airkube.images.ref" (dict "context" $ctx "image" $ctx.Values.images.gitSync) }}
  imagePullPolicy: {{ $ctx.Values.images.gitSync.pullPolicy }}
  env:
    - name: GITSYNC_REPO
      value: {{ $g.repo | quote }}
    - name: GITSYNC_REF
      value: {{ $g.ref | quote }}
    - name: GITSYNC_ROOT
      value: {{ $paths.gitSyncRoot | quote }}
    - name: GITSYNC_LINK
      value: {{ $paths.gitSyncLink | quote }}
    - name: GITSYNC_DEPTH
      value: {{ $g.depth | quote }}
    - name: GITSYNC_PERIOD
      value: {{ $g.period | quote }}
    - name: GITSYNC_ONE_TIME
      value: {{ ternary "true" "false" .oneTime | quote }}
    - name: HOME
      value: /tmp
    {{- with $g.credentialsSecret }}
    - name: GITSYNC_USERNAME
      valueFrom:
        secretKeyRef:
          name: {{ . }}
          key: username
    - name: GITSYNC_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ . }}
          key: password
    {{- end }}
    {{- if $g.sshKeySecret }}
    - name: GITSYNC_SSH_KEY_FILE
      value: {{ printf "%s/ssh-key" $paths.gitSyncSecrets | quote }}
    - name: GITSYNC_SSH_KNOWN_HOSTS
      value: "true"
    - name: GITSYNC_SSH_KNOWN_HOSTS_FILE
      value: {{ printf "%s/known_hosts" $paths.configDir | quote }}
    {{- end }}
  resources:
    {{- toYaml $g.resources | nindent 4 }}
  securityContext:
    {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" false) | nindent 4 }}
  volumeMounts:
    - name: dags
      mountPath: {{ $paths.gitSyncRoot }}
    - name: git-tmp
      mountPath: /tmp
    {{- if $g.sshKeySecret }}
    - name: git-ssh-key
      mountPath: {{ $paths.gitSyncSecrets }}
      readOnly: true
    - name: config
      mountPath: {{ $paths.configDir }}
      readOnly: true
    {{- end }}
{{- end -}}

{{/*
airkube.airflow.waitForMigrations: init container that blocks until the schema matches this
Airflow version, so no component starts against an old or empty database.
Usage: {{- include "airkube.airflow.waitForMigrations" (dict "context" $ "resources" .Values.scheduler.resources) | nindent 8 }}
*/}}
{{- define "airkube.airflow.waitForMigrations" -}}
{{- $ctx := .context -}}
- name: wait-for-migrations
  image: {{ include "airkube.images.airflow" $ctx }}
  imagePullPolicy: {{ $ctx.Values.images.airflow.pullPolicy }}
  args: ["airflow", "db", "check-migrations", "--migration-wait-timeout", {{ $ctx.Values.migrations.waitTimeoutSeconds | quote }}]
  env:
    {{- include "airkube.airflow.env" (dict "context" $ctx "secrets" true) | nindent 4 }}
  resources:
    {{- toYaml $ctx.Values.migrations.resources | nindent 4 }}
  securityContext:
    {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" false) | nindent 4 }}
  volumeMounts:
    {{- include "airkube.airflow.volumeMounts" (dict "context" $ctx) | nindent 4 }}
{{- end -}}

{{/*
airkube.airflow.scheduling: nodeSelector/affinity/tolerations/spread/priority of a pod from a
component's values.
Usage: {{- with include "airkube.airflow.scheduling" .Values.scheduler }}{{ . | trim | nindent 6 }}{{- end }}
*/}}
{{- define "airkube.airflow.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{/*
airkube.airflow.checksums: pod annotations that roll pods when their config or secrets change.
Usage: {{- include "airkube.airflow.checksums" . | nindent 8 }}
*/}}
{{- define "airkube.airflow.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/config/config-configmap.yaml") . | sha256sum | trunc 16 }}
{{- end -}}
