{{/*
airkube.text.block: a multi-line text indented for a YAML block scalar, without the trailing
spaces nindent leaves on empty lines.
Usage: {{- include "airkube.text.block" (dict "text" $text "indent" 4) }}
*/}}
{{- define "airkube.text.block" -}}
{{- regexReplaceAll "(?m)^[ ]+$" (.text | nindent .indent) "" -}}
{{- end -}}
