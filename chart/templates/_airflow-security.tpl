{{- /* Security contexts of Airflow pods and containers. */ -}}

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
airkube.airflow.extraContainers: the user's extra (init) containers, each with the hardened
container securityContext under the fields it sets itself, so a plain sidecar keeps to the
"restricted" Pod Security profile like the chart's own containers.
Usage: {{- include "airkube.airflow.extraContainers" $containers | nindent 8 }}
*/}}
{{- define "airkube.airflow.extraContainers" -}}
{{- $hardened := list -}}
{{- range . -}}
{{- $context := include "airkube.airflow.containerSecurityContext" (dict "writableRoot" true "override" .securityContext) | fromYaml -}}
{{- $hardened = append $hardened (merge (dict "securityContext" $context) (omit . "securityContext")) -}}
{{- end -}}
{{- toYaml $hardened -}}
{{- end -}}
