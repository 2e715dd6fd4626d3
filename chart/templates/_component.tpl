{{/*
airkube.component.deployment: the Deployment of one long-running Airflow component. Every
component shares this shape; what differs is passed in:
  component     name, e.g. "scheduler"
  values        its values block (replicas, resources, scheduling, env, extra volumes...)
  args          the container args, e.g. (list "airflow" "scheduler")
  dags          true when it reads DAG files (mounts them; git-sync sidecar in gitSync mode)
  dagsWritable  true when DAG files may be copied in through it (volume mode)
  podTemplates  true to mount the worker pod templates (the scheduler's executor reads them)
  simpleAuth    true to prepare the simple auth manager's password file (the api-server)
  ports         list of containerPorts
  probes        YAML text with livenessProbe/readinessProbe/startupProbe
Usage: {{ include "airkube.component.deployment" (dict "context" $ "component" "scheduler" "values" .Values.scheduler "args" (list "airflow" "scheduler")) }}
*/}}
{{- define "airkube.component.deployment" -}}
{{- $ctx := .context -}}
{{- $v := .values -}}
{{- $paths := include "airkube.config.paths" $ctx | fromYaml -}}
{{- $gitSync := and .dags (eq $ctx.Values.dags.mode "gitSync") -}}
{{- $simpleAuth := and .simpleAuth (eq $ctx.Values.auth.manager "simple") -}}
{{- $bundleInit := and (eq .component "dag-processor") (eq $ctx.Values.dags.mode "gitBundle") -}}
{{- $env := include "airkube.airflow.env" (dict "context" $ctx "secrets" true "dags" .dags "component" .component "extra" $v.env) -}}
{{- $mounts := include "airkube.airflow.volumeMounts" (dict "context" $ctx "dags" .dags "dagsWritable" .dagsWritable "podTemplates" .podTemplates "simpleAuth" $simpleAuth "extra" $v.extraVolumeMounts) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "airkube.names.component" . }}
  namespace: {{ $ctx.Release.Namespace | quote }}
  labels:
    {{- include "airkube.labels.standard" . | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "airkube.labels.selector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "airkube.labels.standard" . | nindent 8 }}
        {{- with $v.labels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- include "airkube.airflow.checksums" $ctx | nindent 8 }}
        {{- if .podTemplates }}
        {{- /* The executor reads a template file when it starts a task; a mounted ConfigMap
        catches up only after a minute or so, and a template a task names that is not there yet
        becomes an empty pod. Restarting the scheduler makes a template change complete when the
        upgrade is. */}}
        checksum/pod-templates: {{ include (print $ctx.Template.BasePath "/workers/pod-templates-configmap.yaml") $ctx | sha256sum | trunc 16 }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "airkube.names.serviceAccount" . | quote }}
      automountServiceAccountToken: {{ .needsApi | default false }}
      securityContext:
        {{- include "airkube.airflow.podSecurityContext" (dict "context" $ctx) | nindent 8 }}
      {{- with include "airkube.images.pullSecrets" $ctx }}{{ . | trim | nindent 6 }}{{- end }}
      {{- $scheduling := $v }}
      {{- if and (gt (int ($v.replicas | default 1)) 1) (not $v.topologySpreadConstraints) }}
      {{- /* Replicas on one node fail together: spread them over nodes where there are several,
      without refusing a single-node cluster. */}}
      {{- $spread := dict "maxSkew" 1 "topologyKey" "kubernetes.io/hostname" "whenUnsatisfiable" "ScheduleAnyway" "labelSelector" (dict "matchLabels" (include "airkube.labels.selector" . | fromYaml)) }}
      {{- $scheduling = merge (dict "topologySpreadConstraints" (list $spread)) $v }}
      {{- end }}
      {{- with include "airkube.airflow.scheduling" $scheduling }}{{ . | trim | nindent 6 }}{{- end }}
      terminationGracePeriodSeconds: 60
      initContainers:
        {{- include "airkube.airflow.waitForMigrations" (dict "context" $ctx) | nindent 8 }}
        {{- if $gitSync }}
        {{- include "airkube.airflow.gitSync" (dict "context" $ctx "oneTime" true) | nindent 8 }}
        {{- end }}
        {{- if $bundleInit }}
        {{- include "airkube.airflow.bundleInit" (dict "context" $ctx "env" $env "mounts" $mounts "resources" $v.resources) | nindent 8 }}
        {{- end }}
        {{- if $simpleAuth }}
        - name: simple-auth-passwords
          image: {{ include "airkube.images.airflow" $ctx }}
          imagePullPolicy: {{ $ctx.Values.images.airflow.pullPolicy }}
          {{- /* The password comes from the environment, never from the command line. */}}
          args:
            - python
            - -c
            - |
              import json, os
              with open(os.environ["PASSWORDS_FILE"], "w") as handle:
                  json.dump({os.environ["ADMIN_USERNAME"]: os.environ["AIRKUBE_ADMIN_PASSWORD"]}, handle)
          env:
            - name: PASSWORDS_FILE
              value: {{ $paths.simplePasswordsFile | quote }}
            - name: ADMIN_USERNAME
              value: {{ $ctx.Values.auth.admin.username | quote }}
            - name: AIRKUBE_ADMIN_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ include "airkube.secrets.adminName" $ctx | quote }}
                  key: password
          resources:
            {{- toYaml $ctx.Values.migrations.resources | nindent 12 }}
          securityContext:
            {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" false) | nindent 12 }}
          volumeMounts:
            - name: auth
              mountPath: {{ $paths.authDir }}
        {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "airkube.images.airflow" $ctx }}
          imagePullPolicy: {{ $ctx.Values.images.airflow.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          env:
            {{- $env | nindent 12 }}
          {{- with .ports }}
          ports:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .probes }}
          {{- . | nindent 10 }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "airkube.airflow.containerSecurityContext" (dict "writableRoot" false) | nindent 12 }}
          volumeMounts:
            {{- $mounts | nindent 12 }}
        {{- if $gitSync }}
        {{- include "airkube.airflow.gitSync" (dict "context" $ctx "oneTime" false) | nindent 8 }}
        {{- end }}
        {{- with $v.extraContainers }}
        {{- include "airkube.airflow.extraContainers" . | nindent 8 }}
        {{- end }}
      volumes:
        {{- include "airkube.airflow.volumes" (dict "context" $ctx "dags" .dags "podTemplates" .podTemplates "simpleAuth" $simpleAuth "extra" $v.extraVolumes) | nindent 8 }}
{{- end -}}

