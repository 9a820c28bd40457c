{{/* Checks across values that a schema cannot express. */}}
{{- define "liaison.checks" -}}
{{- if and .Values.dev.postgresql.enabled .Values.migrations.hook -}}
{{- fail "dev.postgresql.enabled needs migrations.hook=false: a pre-install hook would wait for a database the release has not created yet" -}}
{{- end -}}
{{- end -}}
