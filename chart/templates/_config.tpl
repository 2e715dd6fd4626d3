{{/*
airkube.config.paths: the fixed paths inside Airflow containers, as a dict. One place so the
config, the mounts and the tests agree.
Usage: {{ $paths := include "airkube.config.paths" . | fromYaml }}
*/}}
{{- define "airkube.config.paths" -}}
home: /opt/airflow
configDir: /opt/airflow/config
configFile: /opt/airflow/config/airflow.cfg
webserverConfigFile: /opt/airflow/config/webserver_config.py
podTemplatesDir: /opt/airflow/pod_templates
podTemplateFile: /opt/airflow/pod_templates/default.yaml
dagsMount: /opt/airflow/dags
logs: /opt/airflow/logs
authDir: /opt/airflow/auth
simplePasswordsFile: /opt/airflow/auth/simple_auth_manager_passwords.json
gitSyncRoot: /git
gitSyncLink: repo
gitSyncSecrets: /etc/git-secret
gitCa: /etc/git-ca
gitSyncUid: 65533
bundlesDir: /opt/airflow/dag-bundles
systemKnownHosts: /etc/ssh/ssh_known_hosts
{{- end -}}

{{/*
airkube.config.dagsFolder: where Airflow finds DAG files in the current mode.
Usage: {{ include "airkube.config.dagsFolder" . }}
*/}}
{{- define "airkube.config.dagsFolder" -}}
{{- $paths := include "airkube.config.paths" . | fromYaml -}}
{{- if eq .Values.dags.mode "gitSync" -}}
{{- $sub := trimAll "/" .Values.dags.gitSync.subPath -}}
{{- if $sub -}}
{{- printf "%s/%s/%s" $paths.dagsMount $paths.gitSyncLink $sub -}}
{{- else -}}
{{- printf "%s/%s" $paths.dagsMount $paths.gitSyncLink -}}
{{- end -}}
{{- else -}}
{{- $paths.dagsMount -}}
{{- end -}}
{{- end -}}

{{/*
airkube.config.authManagerClass: the import path of the configured auth manager.
Usage: {{ include "airkube.config.authManagerClass" . }}
*/}}
{{- define "airkube.config.authManagerClass" -}}
{{- if eq .Values.auth.manager "simple" -}}
airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
{{- else -}}
airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager
{{- end -}}
{{- end -}}

{{/*
airkube.config.defaults: the settings the chart owns, as section -> key -> value (YAML). These
are what make the KubernetesExecutor work here; users' config is merged over them, except for the
keys in airkube.config.pinned, which the checks refuse to override.
Usage: {{ include "airkube.config.defaults" . | fromYaml }}
*/}}
{{- define "airkube.config.defaults" -}}
{{- $paths := include "airkube.config.paths" . | fromYaml -}}
{{- $namespaces := include "airkube.names.workerNamespaces" . | fromJsonArray -}}
{{- $worker := include "airkube.workers.imageParts" (dict "context" . "settings" .Values.workers) | fromYaml -}}
core:
  executor: KubernetesExecutor
  dags_folder: {{ include "airkube.config.dagsFolder" . | quote }}
  load_examples: "False"
  auth_manager: {{ include "airkube.config.authManagerClass" . | quote }}
  execution_api_server_url: {{ printf "%s/execution/" (include "airkube.names.apiServerUrl" .) | quote }}
  {{- if eq .Values.auth.manager "simple" }}
  simple_auth_manager_users: {{ printf "%s:admin" .Values.auth.admin.username | quote }}
  simple_auth_manager_passwords_file: {{ $paths.simplePasswordsFile | quote }}
  {{- end }}
api:
  port: "8080"
  expose_config: "False"
  {{- /* Links the UI builds (and redirects after login) must point where users reach it. */}}
  {{- with .Values.apiServer.ingress }}
  {{- if .enabled }}
  base_url: {{ printf "%s://%s/" (ternary "https" "http" (not (empty .tlsSecret))) .host | quote }}
  {{- end }}
  {{- end }}
scheduler:
  enable_health_check: "True"
  scheduler_health_check_server_port: "8974"
{{- /* Airflow's own defaults, written out because the dag-processor's and triggerer's liveness
probe (files/heartbeat_check.py) reads them from this file rather than importing Airflow. */}}
dag_processor:
  health_check_threshold: "30"
  {{- if eq .Values.dags.mode "gitBundle" }}
  {{- $b := .Values.dags.gitBundle }}
  {{- $kwargs := dict "repo_url" $b.repo "tracking_ref" $b.ref "git_conn_id" $b.connectionId "refresh_interval" (int $b.refreshInterval) }}
  {{- with trimAll "/" $b.subPath }}
  {{- $_ := set $kwargs "subdir" . }}
  {{- end }}
  dag_bundle_config_list: {{ list (dict "name" "dags" "classpath" "airflow.providers.git.bundles.git.GitDagBundle" "kwargs" $kwargs) | toJson | quote }}
  {{- /* On an emptyDir: the root filesystem is read-only, and each pod keeps its own clones. */}}
  dag_bundle_storage_path: {{ $paths.bundlesDir | quote }}
  {{- end }}
triggerer:
  triggerer_health_check_threshold: "30"
logging:
  base_log_folder: {{ $paths.logs | quote }}
  {{- if .Values.logs.remote.enabled }}
  remote_base_log_folder: {{ .Values.logs.remote.baseFolder | quote }}
  remote_log_conn_id: {{ .Values.logs.remote.connId | quote }}
  {{- end }}
  remote_logging: {{ ternary "True" "False" .Values.logs.remote.enabled | quote }}
  {{- /* Task logs are read in the UI, where terminal colour codes are noise. */}}
  colored_console_log: "False"
