{{/*
airkube.jobs.suffix: a short hash of a Job's rendered spec. A Job's pod template is immutable, so
the name has to change whenever anything in it changes (image, resources, env, volumes, pull
secrets, security context...): helm upgrade and GitOps tools then replace the Job instead of
failing to patch it, and helm removes the old one with the release's previous manifest. Hashing
the whole rendered spec, not a chosen list of values, means no new field can be forgotten; an
unchanged spec keeps its name, so an upgrade that does not touch the Job does not run it again.
Usage: {{ include "airkube.jobs.suffix" $spec }}
*/}}
{{- define "airkube.jobs.suffix" -}}
{{- . | sha256sum | trunc 8 -}}
{{- end -}}

{{/*
airkube.jobs.job: a Job running one Airflow command with the components' environment. Not a Helm
hook: it is an ordinary object of the release, so `helm install --wait`, a plain install and
GitOps tools that skip hooks all run it, and nothing waits on a database the release has not
created yet: each Job waits for what it needs itself (the migration for the database, the user
creation for the migration).
Parameters: component, args, and optionally env, initContainers (YAML text), extraVolumes,
extraVolumeMounts, podAnnotations (on the pod, e.g. a checksum of a script it runs) and
annotations (on the Job, not hashed: they can change in place).
Usage: {{ include "airkube.jobs.job" (dict "context" $ "component" "migrate" "args" (list "airflow" "db" "migrate")) }}
*/}}
{{- define "airkube.jobs.job" -}}
{{- $spec := include "airkube.jobs.spec" . -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-%s" (include "airkube.names.component" .) (include "airkube.jobs.suffix" $spec) }}
  namespace: {{ .context.Release.Namespace | quote }}
  labels:
    {{- include "airkube.labels.standard" . | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- $spec | nindent 2 }}
{{- end -}}

{{/*
airkube.jobs.spec: the spec of airkube.jobs.job (same parameters), kept apart so its text can be
hashed into the Job's name.
Usage: {{ include "airkube.jobs.spec" . }}
*/}}
{{- define "airkube.jobs.spec" -}}
{{- $ctx := .context -}}
backoffLimit: 6
template:
  metadata:
    labels:
      {{- include "airkube.labels.standard" . | nindent 6 }}
    {{- with .podAnnotations }}
    annotations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  spec:
    restartPolicy: OnFailure
    serviceAccountName: {{ include "airkube.names.serviceAccount" (dict "context" $ctx "component" "jobs" "values" (dict "serviceAccount" (dict "create" true "name" ""))) | quote }}
    automountServiceAccountToken: false
    securityContext:
      {{- include "airkube.airflow.podSecurityContext" (dict "context" $ctx) | nindent 6 }}
    {{- with include "airkube.images.pullSecrets" $ctx }}{{ . | trim | nindent 4 }}{{- end }}
    {{- with .initContainers }}
    initContainers:
      {{- . | nindent 6 }}
    {{- end }}
    containers:
      - name: {{ .component }}
        image: {{ include "airkube.images.airflow" $ctx }}
        imagePullPolicy: {{ $ctx.Values.images.airflow.pullPolicy }}
        args:
          {{- toYaml .args | nindent 10 }}
        env:
          {{- include "airkube.airflow.env" (dict "context" $ctx "secrets" true "extra" .env) | nindent 10 }}
        resources:
          {{- toYaml $ctx.Values.migrations.resources | nindent 10 }}
        securityContext:
          {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" false) | nindent 10 }}
        volumeMounts:
          {{- include "airkube.airflow.volumeMounts" (dict "context" $ctx "extra" .extraVolumeMounts) | nindent 10 }}
    volumes:
      {{- include "airkube.airflow.volumes" (dict "context" $ctx "extra" .extraVolumes) | nindent 6 }}
{{- end -}}
