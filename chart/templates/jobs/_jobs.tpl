{{/*
airkube.jobs.suffix: a short hash of what a Job runs (image and chart version). Job specs are
immutable, so a Job whose image changes gets a new name: helm upgrade and GitOps tools replace it
instead of failing to patch it, and an unchanged release keeps the finished Job as it is.
Usage: {{ include "airkube.jobs.suffix" . }}
*/}}
{{- define "airkube.jobs.suffix" -}}
{{- printf "%s|%s|%s" (include "airkube.images.airflow" .) .Chart.Version .Values.auth.manager | sha256sum | trunc 8 -}}
{{- end -}}

{{/*
airkube.jobs.job: a Job running one Airflow command with the components' environment. Not a Helm
hook: it is an ordinary object of the release, so `helm install --wait`, a plain install and
GitOps tools that skip hooks all run it, and nothing waits on a database the release has not
created yet (the Job itself waits for the database).
Usage: {{ include "airkube.jobs.job" (dict "context" $ "component" "migrate" "script" "..." "env" list) }}
*/}}
{{- define "airkube.jobs.job" -}}
{{- $ctx := .context -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-%s" (include "airkube.names.component" .) (include "airkube.jobs.suffix" $ctx) }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "airkube.labels.standard" . | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  backoffLimit: 6
  template:
    metadata:
      labels:
        {{- include "airkube.labels.standard" . | nindent 8 }}
        {{- include "airkube.labels.airflowClient" $ctx | nindent 8 }}
    spec:
      restartPolicy: OnFailure
      serviceAccountName: {{ include "airkube.names.serviceAccount" (dict "context" $ctx "component" "jobs" "values" (dict "serviceAccount" (dict "create" true "name" ""))) }}
      automountServiceAccountToken: false
      securityContext:
        {{- include "airkube.airflow.podSecurityContext" (dict "context" $ctx) | nindent 8 }}
      {{- with include "airkube.images.pullSecrets" $ctx }}{{ . | trim | nindent 6 }}{{- end }}
      {{- with .initContainers }}
      initContainers:
        {{- . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "airkube.images.airflow" $ctx }}
          imagePullPolicy: {{ $ctx.Values.images.airflow.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          env:
            {{- include "airkube.airflow.env" (dict "context" $ctx "secrets" true "extra" .env) | nindent 12 }}
          resources:
            {{- toYaml $ctx.Values.migrations.resources | nindent 12 }}
          securityContext:
            {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" false) | nindent 12 }}
          volumeMounts:
            {{- include "airkube.airflow.volumeMounts" (dict "context" $ctx "extra" .extraVolumeMounts) | nindent 12 }}
      volumes:
        {{- include "airkube.airflow.volumes" (dict "context" $ctx "extra" .extraVolumes) | nindent 8 }}
{{- end -}}
