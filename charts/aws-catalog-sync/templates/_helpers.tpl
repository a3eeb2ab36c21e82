{{- define "acs.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "acs.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "acs.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "acs.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "acs.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "acs.secretName" -}}
{{- default (include "acs.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* pathPrefix as the program reads it: "/aws" for "aws", "/aws/" or "/aws"; "" when unset. */}}
{{- define "acs.pathPrefix" -}}
{{- with trimAll "/" (toString .Values.pathPrefix) }}/{{ . }}{{- end -}}
{{- end -}}

{{/* OCEAN__INTEGRATION__CONFIG__<UPPER_SNAKE(key)> */}}
{{- define "acs.configEnvName" -}}
{{- printf "OCEAN__INTEGRATION__CONFIG__%s" (regexReplaceAll "([a-z0-9])([A-Z])" . "${1}_${2}" | upper) -}}
{{- end -}}

{{/* A value as an env string: maps and lists as JSON. */}}
{{- define "acs.envValue" -}}
{{- if or (kindIs "map" .) (kindIs "slice" .) -}}{{ toJson . }}{{- else -}}{{ toString . }}{{- end -}}
{{- end -}}

{{- define "acs.container" -}}
- name: aws-catalog-sync
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  envFrom:
    - configMapRef:
        name: {{ include "acs.fullname" . }}
    - secretRef:
        name: {{ include "acs.secretName" . }}
  {{- with .Values.extraEnv }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp/ocean
{{- end -}}

{{/* OCEAN__BASE_URL: baseUrl, else the Ingress host's URL; "" when neither is set. */}}
{{- define "acs.baseUrl" -}}
{{- if .Values.baseUrl -}}
{{- trimSuffix "/" .Values.baseUrl -}}
{{- else if and .Values.ingress.enabled .Values.ingress.host -}}
{{- if .Values.ingress.tls }}https{{ else }}http{{ end }}://{{ .Values.ingress.host -}}
{{- end -}}
{{- end -}}
