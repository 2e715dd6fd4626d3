{{- /* Pod-level pieces every Airflow pod shares: scheduling and checksum annotations. */ -}}

{{/*
airkube.airflow.scheduling: nodeSelector/affinity/tolerations/spread/priority of a pod from a
component's values.
Usage: {{- with include "airkube.airflow.scheduling" .Values.scheduler }}{{ . | trim | nindent 6 }}{{- end }}
*/}}
{{- define "airkube.airflow.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- end -}}

{{/*
airkube.airflow.checksums: pod annotations that roll pods when the config ConfigMap (airflow.cfg
and the files beside it) changes. Secrets are not hashed: their values reach containers through
env at start, and the generated ones never change after install.
Usage: {{- include "airkube.airflow.checksums" . | nindent 8 }}
*/}}
{{- define "airkube.airflow.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/config/config-configmap.yaml") . | sha256sum | trunc 16 }}
{{- end -}}
