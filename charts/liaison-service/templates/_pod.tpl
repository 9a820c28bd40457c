{{/*
The pod template every process uses. Context: root, name, svc, process,
proc (the process's values: resources, ...), plus
  module      what `python -m` runs, e.g. "registry.api"
  ports       list of {name, containerPort}
  probes      YAML of startupProbe/livenessProbe/readinessProbe, or ""
  envFrom     name of the ConfigMap with the settings, or "" to inline them
  emptyDirs   optional list of {name, mountPath, medium, sizeLimit}: scratch
              directories besides /tmp
  serviceAccount  name, or "" for the namespace default (hooks)
*/}}
{{- define "liaison-service.podTemplate" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "liaison-service.labels" . | nindent 4 }}
  annotations:
    checksum/settings: {{ include "liaison-service.settings" . | sha256sum }}
    {{- with $root.Values.global.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- if .serviceAccount }}
  serviceAccountName: {{ .serviceAccount }}
  {{- end }}
  # The processes never talk to the Kubernetes API.
  automountServiceAccountToken: false
  {{- if eq .process "migrate" }}
  restartPolicy: Never
  {{- else }}
  # The preStop pause plus the process's own graceful stop (10 s for gRPC,
  # 20 s for the gateway's workers).
  terminationGracePeriodSeconds: 30
  {{- end }}
  securityContext:
    {{- include "liaison-service.podSecurityContext" . | nindent 4 }}
  {{- with $root.Values.global.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if has .process (list "api" "gateway") }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "liaison-service.selectorLabels" . | nindent 10 }}
  {{- end }}
  {{- with $root.Values.global.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.global.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .process }}
      image: {{ include "liaison-service.image" . | quote }}
      imagePullPolicy: {{ $root.Values.global.image.pullPolicy }}
      args: [{{ .module | quote }}]
      {{- with .ports }}
      ports:
        {{- range . }}
        - name: {{ .name }}
          containerPort: {{ .containerPort }}
          protocol: TCP
        {{- end }}
      {{- end }}
      {{- if .envFrom }}
      envFrom:
        - configMapRef:
            name: {{ .envFrom }}
      {{- end }}
      {{- with include "liaison-service.env" . | trim }}
      env:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with .probes }}
      {{- . | nindent 6 }}
      {{- end }}
      {{- if has .process (list "api" "gateway") }}
      lifecycle:
        preStop:
          exec:
            # Keep answering while the endpoint is removed from Services and
            # balancers, so a rollout refuses no call; then stop gracefully.
            command: ["python", "-c", "import time; time.sleep(5)"]
      {{- end }}
      resources:
        {{- toYaml .proc.resources | nindent 8 }}
      securityContext:
        {{- include "liaison-service.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- range .emptyDirs }}
        - name: {{ .name }}
          mountPath: {{ .mountPath }}
        {{- end }}
        {{- if include "liaison-service.grpcTlsEnabled" . }}
        - name: grpc-tls
          mountPath: {{ include "liaison-service.grpcTlsDir" . }}
          readOnly: true
        {{- end }}
  volumes:
    # The root filesystem is read-only; Python and the processes write here.
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- range .emptyDirs }}
    - name: {{ .name }}
      emptyDir:
        medium: {{ .medium }}
        sizeLimit: {{ .sizeLimit }}
    {{- end }}
    {{- if include "liaison-service.grpcTlsEnabled" . }}
    {{- include "liaison-service.grpcTlsVolume" . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* The container's env: settings inline when there is no ConfigMap, then Secret refs. */}}
{{- define "liaison-service.env" -}}
{{- if not .envFrom }}
{{- range $key, $value := include "liaison-service.settings" . | fromYaml }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- include "liaison-service.secretEnv" . }}
{{- include "liaison-service.grpcTlsEnv" . }}
{{- end -}}

{{/* A Deployment of one process, replicas left to the HPA when it is on. */}}
{{- define "liaison-service.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "liaison-service.fullname" . }}
  labels:
    {{- include "liaison-service.labels" . | nindent 4 }}
spec:
  {{- if not .proc.autoscaling.enabled }}
  replicas: {{ .proc.replicas }}
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "liaison-service.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    {{- include "liaison-service.podTemplate" . | nindent 4 }}
{{- end -}}

{{- define "liaison-service.hpa" -}}
{{- if .proc.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "liaison-service.fullname" . }}
  labels:
    {{- include "liaison-service.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "liaison-service.fullname" . }}
  minReplicas: {{ .proc.autoscaling.minReplicas }}
  maxReplicas: {{ .proc.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .proc.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end -}}

{{- define "liaison-service.pdb" -}}
{{- if .proc.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "liaison-service.fullname" . }}
  labels:
    {{- include "liaison-service.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .proc.pdb.maxUnavailable }}
  # A crash-looping pod must not block a node drain.
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "liaison-service.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}
