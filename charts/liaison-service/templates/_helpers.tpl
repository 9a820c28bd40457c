{{/*
Names, labels and values shared by every object of a service.

Most helpers take a context dict:
  root     the umbrella chart's top-level context ($)
  name     the service name, e.g. "registry"
  svc      the service's values: serviceDefaults merged with its entry
  process  "api", "worker", "migrate" or "gateway" (where it matters)
*/}}

{{/* Prefix of every object name: fullnameOverride, else the release name. */}}
{{- define "liaison-service.prefix" -}}
{{- $values := .Values | default dict -}}
{{- default .Release.Name $values.fullnameOverride | trunc 30 | trimSuffix "-" -}}
{{- end -}}

{{/* <prefix>-<service>, e.g. liaison-registry: ConfigMap, ServiceAccount. */}}
{{- define "liaison-service.serviceName" -}}
{{- printf "%s-%s" (include "liaison-service.prefix" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <prefix>-<service>-<process>, e.g. liaison-registry-api; the gateway is just liaison-gateway. */}}
{{- define "liaison-service.fullname" -}}
{{- if eq .name .process -}}
{{- include "liaison-service.serviceName" . -}}
{{- else -}}
{{- printf "%s-%s-%s" (include "liaison-service.prefix" .root) .name .process | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Where other processes reach a service's api: <prefix>-<service>-api:50051. */}}
{{- define "liaison-service.grpcTarget" -}}
{{- printf "dns:///%s-%s-api:%d" (include "liaison-service.prefix" .root) .name (int .root.Values.ports.grpc) -}}
{{- end -}}

{{/*
Deep merge of two value trees, the override winning. Sprig's mergeOverwrite
cannot set false, 0 or "" over a default, so `autoscaling.enabled: false`
would be lost; this one can. Returns JSON.
*/}}
{{- define "liaison-service.deepMerge" -}}
{{- $merged := deepCopy .base -}}
{{- range $key, $value := .override -}}
{{- $current := get $merged $key -}}
{{- if and (kindIs "map" $value) (kindIs "map" $current) -}}
{{- $_ := set $merged $key (include "liaison-service.deepMerge" (dict "base" $current "override" $value) | fromJson) -}}
{{- else -}}
{{- $_ := set $merged $key $value -}}
{{- end -}}
{{- end -}}
{{- toJson $merged -}}
{{- end -}}

{{/* A service's values: serviceDefaults merged with its `services:` entry. Returns JSON. */}}
{{- define "liaison-service.values" -}}
{{- $library := index .root.Values "liaison-service" | default dict -}}
{{- $defaults := $library.serviceDefaults | default dict -}}
{{- include "liaison-service.deepMerge" (dict "base" $defaults "override" (.entry | default dict)) -}}
{{- end -}}

{{/* Services that are enabled, as a JSON list of names. */}}
{{- define "liaison-service.enabledServices" -}}
{{- $names := list -}}
{{- range $name, $entry := .Values.services -}}
{{- $svc := include "liaison-service.values" (dict "root" $ "entry" $entry) | fromJson -}}
{{- if $svc.enabled -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/* Image tag: the service's, else global.image.tag, else the chart's appVersion. */}}
{{- define "liaison-service.imageTag" -}}
{{- .svc.image.tag | default .root.Values.global.image.tag | default .root.Chart.AppVersion | toString | trimSuffix "@" -}}
{{- end -}}

{{- define "liaison-service.image" -}}
{{- $repository := .svc.image.repository -}}
{{- if not $repository -}}
{{- $registry := .root.Values.global.image.registry | trimSuffix "/" -}}
{{- $repository = ternary (printf "%s/liaison-%s" $registry .name) (printf "liaison-%s" .name) (ne $registry "") -}}
{{- end -}}
{{- $tag := include "liaison-service.imageTag" . -}}
{{- /* skaffold passes "<tag>@sha256:<digest>"; a bare digest starts with "sha256:" */ -}}
{{- if hasPrefix "sha256:" $tag -}}
{{- printf "%s@%s" $repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}

{{/* app.kubernetes.io/version: the image tag without its digest, as a valid label value. */}}
{{- define "liaison-service.version" -}}
{{- $tag := include "liaison-service.imageTag" . | splitList "@" | first -}}
{{- if hasPrefix "sha256:" $tag -}}{{- $tag = .root.Chart.AppVersion -}}{{- end -}}
{{- regexReplaceAll "[^A-Za-z0-9._-]" $tag "_" | trunc 63 | trimAll "_.-" -}}
{{- end -}}

{{/* Labels that pick a process's pods; never change them on a running release. */}}
{{- define "liaison-service.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .process }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{- define "liaison-service.labels" -}}
{{ include "liaison-service.selectorLabels" . }}
app.kubernetes.io/part-of: {{ .root.Values.global.partOf }}
app.kubernetes.io/version: {{ include "liaison-service.version" . | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/*
Non-secret settings of a service (see services/kit/kit/settings.py), as a
YAML map. The ConfigMap carries them to api and worker; the migration Job,
which may run before the ConfigMap exists, gets them inline.
*/}}
{{- define "liaison-service.settings" -}}
{{- $root := .root -}}
{{- $settings := dict
  "LIAISON_ENV" $root.Values.global.environment
  "LIAISON_LOG_LEVEL" $root.Values.global.logLevel
  "LIAISON_LOG_FORMAT" "json"
  "LIAISON_VAR_DIR" "/tmp/liaison"
  "LIAISON_GRPC_PORT" (toString $root.Values.ports.grpc)
  "LIAISON_METRICS_PORT" (toString $root.Values.ports.metrics)
-}}
{{- range $other := include "liaison-service.enabledServices" $root | fromJsonArray -}}
{{- $_ := set $settings (printf "LIAISON_%s_GRPC_TARGET" (upper $other)) (include "liaison-service.grpcTarget" (dict "root" $root "name" $other)) -}}
{{- end -}}
{{- if ne (toString .process) "migrate" -}}
{{- $settings = merge $settings (include "liaison-service.tokenSettings" $root | fromYaml) -}}
{{- end -}}
{{- range $key, $value := $root.Values.global.env -}}
{{- $_ := set $settings $key (toString $value) -}}
{{- end -}}
{{- range $key, $value := .svc.env -}}
{{- $_ := set $settings $key (toString $value) -}}
{{- end -}}
{{- toYaml $settings -}}
{{- end -}}

{{/*
How every process that verifies bearer tokens (the gateway, each api and
worker) finds the issuer: LIAISON_JWT_* from values `auth`, only those set
(an unset one keeps the process's own default). Takes the root context.
*/}}
{{- define "liaison-service.tokenSettings" -}}
{{- $auth := .Values.auth | default dict -}}
{{- $settings := dict -}}
{{- range $key, $name := dict "jwksUrl" "LIAISON_JWT_JWKS_URL" "issuer" "LIAISON_JWT_ISSUER" "audience" "LIAISON_JWT_AUDIENCE" -}}
{{- with get $auth $key -}}
{{- $_ := set $settings $name (toString .) -}}
{{- end -}}
{{- end -}}
{{- toYaml $settings -}}
{{- end -}}

{{/* Settings read from Secrets: the database URL, the broker URI, extras. */}}
{{- define "liaison-service.secretEnv" -}}
{{- $root := .root -}}
{{- if .svc.database }}
- name: {{ printf "LIAISON_%s_DATABASE_URL" (upper .name) }}
  valueFrom:
    secretKeyRef:
      name: {{ include "liaison-service.databaseSecretName" . }}
      key: {{ .svc.database.secretKey }}
{{- end }}
{{- if or (has .process (list "api" "worker" "gateway")) (and (eq (toString .process) "migrate") .proc.declaresQueues) }}
{{- /* The gateway listens to registry.events to keep its public directory current. */}}
- name: LIAISON_AMQP_URI
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.broker.secretName }}
      key: {{ $root.Values.broker.secretKey }}
{{- end }}
{{- range .svc.secretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- end -}}

{{/*
gRPC TLS (values grpcTls): the apis serve it with the Secret's tls.crt and
tls.key; apis, workers and the gateway verify servers by its ca.crt. Only
the apis mount the key.
*/}}
{{- define "liaison-service.grpcTlsEnabled" -}}
{{- $tls := .root.Values.grpcTls | default dict -}}
{{- if and $tls.enabled (has .process (list "api" "worker" "gateway")) -}}
true
{{- end -}}
{{- end -}}

{{- define "liaison-service.grpcTlsDir" -}}
/etc/liaison/grpc-tls
{{- end -}}

{{- define "liaison-service.grpcTlsEnv" -}}
{{- if include "liaison-service.grpcTlsEnabled" . }}
{{- $dir := include "liaison-service.grpcTlsDir" . }}
- name: LIAISON_GRPC_TLS_CA_FILE
  value: {{ printf "%s/ca.crt" $dir | quote }}
{{- if eq .process "api" }}
- name: LIAISON_GRPC_TLS_CERT_FILE
  value: {{ printf "%s/tls.crt" $dir | quote }}
- name: LIAISON_GRPC_TLS_KEY_FILE
  value: {{ printf "%s/tls.key" $dir | quote }}
# The kubelet's gRPC probes speak no TLS: health alone, in plaintext.
- name: LIAISON_GRPC_HEALTH_PORT
  value: {{ .root.Values.ports.grpcHealth | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "liaison-service.grpcTlsVolume" -}}
- name: grpc-tls
  secret:
    secretName: {{ .root.Values.grpcTls.secretName }}
    # 0440: readable by the pod's group (fsGroup), by nobody else.
    defaultMode: 288
    items:
      - {key: ca.crt, path: ca.crt}
      {{- if eq .process "api" }}
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
      {{- end }}
{{- end -}}

{{/* The Secret holding a service's database URL. */}}
{{- define "liaison-service.databaseSecretName" -}}
{{- .svc.database.secretName | default (printf "liaison-%s-database" .name) -}}
{{- end -}}

{{- define "liaison-service.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "liaison-service.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* Whether ServiceMonitors render: asked for, or the cluster serves the CRD. */}}
{{- define "liaison-service.serviceMonitorEnabled" -}}
{{- if or .Values.monitoring.serviceMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor") -}}
true
{{- end -}}
{{- end -}}