{{/*
airkube.component.serviceAccount: a component's ServiceAccount when the chart creates it.
Usage: {{ include "airkube.component.serviceAccount" (dict "context" $ "component" "scheduler" "values" .Values.scheduler) }}
*/}}
{{- define "airkube.component.serviceAccount" -}}
{{- if .values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "airkube.names.serviceAccount" . | quote }}
  namespace: {{ .context.Release.Namespace | quote }}
  labels:
    {{- include "airkube.labels.standard" . | nindent 4 }}
  {{- with .values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end -}}
{{- end -}}

{{/*
airkube.component.pdb: a component's PodDisruptionBudget: when values.pdb.enabled is true, or is
left unset (null) and the component runs more than one replica.
Usage: {{ include "airkube.component.pdb" (dict "context" $ "component" "scheduler" "values" .Values.scheduler) }}
*/}}
{{- define "airkube.component.pdb" -}}
{{- $enabled := .values.pdb.enabled -}}
{{- if not (kindIs "bool" $enabled) -}}
{{- $enabled = gt (int (.values.replicas | default 1)) 1 -}}
{{- end -}}
{{- if $enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "airkube.names.component" . }}
  namespace: {{ .context.Release.Namespace | quote }}
  labels:
    {{- include "airkube.labels.standard" . | nindent 4 }}
spec:
  maxUnavailable: {{ .values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "airkube.labels.selector" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{/*
airkube.component.heartbeatProbes: startup and liveness probes of a component whose health is its
job heartbeat (dag-processor, triggerer). files/heartbeat_check.py, shipped in the config
ConfigMap, gives `airflow jobs check --local`'s verdict for about a fiftieth of its CPU, so the
check can run often. The startup probe allows five minutes for the first heartbeat; a hung
process is not expected to shut down cleanly, so a failed liveness check stops it after 5 s.
Usage: {{ include "airkube.component.heartbeatProbes" (dict "context" $ "jobType" "TriggererJob" "probe" .Values.triggerer.livenessProbe) }}
*/}}
{{- define "airkube.component.heartbeatProbes" -}}
{{- $paths := include "airkube.config.paths" .context | fromYaml -}}
{{- $check := dict "exec" (dict "command" (list "python" (printf "%s/heartbeat_check.py" $paths.configDir) .jobType)) -}}
{{- $startup := merge (dict "periodSeconds" 5 "timeoutSeconds" .probe.timeoutSeconds "failureThreshold" 60) $check -}}
{{- $liveness := merge (dict "terminationGracePeriodSeconds" 5) (deepCopy .probe) $check -}}
{{- toYaml (dict "startupProbe" $startup "livenessProbe" $liveness) -}}
{{- end -}}
