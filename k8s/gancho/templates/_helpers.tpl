{{/* Names and labels shared by every template. */}}

{{- define "gancho.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* "<release>-gancho-<service>": call with (dict "root" $ "name" $name). */}}
{{- define "gancho.serviceName" -}}
{{- printf "%s-%s" (include "gancho.fullname" .root) .name -}}
{{- end -}}

{{- define "gancho.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "gancho.labels" -}}
{{ include "gancho.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "gancho.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s/%s%s:%s" .root.Values.image.registry .root.Values.image.prefix .name $tag -}}
{{- end -}}

{{/* The Secret-backed variables of one service: the common two, then its own. */}}
{{- define "gancho.secretEnv" -}}
{{- $secret := .root.Values.existingSecret -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: { name: {{ $secret }}, key: DATABASE_URL }
- name: KAFKA_BROKERS
  valueFrom:
    secretKeyRef: { name: {{ $secret }}, key: KAFKA_BROKERS }
{{- range $variable, $key := .service.secretEnv }}
- name: {{ $variable }}
  valueFrom:
    secretKeyRef: { name: {{ $secret }}, key: {{ $key }} }
{{- end }}
{{- end -}}

{{- define "gancho.podSpecCommon" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .root.Values.serviceAccountName }}
serviceAccountName: {{ .root.Values.serviceAccountName }}
{{- end }}
# The services never call the Kubernetes API.
automountServiceAccountToken: false
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- end -}}
