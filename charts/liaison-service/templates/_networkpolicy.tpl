{{/*
NetworkPolicies. The umbrella renders one default-deny policy for every pod
of the release (liaison.defaultDenyNetworkPolicy); each process then gets one
policy that admits exactly what it needs, ingress and egress. Policies add
up, so a pod may do what any policy selecting it allows. Kubelet probes are
not subject to policies.

Rule helpers take the umbrella's root context unless said otherwise and
render list items (`- to: ...` / `- from: ...`), or nothing.
*/}}

{{/* `- ipBlock: {cidr: ...}` peers of a list of CIDRs. */}}
{{- define "liaison-service.cidrPeers" -}}
{{- range . }}
- ipBlock:
    cidr: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* One rule to CIDRs on one TCP port, from values {cidrs, port}. */}}
{{- define "liaison-service.cidrEgressRule" -}}
{{- if .cidrs }}
- to:
    {{- include "liaison-service.cidrPeers" .cidrs | trim | nindent 4 }}
  ports:
    - port: {{ .port }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* Name resolution: the cluster DNS, UDP and TCP. */}}
{{- define "liaison-service.dnsEgressRule" -}}
{{- with .Values.networkPolicy.dns }}
- to:
    {{- toYaml .to | nindent 4 }}
  ports:
    - port: {{ .port }}
      protocol: UDP
    - port: {{ .port }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* PostgreSQL: the in-chart dev server by its pods, else the configured CIDRs. */}}
{{- define "liaison-service.databaseEgressRule" -}}
{{- if .Values.dev.postgresql.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "liaison-service.selectorLabels" (dict "root" . "name" "postgresql" "process" "database") | nindent 10 }}
  ports:
    - port: 5432
      protocol: TCP
{{- else }}
{{- include "liaison-service.cidrEgressRule" .Values.networkPolicy.postgresql }}
{{- end }}
{{- end -}}

{{/* RabbitMQ: the in-chart dev broker by its pods, else the configured CIDRs. */}}
{{- define "liaison-service.brokerEgressRule" -}}
{{- if .Values.dev.rabbitmq.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "liaison-service.selectorLabels" (dict "root" . "name" "rabbitmq" "process" "broker") | nindent 10 }}
  ports:
    - port: 5672
      protocol: TCP
{{- else }}
{{- include "liaison-service.cidrEgressRule" .Values.networkPolicy.rabbitmq }}
{{- end }}
{{- end -}}

{{/* The token issuer's JWKS endpoint, when processes are told to fetch it. */}}
{{- define "liaison-service.tokenIssuerEgressRule" -}}
{{- if (.Values.auth | default dict).jwksUrl }}
{{- include "liaison-service.cidrEgressRule" .Values.networkPolicy.tokenIssuer }}
{{- end }}
{{- end -}}

{{/*
Enabled services whose api the service `.name` calls (it is among their
`callers`), as a JSON list; every enabled service for the gateway.
Context: root, name.
*/}}
{{- define "liaison-service.calledServices" -}}
{{- $root := .root -}}
{{- $caller := .name -}}
{{- $called := list -}}
{{- range $name, $entry := $root.Values.services -}}
{{- $svc := include "liaison-service.values" (dict "root" $root "entry" $entry) | fromJson -}}
{{- if and $svc.enabled (or (eq $caller "gateway") (has $caller ($svc.callers | default list))) -}}
{{- $called = append $called $name -}}
{{- end -}}
{{- end -}}
{{- toJson $called -}}
{{- end -}}

{{/* gRPC to the apis `.name` calls. Context: root, name. */}}
{{- define "liaison-service.apiEgressRule" -}}
{{- $root := .root -}}
{{- with include "liaison-service.calledServices" . | fromJsonArray }}
- to:
    {{- range . }}
    - podSelector:
        matchLabels:
          {{- include "liaison-service.selectorLabels" (dict "root" $root "name" . "process" "api") | nindent 10 }}
    {{- end }}
  ports:
    - port: {{ $root.Values.ports.grpc }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* One rule admitting `peers` (NetworkPolicy peers) on TCP `port`, or nothing without peers. */}}
{{- define "liaison-service.peersIngressRule" -}}
{{- if .peers }}
- from:
    {{- toYaml .peers | nindent 4 }}
  ports:
    - port: {{ .port }}
      protocol: TCP
{{- end }}
{{- end -}}

{{/* Peers allowed to scrape metrics (values networkPolicy.metricsFrom) on `port`. Context: root, port. */}}
{{- define "liaison-service.metricsIngressRule" -}}
{{- include "liaison-service.peersIngressRule" (dict "peers" .root.Values.networkPolicy.metricsFrom "port" .port) }}
{{- end -}}

