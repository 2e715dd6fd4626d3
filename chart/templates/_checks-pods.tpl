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
airkube.checks.restricted: with podSecurityLevel "restricted" (the default), what the user sets
must keep pods inside that Pod Security profile: a namespace enforcing it refuses the pod, and
for task pods that only shows when a task starts. .pod is the merged pod securityContext,
.containers maps each container's values path to its merged securityContext and ports.
Usage: {{ include "airkube.checks.restricted" (dict "context" $ "key" "workers" "pod" $pod "containers" $containers "volumes" $volumes) }}
*/}}
{{- define "airkube.checks.restricted" -}}
{{- if eq .context.Values.podSecurityLevel "restricted" -}}
{{- $fix := ". Change it, or set podSecurityLevel to \"baseline\" or \"privileged\" and label the namespace to match" -}}
{{- with .pod -}}
{{- if eq (toString .runAsNonRoot) "false" -}}
{{- fail (printf "\n%s.runAsNonRoot is false: the restricted Pod Security profile requires non-root pods%s" $.podKey $fix) -}}
{{- end -}}
{{- if eq (toString (dig "seccompProfile" "type" "" .)) "Unconfined" -}}
{{- fail (printf "\n%s.seccompProfile.type is Unconfined: the restricted profile requires RuntimeDefault or Localhost%s" $.podKey $fix) -}}
{{- end -}}
{{- end -}}
{{- range $path, $container := .containers -}}
{{- $sc := $container.securityContext | default dict -}}
{{- $where := $container.contextKey -}}
{{- if $sc.privileged -}}
{{- fail (printf "\n%s.privileged is true: the restricted profile refuses privileged containers%s" $where $fix) -}}
{{- end -}}
{{- if ne (toString $sc.allowPrivilegeEscalation) "false" -}}
{{- fail (printf "\n%s.allowPrivilegeEscalation must stay false under the restricted profile%s" $where $fix) -}}
{{- end -}}
{{- range $sc.capabilities.add | default list -}}
{{- if ne (toString .) "NET_BIND_SERVICE" -}}
{{- fail (printf "\n%s.capabilities.add holds %s: the restricted profile allows adding only NET_BIND_SERVICE%s" $where . $fix) -}}
{{- end -}}
{{- end -}}
{{- if not (has "ALL" ($sc.capabilities.drop | default list)) -}}
{{- fail (printf "\n%s.capabilities.drop must include ALL under the restricted profile%s" $where $fix) -}}
{{- end -}}
{{- if or (eq (toString $sc.runAsNonRoot) "false") (eq (toString $sc.runAsUser) "0") -}}
{{- fail (printf "\n%s runs as root (runAsNonRoot false or runAsUser 0): the restricted profile refuses it%s" $where $fix) -}}
{{- end -}}
{{- range $field := list "seccompProfile" "appArmorProfile" -}}
{{- if eq (toString (dig $field "type" "" $sc)) "Unconfined" -}}
{{- fail (printf "\n%s.%s.type is Unconfined: the restricted profile refuses it%s" $where $field $fix) -}}
{{- end -}}
{{- end -}}
{{- if eq (toString $sc.procMount) "Unmasked" -}}
{{- fail (printf "\n%s.procMount is Unmasked: the restricted profile refuses it%s" $where $fix) -}}
{{- end -}}
{{- range $container.ports | default list -}}
{{- if .hostPort -}}
{{- fail (printf "\n%s.ports: hostPort %v is refused by the restricted profile; use a Service%s" $path .hostPort $fix) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $allowed := list "configMap" "csi" "downwardAPI" "emptyDir" "ephemeral" "persistentVolumeClaim" "projected" "secret" -}}
{{- range $index, $volume := .volumes | default list -}}
{{- range $type, $_ := omit $volume "name" -}}
{{- if not (has $type $allowed) -}}
{{- fail (printf "\n%s.extraVolumes[%d] (%s) is a %s volume: the restricted profile allows only %s%s" $.key $index $volume.name $type (join ", " $allowed) $fix) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
airkube.checks.extraContainerContexts: .containers (extra containers as the chart renders them)
keyed by their values path, for airkube.checks.restricted.
Usage: {{ include "airkube.checks.extraContainerContexts" (dict "key" "workers.extraContainers" "containers" $list) | fromYaml }}
*/}}
{{- define "airkube.checks.extraContainerContexts" -}}
{{- $found := dict -}}
{{- range $index, $container := include "airkube.airflow.extraContainers" (.containers | default list) | fromYamlArray -}}
{{- $path := printf "%s[%d]" $.key $index -}}
{{- $_ := set $found $path (merge (dict "contextKey" (printf "%s.securityContext" $path)) $container) -}}
{{- end -}}
{{- toYaml $found -}}
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
{{- $extra := include "airkube.checks.extraContainerContexts" (dict "key" (printf "%s.extraContainers" $component) "containers" $c.extraContainers) | fromYaml -}}
{{- include "airkube.checks.restricted" (dict "context" $ "key" $component "containers" $extra "volumes" $c.extraVolumes) -}}
{{- end -}}
{{- $pod := include "airkube.airflow.podSecurityContext" (dict "context" $) | fromYaml -}}
{{- include "airkube.checks.restricted" (dict "context" $ "key" "securityContext" "podKey" "securityContext" "pod" $pod) -}}
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
{{- $base := include "airkube.airflow.containerSecurityContext" (dict "writableRoot" true "override" $s.containerSecurityContext) | fromYaml -}}
{{- $containers := dict $key (dict "securityContext" $base "contextKey" (printf "%s.containerSecurityContext" $key)) -}}
{{- $containers = merge $containers (include "airkube.checks.extraContainerContexts" (dict "key" (printf "%s.extraContainers" $key) "containers" $s.extraContainers) | fromYaml) (include "airkube.checks.extraContainerContexts" (dict "key" (printf "%s.extraInitContainers" $key) "containers" $s.extraInitContainers) | fromYaml) -}}
{{- $pod := include "airkube.airflow.podSecurityContext" (dict "context" $ "override" ($s.podSecurityContext | default dict)) | fromYaml -}}
{{- include "airkube.checks.restricted" (dict "context" $ "key" $key "podKey" (printf "%s.podSecurityContext" $key) "pod" $pod "containers" $containers "volumes" $s.extraVolumes) -}}
{{- end -}}
{{- end -}}
