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

{{/* Render-time checks that a JSON schema cannot express. */}}
{{- define "loadgate.validate" -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (add (int .Values.service.shutdownGracePeriodSeconds) 5) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed service.shutdownGracePeriodSeconds (%d) by more than 5 s, so loadgate can still send every .finished before Kubernetes kills it" (int .Values.terminationGracePeriodSeconds) (int .Values.service.shutdownGracePeriodSeconds)) -}}
{{- end -}}
{{- if and .Values.remoteWrite.enabled (not .Values.remoteWrite.url) -}}
{{- fail "remoteWrite.enabled needs remoteWrite.url (e.g. http://prometheus-server.monitoring/api/v1/write)" -}}
{{- end -}}
{{- if and (eq .Values.mode "distributor") .Values.distributor.keptnApiEndpoint (not .Values.keptn.apiToken.existingSecret) -}}
{{- fail "distributor.keptnApiEndpoint (remote execution plane) needs keptn.apiToken.existingSecret" -}}
{{- end -}}
{{- end -}}