{{/*
A policy for one process's pods. Context: a process context (root, name,
process, ...) plus `ingress` and `egress`: rendered rule lists, "" for none
(nothing admitted that way).
*/}}
{{- define "liaison-service.networkPolicy" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "liaison-service.fullname" . }}
  labels:
    {{- include "liaison-service.labels" . | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  podSelector:
    matchLabels:
      {{- include "liaison-service.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  {{- with .ingress | trim }}
  ingress:
    {{- . | nindent 4 }}
  {{- else }}
  ingress: []
  {{- end }}
  {{- with .egress | trim }}
  egress:
    {{- . | nindent 4 }}
  {{- else }}
  egress: []
  {{- end }}
{{- end -}}

{{/*
The api: gRPC from the gateway, from its callers' processes and from the
department systems of `grpcFromCidrs`; metrics from Prometheus. Out: its
database, the apis it calls, DNS, the token issuer.
*/}}
{{- define "liaison-service.apiNetworkPolicy" -}}
{{- $root := .root -}}
{{- $ingress := include "liaison-service.apiIngressRules" . -}}
{{- $egress := list
  (include "liaison-service.databaseEgressRule" $root)
  (include "liaison-service.apiEgressRule" .)
  (include "liaison-service.dnsEgressRule" $root)
  (include "liaison-service.tokenIssuerEgressRule" $root) | join "" -}}
{{- include "liaison-service.networkPolicy" (merge (dict "ingress" $ingress "egress" $egress) .) -}}
{{- end -}}

{{- define "liaison-service.apiIngressRules" -}}
{{- $root := .root -}}
{{- $enabled := include "liaison-service.enabledServices" $root | fromJsonArray }}
{{- /* Disabled callers have no pods to admit. */}}
- from:
    {{- range $caller := prepend (.svc.callers | default list) "gateway" | uniq }}
    {{- if or (eq $caller "gateway") (has $caller $enabled) }}
    - podSelector:
        matchLabels:
          {{- include "liaison-service.selectorLabels" (dict "root" $root "name" $caller) | nindent 10 }}
    {{- end }}
    {{- end }}
  ports:
    - port: {{ $root.Values.ports.grpc }}
      protocol: TCP
{{- /* Department systems calling the published gRPC API directly. */}}
{{- include "liaison-service.peersIngressRule" (dict "peers" (include "liaison-service.cidrPeers" (.svc.grpcFromCidrs | default list) | fromYamlArray) "port" $root.Values.ports.grpc) }}
{{- include "liaison-service.metricsIngressRule" (dict "root" $root "port" $root.Values.ports.metrics) }}
{{- end -}}

{{/*
The worker: metrics from Prometheus. Out: its database, RabbitMQ, the apis
it calls, DNS, the token issuer, and the service's `workerEgress` (outside
addresses it sends to: the notifications' mail relay and providers).
*/}}
{{- define "liaison-service.workerNetworkPolicy" -}}
{{- $root := .root -}}
{{- $ingress := include "liaison-service.metricsIngressRule" (dict "root" $root "port" $root.Values.ports.metrics) -}}
{{- $egress := list
  (include "liaison-service.databaseEgressRule" $root)
  (include "liaison-service.brokerEgressRule" $root)
  (include "liaison-service.apiEgressRule" .)
  (include "liaison-service.dnsEgressRule" $root)
  (include "liaison-service.tokenIssuerEgressRule" $root) | join "" -}}
{{- range (.svc.workerEgress | default list) }}
{{- $egress = printf "%s%s" $egress (include "liaison-service.cidrEgressRule" .) -}}
{{- end }}
{{- include "liaison-service.networkPolicy" (merge (dict "ingress" $ingress "egress" $egress) .) -}}
{{- end -}}

{{/*
The migration: nothing in; out its database and DNS. When the migration is
a pre-install/pre-upgrade hook, so is its policy (weighted to come first):
on an upgrade the release's default-deny already selects the new Job's pods,
and the release's ordinary policies would arrive only after the hook.
*/}}
{{- define "liaison-service.migrateNetworkPolicy" -}}
{{- $root := .root -}}
{{- $egress := list
  (include "liaison-service.databaseEgressRule" $root)
  (include "liaison-service.dnsEgressRule" $root) | join "" -}}
{{- if .proc.declaresQueues -}}
{{- $egress = printf "%s%s" $egress (include "liaison-service.brokerEgressRule" $root) -}}
{{- end -}}
{{- $extra := dict "ingress" "" "egress" $egress -}}
{{- if $root.Values.migrations.hook -}}
{{- $_ := set $extra "annotations" (dict
  "helm.sh/hook" "pre-install,pre-upgrade"
  "helm.sh/hook-weight" (toString (sub (int $root.Values.migrations.hookWeight) 1))
  "helm.sh/hook-delete-policy" "before-hook-creation,hook-succeeded") -}}
{{- end -}}
{{- include "liaison-service.networkPolicy" (merge $extra .) -}}
{{- end -}}
