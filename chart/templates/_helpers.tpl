{{/* Names and labels shared by every template. */}}

{{- define "loadgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "loadgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "loadgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "loadgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "loadgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "loadgate.labels" -}}
helm.sh/chart: {{ include "loadgate.chart" . }}
{{ include "loadgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: keptn-test-service
{{- end -}}

{{- define "loadgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "loadgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "loadgate.testsConfigMap" -}}
{{- default (printf "%s-tests" (include "loadgate.fullname" .)) .Values.tests.existingConfigMap -}}
{{- end -}}

{{- define "loadgate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* "true" when workloads come from a tests ConfigMap (tests.files or tests.existingConfigMap),
     empty when they come from Keptn's resource service. */}}
{{- define "loadgate.testsFromConfigMap" -}}
{{- if or .Values.tests.existingConfigMap (gt (len .Values.tests.files) 0) -}}true{{- end -}}
{{- end -}}

{{/* Placement of the pods (under the pod spec): scaleOut.separate as a topology spread
     (preferred) or a hard pod anti-affinity (required) between the release's pods, the load
     pool's node selector and toleration added to nodeSelector and tolerations. */}}
{{- define "loadgate.placement" -}}
{{- $so := .Values.scaleOut -}}
{{- $match := dict "matchLabels" (include "loadgate.selectorLabels" . | fromYaml) -}}
{{- if eq $so.separate "preferred" }}
topologySpreadConstraints:
  {{- toYaml (list (dict "maxSkew" 1 "topologyKey" $so.topologyKey "whenUnsatisfiable" "ScheduleAnyway" "labelSelector" $match)) | nindent 2 }}
{{- end }}
{{- $affinity := .Values.affinity | default dict | deepCopy -}}
{{- if eq $so.separate "required" -}}
{{- $_ := set $affinity "podAntiAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (list (dict "topologyKey" $so.topologyKey "labelSelector" $match))) -}}
{{- end -}}
{{- with $affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $pool := .Values.loadPool -}}
{{- $selector := .Values.nodeSelector | default dict | deepCopy -}}
{{- $tolerations := .Values.tolerations | default list -}}
{{- if $pool.enabled -}}
{{- $_ := set $selector $pool.key $pool.value -}}
{{- $tolerations = append $tolerations (dict "key" $pool.key "operator" "Equal" "value" $pool.value "effect" $pool.effect) -}}
{{- end -}}
{{- with $selector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Render-time checks that a JSON schema cannot express. */}}
{{- define "loadgate.validate" -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (add (int .Values.service.shutdownGracePeriodSeconds) 5) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed service.shutdownGracePeriodSeconds (%d) by more than 5 s, so loadgate can still send every .finished before Kubernetes kills it" (int .Values.terminationGracePeriodSeconds) (int .Values.service.shutdownGracePeriodSeconds)) -}}
{{- end -}}
{{- if and .Values.remoteWrite.enabled (not .Values.remoteWrite.url) -}}
{{- fail "remoteWrite.enabled needs remoteWrite.url (e.g. http://prometheus-server.monitoring/api/v1/write)" -}}
{{- end -}}
{{- if not (or (include "loadgate.testsFromConfigMap" .) .Values.keptn.resourceServiceUrl .Values.keptn.apiEndpoint) -}}
{{- fail "no workload source: set keptn.apiEndpoint or keptn.resourceServiceUrl (Keptn's resource service), or give a tests ConfigMap (tests.files / tests.existingConfigMap)" -}}
{{- end -}}
{{- with .Values.nats.auth -}}
{{- if and (or .credsKey .userKey .passwordKey .tokenKey) (not .existingSecret) -}}
{{- fail "nats.auth keys name entries of nats.auth.existingSecret, which is not set" -}}
{{- end -}}
{{- if gt (add (ternary 1 0 (not (empty .credsKey))) (ternary 1 0 (or (not (empty .userKey)) (not (empty .passwordKey)))) (ternary 1 0 (not (empty .tokenKey)))) 1 -}}
{{- fail "nats.auth: give one of credsKey, userKey+passwordKey or tokenKey" -}}
{{- end -}}
{{- if ne (empty .userKey) (empty .passwordKey) -}}
{{- fail "nats.auth.userKey and nats.auth.passwordKey go together" -}}
{{- end -}}
{{- end -}}
{{- with .Values.nats.tls -}}
{{- if and .existingSecret (not .caKey) -}}
{{- fail "nats.tls.existingSecret needs nats.tls.caKey (the CA that signs the server certificate)" -}}
{{- end -}}
{{- if ne (empty .certKey) (empty .keyKey) -}}
{{- fail "nats.tls.certKey and nats.tls.keyKey go together" -}}
{{- end -}}
{{- if and .certKey (not .existingSecret) -}}
{{- fail "nats.tls.certKey names an entry of nats.tls.existingSecret, which is not set" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) -}}
{{- fail (printf "autoscaling.maxReplicas (%d) is below autoscaling.minReplicas (%d)" (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) -}}
{{- end -}}
{{- if and (eq .Values.scaleOut.separate "required") .Values.affinity.podAntiAffinity -}}
{{- fail "scaleOut.separate=required sets the pod anti-affinity itself; drop affinity.podAntiAffinity" -}}
{{- end -}}
{{- if and (eq .Values.mode "distributor") .Values.distributor.keptnApiEndpoint (not .Values.keptn.apiToken.existingSecret) -}}
{{- fail "distributor.keptnApiEndpoint (remote execution plane) needs keptn.apiToken.existingSecret" -}}
{{- end -}}
{{- end -}}
