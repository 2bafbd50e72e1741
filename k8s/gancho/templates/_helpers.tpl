{{/* Names and labels shared by every template. */}}

{{/*
"<installation>-<service>": call with (dict "root" $ "name" $name). The name
comes from the `installation` value, never from the release name, so that a
service installed as its own release (`only`) has the same Service name as in
the all-in-one release, and the console and the other releases reach it.
*/}}
{{- define "gancho.serviceName" -}}
{{- printf "%s-%s" .root.Values.installation .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "true" when this release renders the service or console `name`: `only` picks one, else its `enabled`. */}}
{{- define "gancho.renders" -}}
{{- $own := ternary .root.Values.console (index .root.Values.services .name | default dict) (eq .name "console") -}}
{{- if .root.Values.only -}}
{{- if eq .root.Values.only .name }}true{{ end -}}
{{- else if $own.enabled -}}
true
{{- end -}}
{{- end -}}

{{- define "gancho.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Values.installation }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "gancho.labels" -}}
{{ include "gancho.selectorLabels" . }}
app.kubernetes.io/version: {{ include "gancho.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* The service's own `image.tag`, else the global `image.tag`, else the chart's appVersion. */}}
{{- define "gancho.imageTag" -}}
{{- $own := ternary .root.Values.console (index .root.Values.services .name | default dict) (eq .name "console") -}}
{{- (($own.image | default dict).tag) | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- end -}}

{{- define "gancho.image" -}}
{{- printf "%s/%s%s:%s" .root.Values.image.registry .root.Values.image.prefix .name (include "gancho.imageTag" .) -}}
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
