{{- /* Building blocks of networkpolicies.yaml. Peers are written with the release's selector
labels, which user labels cannot override (the chart refuses colliding labels). */ -}}

{{/*
airkube.netpol.pods: a NetworkPolicyPeer (JSON) selecting this release's pods of .components;
with .namespaces, in those namespaces, else in the policy's own.
Usage: {{ include "airkube.netpol.pods" (dict "context" $ "components" (list "scheduler")) | fromJson }}
*/}}
{{- define "airkube.netpol.pods" -}}
{{- $ctx := .context -}}
{{- $labels := dict "app.kubernetes.io/name" (include "airkube.names.name" $ctx) "app.kubernetes.io/instance" $ctx.Release.Name -}}
{{- $component := dict "key" "app.kubernetes.io/component" "operator" "In" "values" .components -}}
{{- $peer := dict "podSelector" (dict "matchLabels" $labels "matchExpressions" (list $component)) -}}
{{- with .namespaces -}}
{{- $_ := set $peer "namespaceSelector" (dict "matchExpressions" (list (dict "key" "kubernetes.io/metadata.name" "operator" "In" "values" .))) -}}
{{- end -}}
{{- $peer | toJson -}}
{{- end -}}

{{/*
airkube.netpol.rule: one ingress or egress rule (JSON): .peers under .direction ("from" or "to"),
left out when empty (any address), and .ports (TCP unless they say otherwise).
Usage: {{ include "airkube.netpol.rule" (dict "direction" "to" "peers" $peers "ports" $ports) | fromJson }}
*/}}
{{- define "airkube.netpol.rule" -}}
{{- $rule := dict -}}
{{- with .peers }}{{ $_ := set $rule $.direction . }}{{ end -}}
{{- $ports := list -}}
{{- range .ports -}}
{{- $ports = append $ports (merge (dict) . (dict "protocol" "TCP")) -}}
{{- end -}}
{{- with $ports }}{{ $_ := set $rule "ports" . }}{{ end -}}
{{- $rule | toJson -}}
{{- end -}}

{{/*
airkube.netpol.policy: a NetworkPolicy over this release's pods of .components in .namespace,
both directions isolated: only .ingress and .egress (lists of rules) are allowed.
Usage: {{ include "airkube.netpol.policy" (dict "context" $ "name" "scheduler" "components" (list "scheduler") "namespace" $ns "ingress" (list) "egress" $egress) }}
*/}}
{{- define "airkube.netpol.policy" -}}
{{- $ctx := .context -}}
{{- $selector := (include "airkube.netpol.pods" (dict "context" $ctx "components" .components) | fromJson).podSelector }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "airkube.names.component" (dict "context" $ctx "component" .name) }}
  namespace: {{ .namespace | quote }}
  labels:
    {{- include "airkube.labels.standard" (dict "context" $ctx "component" .name) | nindent 4 }}
spec:
  podSelector:
    {{- toYaml $selector | nindent 4 }}
  policyTypes: ["Ingress", "Egress"]
  ingress:
    {{- toYaml .ingress | nindent 4 }}
  egress:
    {{- toYaml .egress | nindent 4 }}
{{- end -}}
