{{- /* Containers Airflow pods share: git-sync and the wait for migrations. */ -}}

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
          name: {{ . | quote }}
          key: username
    {{- /* Read from the mounted Secret on every fetch: a rotated token needs no restart. */}}
    - name: GITSYNC_PASSWORD_FILE
      value: {{ printf "%s/password" $paths.gitSyncSecrets | quote }}
    {{- end }}
    {{- with $g.caBundle.name }}
    - name: GIT_SSL_CAINFO
      value: {{ printf "%s/%s" $paths.gitCa $g.caBundle.key | quote }}
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
    {{- /* The git-sync image's own user: ssh insists that the running UID has a passwd entry,
    which the Airflow UID has not there. The files it writes are world-readable. */}}
    {{- $identity := dict "runAsUser" $paths.gitSyncUid "runAsGroup" $paths.gitSyncUid }}
    {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" false "override" $identity) | nindent 4 }}
  volumeMounts:
    - name: dags
      mountPath: {{ $paths.gitSyncRoot }}
    - name: git-tmp
      mountPath: /tmp
    {{- if or $g.sshKeySecret $g.credentialsSecret }}
    - name: git-secret
      mountPath: {{ $paths.gitSyncSecrets }}
      readOnly: true
    {{- end }}
    {{- if $g.sshKeySecret }}
    - name: config
      mountPath: {{ $paths.configDir }}
      readOnly: true
    {{- end }}
    {{- if $g.caBundle.name }}
    - name: git-ca
      mountPath: {{ $paths.gitCa }}
      readOnly: true
    {{- end }}
{{- end -}}

{{/*
airkube.airflow.waitForMigrations: init container that blocks until the schema matches this
Airflow version, so no component starts against an old or empty database.
files/migrations_check.py (in the config ConfigMap) gives the verdict of `airflow db
check-migrations` from the heads the airkube image records at build time, and runs that command
for images without the record.
It runs with migrations.resources whatever pod it is in: the check is the same everywhere.
Usage: {{- include "airkube.airflow.waitForMigrations" (dict "context" $) | nindent 8 }}
*/}}
{{- define "airkube.airflow.waitForMigrations" -}}
{{- $ctx := .context -}}
{{- $paths := include "airkube.config.paths" $ctx | fromYaml -}}
- name: wait-for-migrations
  image: {{ include "airkube.images.airflow" $ctx }}
  imagePullPolicy: {{ $ctx.Values.images.airflow.pullPolicy }}
  args: ["python", {{ printf "%s/migrations_check.py" $paths.configDir | quote }}, {{ $ctx.Values.migrations.waitTimeoutSeconds | quote }}]
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
airkube.airflow.bundleInit: init container of the dag-processor in gitBundle mode. It clones the
bundles with the dag-processor's own image, environment (the git connection) and mounts, so a
clone git refuses fails the rollout with git's message (files/bundle_init.py) instead of leaving
a dag-processor that parses nothing; the clone it leaves on the bundle volume warms the start.
Usage: {{- include "airkube.airflow.bundleInit" (dict "context" $ "env" $env "mounts" $mounts "resources" .Values.dagProcessor.resources) | nindent 8 }}
*/}}
{{- define "airkube.airflow.bundleInit" -}}
{{- $ctx := .context -}}
{{- $paths := include "airkube.config.paths" $ctx | fromYaml -}}
- name: git-bundle-init
  image: {{ include "airkube.images.airflow" $ctx }}
  imagePullPolicy: {{ $ctx.Values.images.airflow.pullPolicy }}
  args: ["python", {{ printf "%s/bundle_init.py" $paths.configDir | quote }}]
  env:
    {{- .env | nindent 4 }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" false) | nindent 4 }}
  volumeMounts:
    {{- .mounts | nindent 4 }}
{{- end -}}
