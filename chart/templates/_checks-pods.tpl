{{/*
Checks of what users add to pods: resources, security contexts, labels, volumes, mounts and
containers. Task pods matter most here: their template sits in a ConfigMap, so a mistake that
passes the render would only fail when a task starts. Each failure names the key and the fix.
*/}}

{{/*
airkube.quantity: a Kubernetes quantity (1, 0.5, 250m, 1Gi, 2G, 1e3) as a plain number, so two
can be compared.
Usage: {{ include "airkube.quantity" "512Mi" | float64 }}
*/}}
{{- define "airkube.quantity" -}}
{{- $text := toString . -}}
{{- $number := regexFind "^[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?" $text -}}
{{- $units := dict "" 1.0 "m" 0.001 "k" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 "P" 1000000000000000.0 "E" 1000000000000000000.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 -}}
{{- mulf (float64 $number) (get $units (trimPrefix $number $text) | default 1.0) -}}
{{- end -}}

{{/*
airkube.checks.resources: every request at or below its limit.
Usage: {{ include "airkube.checks.resources" (dict "key" "workers.resources" "resources" $r "inherited" "") }}
*/}}
{{- define "airkube.checks.resources" -}}
{{- $requests := .resources.requests | default dict -}}
{{- $limits := .resources.limits | default dict -}}
{{- range $name, $request := $requests -}}
{{- if hasKey $limits $name -}}
{{- $limit := get $limits $name -}}
{{- if gt (include "airkube.quantity" $request | float64) (include "airkube.quantity" $limit | float64) -}}
{{- fail (printf "\n%s.requests.%s (%v) is above its limit %s.limits.%s (%v)%s: raise the limit or lower the request" $.key $name $request $.key $name $limit $.inherited) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
airkube.checks.securityContexts: no root UID where the chart sets runAsNonRoot, and no privileged
container with allowPrivilegeEscalation off (Kubernetes refuses both pods).
Usage: {{ include "airkube.checks.securityContexts" (dict "key" "workers" "pod" $pod "container" $container) }}
*/}}
{{- define "airkube.checks.securityContexts" -}}
{{- range $field, $context := dict "podSecurityContext" .pod "containerSecurityContext" .container -}}
{{- if and $context (hasKey $context "runAsUser") (eq (toString $context.runAsUser) "0") (ne (toString $context.runAsNonRoot) "false") -}}
{{- fail (printf "\n%s.%s.runAsUser is 0 (root), but Airflow pods run with runAsNonRoot: true and the kubelet would refuse to start them; use a non-root UID (the image's airflow user is 50000)" $.key $field) -}}
{{- end -}}
{{- end -}}
{{- if and .container .container.privileged (ne (toString .container.allowPrivilegeEscalation) "true") -}}
{{- fail (printf "\n%s.containerSecurityContext.privileged is true, but the chart keeps allowPrivilegeEscalation false and Kubernetes refuses the pair; drop privileged (or, knowingly, also set allowPrivilegeEscalation: true)" .key) -}}
{{- end -}}
{{- end -}}

