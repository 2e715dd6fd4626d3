{{/*
airkube.checks.envNames: fails when a user env list redefines a variable the chart sets.
Usage: {{ include "airkube.checks.envNames" (dict "context" $ "key" "scheduler.env" "env" .Values.scheduler.env) }}
*/}}
{{- define "airkube.checks.envNames" -}}
{{- $reserved := include "airkube.airflow.reservedEnv" .context | fromJsonArray -}}
{{- range $index, $var := .env -}}
{{- if has $var.name $reserved -}}
{{- fail (printf "\n%s[%d] sets %s, which the chart sets itself; change it through the chart's values (config, dags, workers, externalDatabase, secrets) instead of env" $.key $index $var.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
airkube.checks.all: cross-field checks the schema cannot express. Each failure names the keys
involved and the fix.
Usage: {{ include "airkube.checks.all" . }}
*/}}
{{- define "airkube.checks.all" -}}
{{- $v := .Values -}}

{{- /* airflow.cfg: options Airflow knows (files/airflow-options.json, made from Airflow itself);
sections it does not list may belong to providers of the user's image and pass. */ -}}
{{- $known := .Files.Get "files/airflow-options.json" | fromJson -}}
{{- $pinned := include "airkube.config.pinned" . | fromYaml -}}
{{- $name := "^[A-Za-z0-9_.-]+$" -}}
{{- range $section, $options := $v.config -}}
{{- if not (regexMatch $name $section) -}}
{{- fail (printf "\nconfig: the section name %q would not stay one [section] line of airflow.cfg; use letters, digits, '_', '.' and '-' only" $section) -}}
{{- end -}}
{{- range $key, $value := $options -}}
{{- if not (regexMatch $name $key) -}}
{{- fail (printf "\nconfig.%s: the option name %q would not stay one line of airflow.cfg; use letters, digits, '_', '.' and '-' only" $section $key) -}}
{{- end -}}
{{- if and (hasPrefix "sql_alchemy_conn" $key) (hasPrefix "sqlite" (toString $value)) -}}
{{- fail (printf "\nconfig.%s.%s: SQLite cannot back the KubernetesExecutor (task pods run on other machines and the scheduler needs row locks); keep postgresql.enabled=true or set externalDatabase.host" $section $key) -}}
{{- end -}}
{{- $option := printf "%s.%s" $section $key -}}
{{- $current := get $known.deprecated $option -}}
{{- if and $current (hasKey $pinned $current) -}}
{{- fail (printf "\nconfig.%s is Airflow's old name of %s, which is managed by the chart: %s" $option $current (index $pinned $current)) -}}
{{- end -}}
{{- if hasKey $pinned $option -}}
{{- fail (printf "\nconfig.%s is managed by the chart: %s" $option (index $pinned $option)) -}}
{{- end -}}
{{- if and (hasKey $known.sections $section) (not (has $key (get $known.sections $section))) -}}
{{- fail (printf "\nconfig.%s: Airflow %s has no option %q in [%s]; check the spelling in Airflow's configuration reference" $option $known.airflow $key $section) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.postgresql.enabled (or $v.externalDatabase.host $v.externalDatabase.connectionSecret) -}}
{{- fail "\nexternalDatabase is set while postgresql.enabled=true, so the embedded database would be used and yours ignored: set postgresql.enabled=false to use externalDatabase, or clear externalDatabase.host and externalDatabase.connectionSecret" -}}
{{- end -}}
{{- if and (not $v.postgresql.enabled) (not $v.externalDatabase.connectionSecret) -}}
{{- if not $v.externalDatabase.host -}}
{{- fail "\nexternalDatabase.host is empty while postgresql.enabled=false: set externalDatabase.host (and externalDatabase.passwordSecret.name), or externalDatabase.connectionSecret, or enable the embedded postgresql" -}}
{{- end -}}
{{- if not $v.externalDatabase.passwordSecret.name -}}
{{- fail "\nexternalDatabase.passwordSecret.name is empty: name the Secret holding the database password (key externalDatabase.passwordSecret.key)" -}}
{{- end -}}
{{- end -}}

{{- /* DAG modes */ -}}
{{- if eq $v.dags.mode "gitSync" -}}
{{- $g := $v.dags.gitSync -}}
{{- if not $g.repo -}}
{{- fail "\ndags.gitSync.repo is empty while dags.mode=gitSync: set it to the repository URL holding your DAGs" -}}
{{- end -}}
{{- if and $g.credentialsSecret $g.sshKeySecret -}}
{{- fail "\ndags.gitSync.credentialsSecret and dags.gitSync.sshKeySecret are both set: use https credentials or an ssh key, not both" -}}
{{- end -}}
{{- $ssh := or (hasPrefix "ssh://" $g.repo) (regexMatch "^[A-Za-z0-9_.-]+@[^:/]+:" $g.repo) -}}
{{- if and $ssh $g.credentialsSecret -}}
{{- fail (printf "\ndags.gitSync.repo %q is an ssh URL, but dags.gitSync.credentialsSecret holds https credentials: use an https:// URL, or dags.gitSync.sshKeySecret" $g.repo) -}}
{{- end -}}
{{- if and (not $ssh) $g.sshKeySecret -}}
{{- fail (printf "\ndags.gitSync.repo %q is not an ssh URL, but dags.gitSync.sshKeySecret is set: use the ssh form (git@host:org/repo.git or ssh://...), or dags.gitSync.credentialsSecret for https" $g.repo) -}}
{{- end -}}
{{- if regexMatch "^(0+(\\.0+)?(ms|s|m|h))+$" (toString $g.period) -}}
{{- fail (printf "\ndags.gitSync.period %q would make git-sync pull without pause; use at least 1s (for example 60s)" $g.period) -}}
{{- end -}}
{{- if and $g.sshKeySecret (not $g.knownHosts) -}}
{{- fail "\ndags.gitSync.knownHosts is empty while dags.gitSync.sshKeySecret is set: add the git host's known_hosts line(s) (ssh-keyscan HOST) so its identity is verified" -}}
{{- end -}}
{{- end -}}
{{- if eq $v.dags.mode "gitBundle" -}}
{{- $b := $v.dags.gitBundle -}}
{{- if not $b.repo -}}
{{- fail "\ndags.gitBundle.repo is empty while dags.mode=gitBundle: set it to the repository URL holding your DAGs" -}}
{{- end -}}
{{- $ssh := or (hasPrefix "ssh://" $b.repo) (regexMatch "^[A-Za-z0-9_.-]+@[^:/]+:" $b.repo) -}}
{{- if and $ssh (not $b.knownHosts) -}}
{{- fail (printf "\ndags.gitBundle.repo %q is an ssh URL but dags.gitBundle.knownHosts is empty: add the git host's known_hosts line(s) (ssh-keyscan HOST) so its identity is verified rather than trusted on first use" $b.repo) -}}
{{- end -}}
{{- end -}}
{{- if and (eq $v.dags.mode "volume") (not $v.dags.volume.existingClaim) (not $v.dags.volume.size) -}}
{{- fail "\ndags.volume.size is empty while dags.mode=volume: set dags.volume.size (for example 1Gi) or dags.volume.existingClaim" -}}
{{- end -}}

{{- /* Where task pods run */ -}}
{{- if and $v.workers.multiNamespace.enabled (not $v.workers.multiNamespace.namespaces) -}}
{{- fail "\nworkers.multiNamespace.namespaces is empty while workers.multiNamespace.enabled=true: list the namespaces task pods may run in" -}}
{{- end -}}
{{- if and $v.workers.multiNamespace.enabled $v.workers.namespace -}}
{{- fail (printf "\nworkers.namespace=%s is ignored while workers.multiNamespace.enabled=true: list it in workers.multiNamespace.namespaces instead and clear workers.namespace" $v.workers.namespace) -}}
{{- end -}}
{{- $namespaces := include "airkube.names.workerNamespaces" . | fromJsonArray -}}
{{- $foreign := without $namespaces .Release.Namespace -}}
{{- if $foreign -}}
{{- if and (eq $v.dags.mode "volume") (not $v.dags.volume.existingClaim) -}}
{{- fail (printf "\ndags.mode=volume with task pods in namespace(s) %s: a PersistentVolumeClaim cannot be shared across namespaces; create a claim with the same name in each and set dags.volume.existingClaim, or use dags.mode=gitSync or image" (join ", " $foreign)) -}}
{{- end -}}
{{- if and $v.logs.persistence.enabled (not $v.logs.persistence.existingClaim) -}}
{{- fail (printf "\nlogs.persistence.enabled with task pods in namespace(s) %s: a PersistentVolumeClaim cannot be shared across namespaces; set logs.persistence.existingClaim to a claim present in each, or use logs.remote" (join ", " $foreign)) -}}
{{- end -}}
{{- end -}}

{{- if hasKey $v.workers.podTemplates "default" -}}
{{- fail "\nworkers.podTemplates.default: \"default\" is the chart's own template (built from the workers block); give the named template another name" -}}
{{- end -}}
{{- $workerImage := include "airkube.workers.image" (dict "context" . "settings" $v.workers) -}}
{{- range $name, $template := $v.workers.podTemplates -}}
{{- $own := include "airkube.workers.image" (dict "context" $ "settings" (include "airkube.workers.settings" (dict "context" $ "name" $name) | fromYaml)) -}}
{{- if ne $own $workerImage -}}
{{- fail (printf "\nworkers.podTemplates.%s.image: the KubernetesExecutor starts every task pod with [kubernetes_executor] worker_container_repository:tag (%s), so a named template cannot run %s; set workers.image for all tasks, or give the tasks that need it a pod_override whose \"base\" container names the image" $name $workerImage $own) -}}
{{- end -}}
{{- end -}}

{{- /* Logs */ -}}
{{- if and $v.logs.remote.enabled (not $v.logs.remote.baseFolder) -}}
{{- fail "\nlogs.remote.baseFolder is empty while logs.remote.enabled=true: set it, for example s3://bucket/airflow/logs" -}}
{{- end -}}
{{- /* A scheme no remote task log handler serves crashes every component at start. */ -}}
{{- if and $v.logs.remote.enabled (not (include "airkube.logs.remoteProvider" $)) -}}
{{- $remoteSchemes := keys (include "airkube.logs.remoteProviders" $ | fromYaml) | sortAlpha -}}
{{- fail (printf "\nlogs.remote.baseFolder %q has a scheme Airflow has no remote log handler for; use one of %s" $v.logs.remote.baseFolder (join ", " $remoteSchemes)) -}}
{{- end -}}
{{- $remote := $v.logs.remote -}}
{{- if and $remote.enabled $remote.connectionSecret.name (not (regexMatch "^[A-Za-z0-9_]+$" $remote.connId)) -}}
{{- fail (printf "\nlogs.remote.connId %q with logs.remote.connectionSecret: the components read the connection from AIRFLOW_CONN_<connId>, so the id must be letters, digits and underscores (e.g. remote_logs)" $remote.connId) -}}
{{- end -}}

{{- /* Authentication */ -}}
{{- if and (eq $v.auth.manager "simple") (not $v.auth.admin.create) (not $v.auth.admin.existingSecret) -}}
{{- fail "\nauth.manager=simple with auth.admin.create=false and no auth.admin.existingSecret: the api-server needs the admin's password; keep auth.admin.create=true or name a Secret in auth.admin.existingSecret" -}}
{{- end -}}

{{- include "airkube.checks.pods" . -}}

{{- /* User env must not shadow what the chart wires */ -}}
{{- include "airkube.checks.envNames" (dict "context" . "key" "workers.env" "env" $v.workers.env) -}}
{{- range $name, $template := $v.workers.podTemplates -}}
{{- include "airkube.checks.envNames" (dict "context" $ "key" (printf "workers.podTemplates.%s.env" $name) "env" ($template.env | default list)) -}}
{{- end -}}
{{- range $component := list "apiServer" "scheduler" "dagProcessor" "triggerer" -}}
{{- include "airkube.checks.envNames" (dict "context" $ "key" (printf "%s.env" $component) "env" (index $v $component).env) -}}
{{- end -}}
{{- end -}}
