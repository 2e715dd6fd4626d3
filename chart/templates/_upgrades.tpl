{{/*
airkube.upgrades.bytes: a Kubernetes quantity ("8Gi", "500M", "1.5Ti") in bytes, as a float, so
sizes written differently ("8Gi" and "8192Mi") compare equal. The API server stores quantities in
canonical form, so a live object rarely spells a size the way the values did.
Usage: {{ include "airkube.upgrades.bytes" "8Gi" | float64 }}
*/}}
{{- define "airkube.upgrades.bytes" -}}
{{- $text := toString . | trim -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $text -}}
{{- $suffix := trimPrefix $number $text -}}
{{- $factors := dict "" 1.0 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 -}}
{{- if or (not $number) (not (hasKey $factors $suffix)) -}}
{{- fail (printf "\n%q is not a storage size: write it as a Kubernetes quantity, for example 8Gi or 500Mi" $text) -}}
{{- end -}}
{{- mulf (float64 $number) (index $factors $suffix) -}}
{{- end -}}

{{/*
airkube.upgrades.claim: refuses a change to an existing PersistentVolumeClaim the API server would
reject (a shrink, another StorageClass, a growth the StorageClass cannot do), before anything of
the upgrade is applied. On a first install, and under `helm template`, lookup finds nothing and
this renders nothing.
Usage: {{ include "airkube.upgrades.claim" (dict "context" $ "name" "airflow-logs" "key" "logs.persistence" "size" "5Gi" "storageClass" "") }}
*/}}
{{- define "airkube.upgrades.claim" -}}
{{- $live := lookup "v1" "PersistentVolumeClaim" .context.Release.Namespace .name -}}
{{- if $live -}}
{{- $liveClass := $live.spec.storageClassName | default "" -}}
{{- if and .storageClass (ne .storageClass $liveClass) -}}
{{- fail (printf "\n%s.storageClass: the claim %s exists with StorageClass %q and a claim's class cannot change; set %s.storageClass back to %q, or move the data to a new claim and name it in %s.existingClaim" .key .name $liveClass .key $liveClass .key) -}}
{{- end -}}
{{- $liveSize := $live.spec.resources.requests.storage -}}
{{- $want := include "airkube.upgrades.bytes" .size | float64 -}}
{{- $have := include "airkube.upgrades.bytes" $liveSize | float64 -}}
{{- if lt $want $have -}}
{{- fail (printf "\n%s.size: the claim %s holds %s and a claim cannot shrink; set %s.size to %s or more" .key .name $liveSize .key $liveSize) -}}
{{- end -}}
{{- if gt $want $have -}}
{{- $class := lookup "storage.k8s.io/v1" "StorageClass" "" $liveClass -}}
{{- if not (and $class $class.allowVolumeExpansion) -}}
{{- fail (printf "\n%s.size: the claim %s holds %s and its StorageClass %q does not allow volume expansion; keep %s.size at %s, or move the data to a larger claim and name it in %s.existingClaim" .key .name $liveSize $liveClass .key $liveSize .key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
airkube.upgrades.checks: the upgrade-time checks. Selectors, a StatefulSet's volumeClaimTemplates
and a claim's class are immutable, so changing what they are made from would fail half-way
through `helm upgrade` with an API error; these checks refuse it up front, naming the value and
the fix.
Usage: {{ include "airkube.upgrades.checks" . }}
*/}}
{{- define "airkube.upgrades.checks" -}}
{{- $v := .Values -}}
{{- /* Selectors are immutable and carry the chart name (nameOverride), which, unlike
fullnameOverride, leaves object names as they are: the same Deployment would get a new selector. */ -}}
{{- $scheduler := lookup "apps/v1" "Deployment" .Release.Namespace (include "airkube.names.component" (dict "context" . "component" "scheduler")) -}}
{{- if $scheduler -}}
{{- $liveName := index $scheduler.spec.selector.matchLabels "app.kubernetes.io/name" | default "" -}}
{{- if and $liveName (ne $liveName (include "airkube.names.name" .)) -}}
{{- fail (printf "\nnameOverride: the release's workloads select their pods by app.kubernetes.io/name=%s and a selector cannot change; set nameOverride back to %q (an empty value if that is the chart name), or uninstall and install again (Secrets and the database volume are kept)" $liveName $liveName) -}}
{{- end -}}
{{- end -}}
{{- if $v.postgresql.enabled -}}
{{- $name := include "airkube.names.component" (dict "context" . "component" "postgresql") -}}
{{- $live := lookup "apps/v1" "StatefulSet" .Release.Namespace $name -}}
{{- $templates := list -}}
{{- if $live -}}{{- $templates = $live.spec.volumeClaimTemplates -}}{{- end -}}
{{- range $templates -}}
{{- if eq .metadata.name "data" -}}
{{- $liveSize := .spec.resources.requests.storage -}}
{{- $want := include "airkube.upgrades.bytes" $v.postgresql.persistence.size | float64 -}}
{{- if ne $want (include "airkube.upgrades.bytes" $liveSize | float64) -}}
{{- fail (printf "\npostgresql.persistence.size: the database volume was created with %s and a StatefulSet's volume template cannot change; keep postgresql.persistence.size at %s (to grow the volume, resize the claim data-%s-0 itself, if its StorageClass allows expansion)" $liveSize $liveSize $name) -}}
{{- end -}}
{{- $liveClass := .spec.storageClassName | default "" -}}
{{- if ne ($v.postgresql.persistence.storageClass | default "") $liveClass -}}
{{- fail (printf "\npostgresql.persistence.storageClass: the database volume was created with StorageClass %q and a StatefulSet's volume template cannot change; set postgresql.persistence.storageClass back to %q" $liveClass $liveClass) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (eq $v.dags.mode "volume") (not $v.dags.volume.existingClaim) -}}
{{- include "airkube.upgrades.claim" (dict "context" . "name" (include "airkube.airflow.dagsClaim" .) "key" "dags.volume" "size" $v.dags.volume.size "storageClass" $v.dags.volume.storageClass) -}}
{{- end -}}
{{- if and $v.logs.persistence.enabled (not $v.logs.persistence.existingClaim) -}}
{{- include "airkube.upgrades.claim" (dict "context" . "name" (include "airkube.airflow.logsClaim" .) "key" "logs.persistence" "size" $v.logs.persistence.size "storageClass" $v.logs.persistence.storageClass) -}}
{{- end -}}
{{- end -}}
