{{/*
Every object of one service. Context: root, name, svc (merged values).
The umbrella chart calls this once per enabled entry of `services:`.
*/}}
{{- define "liaison-service.all" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := .svc -}}
{{- $base := dict "root" $root "name" $name "svc" $svc -}}
{{- $ports := $root.Values.ports -}}
{{- $serviceName := include "liaison-service.serviceName" $base -}}
{{- /* Objects both processes share are labelled component=service. */ -}}
{{- $shared := merge (dict "process" "service") $base -}}

{{- $apiPorts := list (dict "name" "grpc" "containerPort" $ports.grpc) (dict "name" "metrics" "containerPort" $ports.metrics) -}}
{{- if ($root.Values.grpcTls | default dict).enabled -}}
{{- $apiPorts = append $apiPorts (dict "name" "grpc-health" "containerPort" $ports.grpcHealth) -}}
{{- end -}}
{{- $api := merge (dict
  "process" "api"
  "proc" $svc.api
  "module" (printf "%s.api" $name)
  "ports" $apiPorts
  "probes" (include "liaison-service.grpcProbes" $root)
  "envFrom" $serviceName
  "serviceAccount" $serviceName) $base -}}
{{- $worker := merge (dict
  "process" "worker"
  "proc" $svc.worker
  "module" (printf "%s.worker" $name)
  "ports" (list (dict "name" "metrics" "containerPort" $ports.metrics))
  "probes" (include "liaison-service.httpProbes" (dict "port" "metrics"))
  "envFrom" $serviceName
  "serviceAccount" $serviceName) $base -}}
{{- $migrate := merge (dict
  "process" "migrate"
  "proc" $svc.migrate
  "module" (printf "%s.migrate" $name)
  "ports" (list)
  "probes" ""
  "envFrom" ""
  "serviceAccount" "") $base -}}

{{- range $caller := $svc.callers }}
{{- if not (hasKey $root.Values.services $caller) }}
{{- fail (printf "services.%s.callers: %q is not a service in `services:`" $name $caller) }}
{{- end }}
{{- end }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $serviceName }}
  labels:
    {{- include "liaison-service.labels" $shared | nindent 4 }}
automountServiceAccountToken: false
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $serviceName }}
  labels:
    {{- include "liaison-service.labels" $shared | nindent 4 }}
data:
  {{- include "liaison-service.settings" $base | nindent 2 }}
---
{{ include "liaison-service.deployment" $api }}
---
{{ include "liaison-service.deployment" $worker }}
---
# gRPC: what the gateway and the other services call. Headless, so the name
# resolves to every ready pod and clients balance calls over them (round_robin);
# a ClusterIP would pin each long-lived connection to one replica.
apiVersion: v1
kind: Service
metadata:
  name: {{ include "liaison-service.fullname" $api }}
  labels:
    {{- include "liaison-service.labels" $api | nindent 4 }}
spec:
  type: ClusterIP
  clusterIP: None
  selector:
    {{- include "liaison-service.selectorLabels" $api | nindent 4 }}
  ports:
    - name: grpc
      port: {{ $ports.grpc }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
---
# Metrics of both processes, for the ServiceMonitor.
apiVersion: v1
kind: Service
metadata:
  name: {{ printf "%s-metrics" $serviceName }}
  labels:
    {{- include "liaison-service.labels" (merge (dict "process" "metrics") $base) | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "liaison-service.selectorLabels" $base | nindent 4 }}
  ports:
    - name: metrics
      port: {{ $ports.metrics }}
      targetPort: metrics
      protocol: TCP
---
{{ include "liaison-service.migrationJob" $migrate }}
{{- range $process := list $api $worker }}
{{- with include "liaison-service.hpa" $process | trim }}
---
{{ . }}
{{- end }}
{{- with include "liaison-service.pdb" $process | trim }}
---
{{ . }}
{{- end }}
{{- end }}
{{- if $root.Values.networkPolicy.enabled }}
---
{{ include "liaison-service.apiNetworkPolicy" $api }}
---
{{ include "liaison-service.workerNetworkPolicy" $worker }}
---
{{ include "liaison-service.migrateNetworkPolicy" $migrate }}
{{- end }}
{{- if include "liaison-service.serviceMonitorEnabled" $root }}
---
{{ include "liaison-service.serviceMonitor" (merge (dict "process" "metrics" "port" "metrics") $base) }}
{{- end }}
{{- end -}}

{{/*
Native gRPC probes against grpc.health.v1 (kit.grpc_server): liveness and
startup ask for the name "liveness", SERVING while the process serves;
readiness asks for the server as a whole, SERVING while the database is
reachable and migrated. So a database outage takes pods out of the Services
and restarts none, and a pod started during one is not killed before it
could ever be ready. With gRPC TLS they go to the plaintext health port.
*/}}
{{- define "liaison-service.grpcProbes" -}}
{{- $port := .Values.ports.grpc -}}
{{- if (.Values.grpcTls | default dict).enabled -}}
{{- $port = .Values.ports.grpcHealth -}}
{{- end -}}
startupProbe:
  grpc:
    port: {{ $port }}
    service: liveness
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  grpc:
    port: {{ $port }}
    service: liveness
  periodSeconds: 10
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  grpc:
    port: {{ $port }}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
{{- end -}}

{{/* /healthz (alive) and /readyz (ready for work) on a named HTTP port. */}}
{{- define "liaison-service.httpProbes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  periodSeconds: 10
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .port }}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
{{- end -}}

{{/*
The Alembic upgrade, once per install or upgrade, before the new pods start,
so replicas never race on the schema. As a hook it runs before the release's
ConfigMap and ServiceAccount exist: settings are inline and the pod uses the
namespace's default ServiceAccount without a token. With the in-chart dev
database (which a pre-install hook would wait for forever) it is an ordinary
Job, named per revision.
*/}}
{{- define "liaison-service.migrationJob" -}}
{{- $hook := .root.Values.migrations.hook -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "liaison-service.fullname" . }}{{ if not $hook }}-{{ .root.Release.Revision }}{{ end }}
  labels:
    {{- include "liaison-service.labels" . | nindent 4 }}
  {{- if $hook }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: {{ .root.Values.migrations.hookWeight | quote }}
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
  {{- end }}
spec:
  backoffLimit: {{ .proc.backoffLimit }}
  activeDeadlineSeconds: {{ .proc.activeDeadlineSeconds }}
  template:
    {{- include "liaison-service.podTemplate" . | nindent 4 }}
{{- end -}}

{{/*
A ServiceMonitor for the metrics Service labelled component=.process. Targets
get `liaison_service` (registry, ..., gateway) and `liaison_process` (api,
worker, gateway): the alert rules in files/alerts.yaml group by them.
*/}}
{{- define "liaison-service.serviceMonitor" -}}
{{- $root := .root -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "liaison-service.fullname" . }}
  labels:
    {{- include "liaison-service.labels" . | nindent 4 }}
    {{- with $root.Values.monitoring.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "liaison-service.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: {{ .port }}
      path: /metrics
      interval: {{ $root.Values.monitoring.serviceMonitor.interval }}
      scrapeTimeout: {{ $root.Values.monitoring.serviceMonitor.scrapeTimeout }}
      relabelings:
        - sourceLabels: [__meta_kubernetes_service_label_app_kubernetes_io_name]
          targetLabel: liaison_service
        - sourceLabels: [__meta_kubernetes_pod_label_app_kubernetes_io_component]
          targetLabel: liaison_process
{{- end -}}