{{/*
airkube.checks.labels: user labels must not repeat the chart's own: the YAML would hold the key
twice, so a component cannot be decoded, and task pods silently lose the release's label.
Usage: {{ include "airkube.checks.labels" (dict "context" $ "key" "scheduler.labels" "labels" $labels) }}
*/}}
{{- define "airkube.checks.labels" -}}
{{- $chart := merge (include "airkube.labels.standard" (dict "context" .context "component" "x") | fromYaml) (dict "airkube.io/pod-template" "") -}}
{{- range $label, $_ := .labels -}}
{{- if hasKey $chart $label -}}
{{- fail (printf "\n%s.%s: the chart sets this label itself; pick another key (the chart's are %s)" $.key $label (keys $chart | sortAlpha | join ", ")) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
airkube.checks.podExtras: extra volumes, mounts and containers must not clash with the chart's
(same names or mount paths), and every extra mount needs its volume.
Usage: {{ include "airkube.checks.podExtras" (dict "context" $ "key" "workers" "settings" $s "dags" true "containers" (list "base")) }}
*/}}
{{- define "airkube.checks.podExtras" -}}
{{- $ctx := .context -}}
{{- $s := .settings -}}
{{- $own := include "airkube.airflow.volumes" (dict "context" $ctx "dags" .dags "writableRoot" true) | fromYamlArray -}}
{{- $ownNames := list -}}
{{- range $own }}{{ $ownNames = append $ownNames .name }}{{ end -}}
{{- $ownMounts := include "airkube.airflow.volumeMounts" (dict "context" $ctx "dags" .dags "writableRoot" true) | fromYamlArray -}}
{{- $extraNames := list -}}
{{- range $index, $volume := $s.extraVolumes | default list -}}
{{- if has $volume.name $ownNames -}}
{{- fail (printf "\n%s.extraVolumes[%d].name: %q is a volume of the chart's own (%s); give yours another name" $.key $index $volume.name (join ", " $ownNames)) -}}
{{- end -}}
{{- $extraNames = append $extraNames $volume.name -}}
{{- end -}}
{{- range $index, $mount := $s.extraVolumeMounts | default list -}}
{{- if not (has $mount.name $extraNames) -}}
{{- fail (printf "\n%s.extraVolumeMounts[%d].name: no volume %q in %s.extraVolumes; add it there" $.key $index $mount.name $.key) -}}
{{- end -}}
{{- range $own := $ownMounts -}}
{{- if or (eq (clean $mount.mountPath) $own.mountPath) (hasPrefix (printf "%s/" $own.mountPath) (clean $mount.mountPath)) -}}
{{- if or (eq (clean $mount.mountPath) $own.mountPath) (eq $own.name "config") -}}
{{- fail (printf "\n%s.extraVolumeMounts[%d].mountPath: %s is where the chart mounts its %q volume; mount yours elsewhere" $.key $index $mount.mountPath $own.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $index, $container := concat ($s.extraContainers | default list) ($s.extraInitContainers | default list) -}}
{{- if has $container.name $.containers -}}
{{- fail (printf "\n%s: an extra container is named %q, a name the chart's own containers use (%s); rename it" $.key $container.name (join ", " $.containers)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
airkube.checks.pods: the checks above for every component and every task pod template.
Usage: {{ include "airkube.checks.pods" . }}
*/}}
{{- define "airkube.checks.pods" -}}
{{- $v := .Values -}}
{{- include "airkube.checks.labels" (dict "context" . "key" "postgresql.labels" "labels" $v.postgresql.labels) -}}
{{- include "airkube.checks.resources" (dict "key" "postgresql.resources" "resources" $v.postgresql.resources "inherited" "") -}}
{{- include "airkube.checks.resources" (dict "key" "migrations.resources" "resources" $v.migrations.resources "inherited" "") -}}
{{- range $component := list "apiServer" "scheduler" "dagProcessor" "triggerer" -}}
{{- $c := index $v $component -}}
{{- include "airkube.checks.labels" (dict "context" $ "key" (printf "%s.labels" $component) "labels" $c.labels) -}}
{{- include "airkube.checks.resources" (dict "key" (printf "%s.resources" $component) "resources" $c.resources "inherited" "") -}}
{{- $containers := list (kebabcase $component) "git-sync" "wait-for-migrations" "simple-auth-passwords" -}}
{{- include "airkube.checks.podExtras" (dict "context" $ "key" $component "settings" $c "dags" true "containers" $containers) -}}
{{- end -}}
{{- range $name := prepend (keys $v.workers.podTemplates | sortAlpha) "default" -}}
{{- $s := include "airkube.workers.settings" (dict "context" $ "name" $name) | fromYaml -}}
{{- $key := ternary "workers" (printf "workers.podTemplates.%s" $name) (eq $name "default") -}}
{{- $own := ternary $v.workers (index $v.workers.podTemplates $name) (eq $name "default") -}}
{{- include "airkube.checks.labels" (dict "context" $ "key" (printf "%s.labels" $key) "labels" $own.labels) -}}
{{- $inherited := "" -}}
{{- if ne $name "default" -}}
{{- $inherited = " (a named template keeps the workers.resources entries it does not set)" -}}
{{- end -}}
{{- include "airkube.checks.resources" (dict "key" (printf "%s.resources" $key) "resources" $s.resources "inherited" $inherited) -}}
{{- include "airkube.checks.securityContexts" (dict "key" $key "pod" $s.podSecurityContext "container" $s.containerSecurityContext) -}}
{{- include "airkube.checks.podExtras" (dict "context" $ "key" $key "settings" $s "dags" true "containers" (list "base" "git-sync")) -}}
{{- end -}}
{{- end -}}