metrics:
  statsd_on: "False"
kubernetes_executor:
  namespace: {{ first $namespaces | quote }}
  pod_template_file: {{ $paths.podTemplateFile | quote }}
  {{- /* DAG authors read these to derive images for pod_override, as the official chart sets them.
  The executor also puts this image on every task pod, so named templates cannot choose another. */}}
  worker_container_repository: {{ $worker.repository | quote }}
  worker_container_tag: {{ $worker.tag | quote }}
  delete_worker_pods: {{ ternary "True" "False" .Values.workers.deleteWorkerPods | quote }}
  delete_worker_pods_on_failure: {{ ternary "True" "False" .Values.workers.deleteWorkerPodsOnFailure | quote }}
  worker_pods_creation_batch_size: {{ .Values.workers.podsCreationBatchSize | quote }}
  multi_namespace_mode: {{ ternary "True" "False" .Values.workers.multiNamespace.enabled | quote }}
  {{- if .Values.workers.multiNamespace.enabled }}
  multi_namespace_mode_namespace_list: {{ join "," $namespaces | quote }}
  {{- end }}
  in_cluster: "True"
{{- if eq .Values.auth.manager "fab" }}
fab:
  config_file: {{ $paths.webserverConfigFile | quote }}
{{- end }}
{{- end -}}

{{/*
airkube.config.pinned: "section.key" names users may not set through config: they are wired from
other values or are secrets that must not land in a ConfigMap. Maps each to the fix.
Usage: {{ include "airkube.config.pinned" . | fromYaml }}
*/}}
{{- define "airkube.config.pinned" -}}
core.executor: "this chart runs the KubernetesExecutor only"
core.dags_folder: "set dags.mode (and dags.gitSync.subPath) instead"
{{- if eq .Values.dags.mode "gitBundle" }}
dag_processor.dag_bundle_config_list: "set dags.gitBundle instead"
dag_processor.dag_bundle_storage_path: "the chart keeps bundles on an emptyDir of its own"
{{- end }}
core.execution_api_server_url: "it is wired to the chart's api-server Service"
core.auth_manager: "set auth.manager instead"
core.fernet_key: "secrets must not sit in a ConfigMap; use secrets.existingSecret"
database.sql_alchemy_conn: "secrets must not sit in a ConfigMap; use externalDatabase (or externalDatabase.connectionSecret)"
database.sql_alchemy_conn_async: "it is derived from the database connection; use externalDatabase"
api.secret_key: "secrets must not sit in a ConfigMap; use secrets.existingSecret"
api_auth.jwt_secret: "secrets must not sit in a ConfigMap; use secrets.existingSecret"
kubernetes_executor.namespace: "set workers.namespace instead"
kubernetes_executor.pod_template_file: "set workers.* or workers.podTemplates instead"
kubernetes_executor.multi_namespace_mode: "set workers.multiNamespace.enabled instead"
kubernetes_executor.multi_namespace_mode_namespace_list: "set workers.multiNamespace.namespaces instead"
kubernetes_executor.delete_worker_pods: "set workers.deleteWorkerPods instead"
kubernetes_executor.delete_worker_pods_on_failure: "set workers.deleteWorkerPodsOnFailure instead"
kubernetes_executor.worker_pods_creation_batch_size: "set workers.podsCreationBatchSize instead"
kubernetes_executor.worker_container_repository: "set workers.image.repository (or images.airflow.repository) instead"
kubernetes_executor.worker_container_tag: "set workers.image.tag (or images.airflow.tag) instead"
logging.base_log_folder: "task pods and the api-server share it; it is fixed by the chart"
logging.remote_logging: "set logs.remote.enabled instead"
{{- end -}}

{{/*
airkube.config.merged: chart defaults with the user's config merged over them.
Usage: {{ include "airkube.config.merged" . | fromYaml }}
*/}}
{{- define "airkube.config.merged" -}}
{{- $defaults := include "airkube.config.defaults" . | fromYaml -}}
{{- $user := deepCopy .Values.config -}}
{{- toYaml (mergeOverwrite $defaults $user) -}}
{{- end -}}

{{/*
airkube.config.ini: airflow.cfg text from a section -> key -> value map. "%" is doubled because
Airflow's parser interpolates, so every value reaches Airflow literally; continuation lines of
multi-line values are indented as the INI format requires.
Usage: {{ include "airkube.config.ini" (include "airkube.config.merged" . | fromYaml) }}
*/}}
{{- define "airkube.config.ini" -}}
{{- range $section, $options := . }}
[{{ $section }}]
{{- range $key, $value := $options }}
{{ $key }} = {{ toString $value | replace "%" "%%" | replace "\n" "\n    " }}
{{- end }}
{{ end -}}
{{- end -}}

{{/*
airkube.config.gitSettings: the values block of the current git DAG mode (dags.gitSync or
dags.gitBundle) as YAML; empty in the other modes.
Usage: {{ $git := include "airkube.config.gitSettings" . | fromYaml }}
*/}}
{{- define "airkube.config.gitSettings" -}}
{{- if eq .Values.dags.mode "gitSync" -}}
{{- toYaml .Values.dags.gitSync -}}
{{- else if eq .Values.dags.mode "gitBundle" -}}
{{- toYaml .Values.dags.gitBundle -}}
{{- end -}}
{{- end -}}

{{/*
airkube.config.knownHosts: the ssh known_hosts lines of the current git DAG mode, if any.
Usage: {{ include "airkube.config.knownHosts" . }}
*/}}
{{- define "airkube.config.knownHosts" -}}
{{- (include "airkube.config.gitSettings" . | fromYaml).knownHosts | default "" -}}
{{- end -}}
