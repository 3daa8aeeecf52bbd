{{- define "scimbridge.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "scimbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "scimbridge.labels" -}}
{{ include "scimbridge.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "scimbridge.configMapName" -}}
{{- .Values.existingConfigMap | default (include "scimbridge.fullname" .) -}}
{{- end -}}

{{- define "scimbridge.secretName" -}}
{{- if .Values.secret.existingSecret -}}
{{- .Values.secret.existingSecret -}}
{{- else if .Values.secret.env -}}
{{- include "scimbridge.fullname" . -}}
{{- else -}}
{{- required "scimbridge: set secret.existingSecret to a Secret holding the credentials the configuration reads with env(), or secret.env (e.g. --set secret.env.SCIMBRIDGE_TOKEN=$(scimbridge token create --raw)); the chart makes no placeholder token" "" -}}
{{- end -}}
{{- end -}}
