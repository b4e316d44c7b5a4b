{{/*
Names, labels and small computed values shared by every template (the RBAC templates of the operator and
the extender use them too). Names are DNS-1123 labels of at most 63 characters.
*/}}

{{- define "smartmig.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's base name: the release name, or "<release>-smartmig" when it does not contain the chart name. */}}
{{- define "smartmig.fullname" -}}
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

{{/* Component names: the base name (cut to leave room) and the component. */}}
{{- define "smartmig.operator.fullname" -}}
{{- printf "%s-operator" (include "smartmig.fullname" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}
{{- define "smartmig.extender.fullname" -}}
{{- printf "%s-extender" (include "smartmig.fullname" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}
{{- define "smartmig.operator.metricsServiceName" -}}
{{- printf "%s-operator-metrics" (include "smartmig.fullname" . | trunc 46 | trimSuffix "-") -}}
{{- end -}}
{{- define "smartmig.scheduler.fullname" -}}
{{- printf "%s-scheduler" (include "smartmig.fullname" . | trunc 53 | trimSuffix "-") -}}
{{- end -}}

{{/* ServiceAccount names; the RBAC templates bind these. */}}
{{- define "smartmig.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "smartmig.operator.fullname" .) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}
{{- define "smartmig.extender.serviceAccountName" -}}
{{- if .Values.extender.serviceAccount.create -}}
{{- default (include "smartmig.extender.fullname" .) .Values.extender.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.extender.serviceAccount.name -}}
{{- end -}}
{{- end -}}
{{- define "smartmig.scheduler.serviceAccountName" -}}
{{- if .Values.scheduler.serviceAccount.create -}}
{{- default (include "smartmig.scheduler.fullname" .) .Values.scheduler.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.scheduler.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "smartmig.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "smartmig.labels" -}}
helm.sh/chart: {{ include "smartmig.chart" . }}
app.kubernetes.io/name: {{ include "smartmig.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: smartmig
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: include "smartmig.selectorLabels" (list . "extender"). */}}
{{- define "smartmig.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "smartmig.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* All labels of one component's objects: include "smartmig.componentLabels" (list . "extender"). */}}
{{- define "smartmig.componentLabels" -}}
{{ include "smartmig.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* The smartmig image (operator and extender); the tag defaults to the chart's appVersion. */}}
{{- define "smartmig.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The kube-scheduler image. Without a tag: the cluster's own version, so the secondary scheduler matches the
control plane. Vendor suffixes are dropped (v1.30.4-eks-a737599 → v1.30.4), as registry.k8s.io publishes
only upstream versions.
*/}}
{{- define "smartmig.scheduler.image" -}}
{{- $tag := .Values.scheduler.image.tag -}}
{{- if not $tag -}}
{{- $v := semver .Capabilities.KubeVersion.Version -}}
{{- $tag = printf "v%d.%d.%d" $v.Major $v.Minor $v.Patch -}}
{{- end -}}
{{- printf "%s:%s" .Values.scheduler.image.repository $tag -}}
{{- end -}}

{{/* The extender's in-cluster DNS name and the names its certificate covers. */}}
{{- define "smartmig.extender.host" -}}
{{- printf "%s.%s.svc" (include "smartmig.extender.fullname" .) .Release.Namespace -}}
{{- end -}}
{{- define "smartmig.extender.dnsNames" -}}
{{- $svc := include "smartmig.extender.fullname" . -}}
- {{ $svc }}
- {{ printf "%s.%s" $svc .Release.Namespace }}
- {{ printf "%s.%s.svc" $svc .Release.Namespace }}
- {{ printf "%s.%s.svc.%s" $svc .Release.Namespace .Values.clusterDomain }}
{{- end -}}

{{/* The Secret that holds the extender's serving certificate (tls.crt, tls.key) and its CA (ca.crt). */}}
{{- define "smartmig.extender.tlsSecretName" -}}
{{- printf "%s-tls" (include "smartmig.extender.fullname" .) -}}
{{- end -}}

{{/* The lease the secondary scheduler's replicas elect a leader with. */}}
{{- define "smartmig.scheduler.leaseName" -}}
{{- default (include "smartmig.scheduler.fullname" .) .Values.scheduler.leaderElection.leaseName -}}
{{- end -}}

{{/*
Whether a prometheus-operator kind renders: "true"/"false" in values force it, "auto" asks the cluster.
include "smartmig.monitoring.enabled" (list . .Values.monitoring.serviceMonitor.enabled "ServiceMonitor")
*/}}
{{- define "smartmig.monitoring.enabled" -}}
{{- $root := index . 0 -}}
{{- $setting := index . 1 | toString -}}
{{- if eq $setting "true" -}}
true
{{- else if and (eq $setting "auto") ($root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" (index . 2))) -}}
true
{{- end -}}
{{- end -}}

{{/* Pod-level scheduling fields of one component's values (nodeSelector, affinity, tolerations, …). */}}
{{- define "smartmig.podPlacement" -}}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
