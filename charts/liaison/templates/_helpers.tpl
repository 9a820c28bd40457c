{{/* Checks across values that a schema cannot express. */}}
{{- define "liaison.checks" -}}
{{- if and .Values.dev.postgresql.enabled .Values.migrations.hook -}}
{{- fail "dev.postgresql.enabled needs migrations.hook=false: a pre-install hook would wait for a database the release has not created yet" -}}
{{- end -}}
{{- if include "liaison.isProduction" . -}}
{{- range $name := list "postgresql" "rabbitmq" -}}
{{- if (get $.Values.dev $name).enabled -}}
{{- fail (printf "dev.%s.enabled is for laptop clusters, not production (global.environment or LIAISON_ENV is production): no backups, a password from values. Use an external %s through its Secret, or set global.environment=development" $name $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- with .Values.gateway.rateLimit -}}
{{- if and .redisUrl .redisUrlSecret.name -}}
{{- fail "gateway.rateLimit: set redisUrl or redisUrlSecret.name, not both" -}}
{{- end -}}
{{- end -}}
{{- include "liaison.checkProxyBodySize" . -}}
{{- include "liaison.checkGatewayWorkers" . -}}
{{- include "liaison.checkNotifications" . -}}
{{- end -}}

{{/*
In production the notifications service's processes refuse to start
without the public https address of unsubscribe links and the secret that
signs them: the chart says so first, naming the values.
*/}}
{{- define "liaison.checkNotifications" -}}
{{- $entry := get .Values.services "notifications" -}}
{{- if and $entry (include "liaison.isProduction" .) -}}
{{- $svc := include "liaison-service.values" (dict "root" $ "entry" $entry) | fromJson -}}
{{- if $svc.enabled -}}
{{- $env := merge (dict) ($svc.env | default dict) (.Values.global.env | default dict) -}}
{{- $url := toString (get $env "LIAISON_NOTIFICATIONS_PUBLIC_URL" | default "") -}}
{{- if not (hasPrefix "https://" $url) -}}
{{- fail (printf "services.notifications.env.LIAISON_NOTIFICATIONS_PUBLIC_URL must be the portal's https address in production (emails' unsubscribe links start with it), not %q" $url) -}}
{{- end -}}
{{- $secrets := list -}}
{{- range ($svc.secretEnv | default list) -}}
{{- $secrets = append $secrets .name -}}
{{- end -}}
{{- if not (or (has "LIAISON_NOTIFICATIONS_UNSUBSCRIBE_SECRET" $secrets) (hasKey $env "LIAISON_NOTIFICATIONS_UNSUBSCRIBE_SECRET")) -}}
{{- fail "services.notifications.secretEnv must give LIAISON_NOTIFICATIONS_UNSUBSCRIBE_SECRET in production (the secret that signs unsubscribe links, the same for its api and worker): {name: LIAISON_NOTIFICATIONS_UNSUBSCRIBE_SECRET, secretName: ..., key: ...}" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A gateway worker keeps one CPU busy at most: with a CPU limit, no more
workers than its whole CPUs (rounded up), or they only take turns.
*/}}
{{- define "liaison.checkGatewayWorkers" -}}
{{- with .Values.gateway -}}
{{- $limit := toString (dig "limits" "cpu" "" (.resources | default dict)) -}}
{{- if and $.Values.gateway.enabled $limit -}}
{{- $cpus := 0 -}}
{{- if hasSuffix "m" $limit -}}
{{- $cpus = div (add (trimSuffix "m" $limit | atoi) 999) 1000 -}}
{{- else -}}
{{- $cpus = ceil (float64 $limit) | int -}}
{{- end -}}
{{- if gt (int .workers) (int $cpus) -}}
{{- fail (printf "gateway.workers (%d) is more than the %d CPU(s) of gateway.resources.limits.cpu (%s): raise the limit or run fewer workers" (int .workers) (int $cpus) $limit) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Whether any process runs with LIAISON_ENV=production: global.environment,
or LIAISON_ENV set through global.env, the gateway's or a service's env.
*/}}
{{- define "liaison.isProduction" -}}
{{- $environments := list .Values.global.environment (.Values.global.env.LIAISON_ENV | default "") (.Values.gateway.env.LIAISON_ENV | default "") -}}
{{- range $name, $entry := .Values.services -}}
{{- $svc := include "liaison-service.values" (dict "root" $ "entry" $entry) | fromJson -}}
{{- $environments = append $environments ($svc.env.LIAISON_ENV | default "" | toString) -}}
{{- end -}}
{{- if has "production" $environments -}}
true
{{- end -}}
{{- end -}}

{{/*
The ingress must pass the largest body the gateway takes, or nginx answers
413 before the gateway can. proxyBodySize is nginx's size: bytes, or k/m/g
(times 1024); "0" means no limit.
*/}}
{{- define "liaison.checkProxyBodySize" -}}
{{- with .Values.gateway -}}
{{- if and $.Values.gateway.enabled .ingress.enabled -}}
{{- $size := toString .ingress.proxyBodySize -}}
{{- $number := regexReplaceAll "[kKmMgG]$" $size "" | atoi -}}
{{- $unit := lower (regexFind "[kKmMgG]$" $size) -}}
{{- $bytes := mul $number (get (dict "" 1 "k" 1024 "m" 1048576 "g" 1073741824) $unit) -}}
{{- $largest := max (int64 .maxBodyBytes) (int64 .maxUploadBytes) -}}
{{- if and (ne $number 0) (lt $bytes $largest) -}}
{{- fail (printf "gateway.ingress.proxyBodySize %s (%d bytes) is below the gateway's largest body (%d bytes, gateway.maxBodyBytes/maxUploadBytes): the ingress would refuse what the gateway takes" $size $bytes $largest) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Default deny: no traffic in or out of any pod of the release but what a
process's own policy admits.
*/}}
{{- define "liaison.defaultDenyNetworkPolicy" -}}
{{- $ctx := dict "root" . "name" "liaison" "process" "default-deny" "svc" (dict "image" (dict)) -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "liaison-service.serviceName" (dict "root" . "name" "default-deny") }}
  labels:
    {{- include "liaison-service.labels" $ctx | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
  policyTypes: [Ingress, Egress]
  ingress: []
  egress: []
{{- end -}}
