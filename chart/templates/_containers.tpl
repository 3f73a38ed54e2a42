{{/* NATS environment of the loadgate container (mode nats): the URL, the credentials from
     nats.auth's Secret (a creds file is mounted, passwords and tokens come by secretKeyRef) and
     the TLS files mounted from nats.tls's Secret. */}}
{{- define "loadgate.natsEnv" -}}
- name: NATS_URL
  value: {{ .Values.nats.url | quote }}
{{- with .Values.nats.auth }}
{{- if .existingSecret }}
{{- if .credsKey }}
- name: NATS_CREDS
  value: /etc/loadgate/nats-creds/nats.creds
{{- end }}
{{- range $envName, $key := dict "NATS_USER" .userKey "NATS_PASSWORD" .passwordKey "NATS_TOKEN" .tokenKey }}
{{- if $key }}
- name: {{ $envName }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.nats.auth.existingSecret }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.nats.tls }}
{{- if .existingSecret }}
- name: NATS_CA
  value: /etc/loadgate/nats-tls/ca.pem
{{- if .certKey }}
- name: NATS_CERT
  value: /etc/loadgate/nats-tls/cert.pem
- name: NATS_KEY
  value: /etc/loadgate/nats-tls/key.pem
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Remote-write environment: PROMETHEUS_RW_URL and k6's K6_PROMETHEUS_RW_* names. */}}
{{- define "loadgate.remoteWriteEnv" -}}
{{- $rw := .Values.remoteWrite -}}
- name: PROMETHEUS_RW_URL
  value: {{ $rw.url | quote }}
- name: K6_PROMETHEUS_RW_PUSH_INTERVAL
  value: {{ $rw.pushInterval | quote }}
- name: K6_PROMETHEUS_RW_TREND_STATS
  value: {{ $rw.trendStats | quote }}
- name: K6_PROMETHEUS_RW_STALE_MARKERS
  value: {{ $rw.staleMarkers | quote }}
- name: K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM
  value: {{ $rw.trendAsNativeHistogram | quote }}
- name: K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY
  value: {{ $rw.insecureSkipTlsVerify | quote }}
{{- range $name, $value := $rw.headers }}
- name: K6_PROMETHEUS_RW_HEADERS_{{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- with $rw.credentials }}
{{- if .existingSecret }}
{{- range $envName, $key := dict "K6_PROMETHEUS_RW_USERNAME" .usernameKey "K6_PROMETHEUS_RW_PASSWORD" .passwordKey "K6_PROMETHEUS_RW_BEARER_TOKEN" .bearerTokenKey }}
{{- if $key }}
- name: {{ $envName }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.remoteWrite.credentials.existingSecret }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Keptn's distributor sidecar: subscribes for loadgate and forwards its answers (mode distributor). */}}
{{- define "loadgate.distributor" -}}
{{- $d := .Values.distributor -}}
- name: distributor
  image: "{{ $d.image.repository }}:{{ $d.image.tag }}"
  imagePullPolicy: {{ $d.image.pullPolicy }}
  env:
    {{- if $d.keptnApiEndpoint }}
    - name: KEPTN_API_ENDPOINT
      value: {{ $d.keptnApiEndpoint | quote }}
    - name: KEPTN_API_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ .Values.keptn.apiToken.existingSecret }}
          key: {{ .Values.keptn.apiToken.key }}
    {{- else }}
    - name: PUBSUB_URL
      value: {{ $d.pubsubUrl | quote }}
    {{- end }}
    - name: PUBSUB_TOPIC
      value: {{ $d.topics | quote }}
    - name: PUBSUB_RECIPIENT
      value: "127.0.0.1"
    - name: PUBSUB_RECIPIENT_PORT
      value: {{ .Values.kubeService.port | quote }}
    - name: PUBSUB_GROUP
      value: {{ include "loadgate.name" . | quote }}
    - name: PROJECT_FILTER
      value: {{ $d.projectFilter | quote }}
    - name: STAGE_FILTER
      value: {{ $d.stageFilter | quote }}
    - name: SERVICE_FILTER
      value: {{ $d.serviceFilter | quote }}
    - name: VERSION
      value: {{ .Chart.AppVersion | quote }}
    - name: LOCATION
      value: {{ ternary "remote-execution-plane" "control-plane" (not (empty $d.keptnApiEndpoint)) }}
    - name: K8S_DEPLOYMENT_NAME
      value: {{ include "loadgate.fullname" . | quote }}
    - name: K8S_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    - name: K8S_POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: K8S_NODE_NAME
      valueFrom:
        fieldRef:
          fieldPath: spec.nodeName
  livenessProbe:
    {{- toYaml $d.livenessProbe | nindent 4 }}
  readinessProbe:
    {{- toYaml $d.readinessProbe | nindent 4 }}
  ports:
    - name: api-proxy
      containerPort: 8081
      protocol: TCP
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml $d.resources | nindent 4 }}
{{- end -}}
