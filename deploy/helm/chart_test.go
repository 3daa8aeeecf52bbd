// Package helm tests the scimbridge Helm chart (deploy/helm/scimbridge) and
// the raw Kubernetes manifests (deploy/kubernetes): the chart is rendered
// with the Helm library, as `helm template` does, and every object is
// decoded strictly into its Kubernetes API type before it is checked.
//
// This is a module of its own so that Helm and the Kubernetes modules stay
// out of the main module's go.mod; `make test` runs it.
package helm

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// testToken looks like the output of `scimbridge token create --raw`; it
// is not a credential of anything.
const testToken = "sb_chartTestTokenNotUsedAnywhere0000000000000"

const testConfig = `endpoint "scim" {
  base_path = "/scim/v2"
}
`

// objects is a rendered chart or manifest, decoded.
type objects struct {
	configMaps  []corev1.ConfigMap
	secrets     []corev1.Secret
	deployments []appsv1.Deployment
	services    []corev1.Service
	pdbs        []policyv1.PodDisruptionBudget
	ingresses   []networkingv1.Ingress
}

// render renders the chart with the given values (in the form of
// values.yaml) and decodes the result; a template error is returned.
func render(t *testing.T, values string) (*objects, error) {
	t.Helper()
	ch, err := loader.Load("scimbridge")
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	vals, err := chartutil.ReadValues([]byte(values))
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "scim", Namespace: "idm", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatalf("render values: %v", err)
	}
	files, err := engine.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var all strings.Builder
	for _, name := range names {
		if strings.HasSuffix(name, ".yaml") {
			fmt.Fprintf(&all, "\n---\n# Source: %s\n%s", name, files[name])
		}
	}
	return decode(t, all.String()), nil
}

func mustRender(t *testing.T, values string) *objects {
	t.Helper()
	o, err := render(t, values)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return o
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decode splits a multi-document YAML stream and decodes each document
// strictly (an unknown or misplaced field fails) into its API type.
func decode(t *testing.T, stream string) *objects {
	t.Helper()
	o := &objects{}
	for i, doc := range docSep.Split(stream, -1) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("document %d does not parse: %v\n%s", i, err, doc)
		}
		if head.Kind == "" {
			if strings.TrimSpace(stripComments(doc)) != "" {
				t.Fatalf("document %d has no kind:\n%s", i, doc)
			}
			continue
		}
		var target any
		switch head.APIVersion + " " + head.Kind {
		case "v1 ConfigMap":
			o.configMaps = append(o.configMaps, corev1.ConfigMap{})
			target = &o.configMaps[len(o.configMaps)-1]
		case "v1 Secret":
			o.secrets = append(o.secrets, corev1.Secret{})
			target = &o.secrets[len(o.secrets)-1]
		case "apps/v1 Deployment":
			o.deployments = append(o.deployments, appsv1.Deployment{})
			target = &o.deployments[len(o.deployments)-1]
		case "v1 Service":
			o.services = append(o.services, corev1.Service{})
			target = &o.services[len(o.services)-1]
		case "policy/v1 PodDisruptionBudget":
			o.pdbs = append(o.pdbs, policyv1.PodDisruptionBudget{})
			target = &o.pdbs[len(o.pdbs)-1]
		case "networking.k8s.io/v1 Ingress":
			o.ingresses = append(o.ingresses, networkingv1.Ingress{})
			target = &o.ingresses[len(o.ingresses)-1]
		default:
			t.Fatalf("document %d: unexpected %s %s", i, head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), target); err != nil {
			t.Fatalf("document %d (%s) does not decode strictly: %v\n%s", i, head.Kind, err, doc)
		}
	}
	return o
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func (o *objects) one(t *testing.T) (*appsv1.Deployment, *corev1.Container, *corev1.Service) {
	t.Helper()
	if len(o.deployments) != 1 || len(o.services) != 1 {
		t.Fatalf("want one Deployment and one Service, got %d and %d", len(o.deployments), len(o.services))
	}
	d := &o.deployments[0]
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("want one container, got %d", n)
	}
	return d, &d.Spec.Template.Spec.Containers[0], &o.services[0]
}

func env(c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func port(t *testing.T, c *corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container has no port named %q: %+v", name, c.Ports)
	return 0
}

func mount(c *corev1.Container, volume string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == volume {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volume(d *appsv1.Deployment, name string) *corev1.Volume {
	for i := range d.Spec.Template.Spec.Volumes {
		if d.Spec.Template.Spec.Volumes[i].Name == name {
			return &d.Spec.Template.Spec.Volumes[i]
		}
	}
	return nil
}

// checkProbes checks the readiness and liveness probes: /readyz and
// /healthz on the named container port that serves SCIM.
func checkProbes(t *testing.T, c *corev1.Container, portName string, scheme corev1.URIScheme) {
	t.Helper()
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Fatalf("%s probe: none or not HTTP", p.name)
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || g.Port != intstr.FromString(portName) {
			t.Errorf("%s probe: GET %s on port %s, want %s on %s", p.name, g.Path, g.Port.String(), p.path, portName)
		}
		if g.Scheme != scheme && !(scheme == corev1.URISchemeHTTP && g.Scheme == "") {
			t.Errorf("%s probe: scheme %q, want %q", p.name, g.Scheme, scheme)
		}
	}
	port(t, c, portName) // the probes' port exists
}

// checkServicePort checks that the Service offers want on number and
// forwards to the container port named target, which listens on cport.
func checkServicePort(t *testing.T, s *corev1.Service, c *corev1.Container, name string, number int32, target string, cport int32) {
	t.Helper()
	for _, p := range s.Spec.Ports {
		if p.Name != name {
			continue
		}
		if p.Port != number || p.TargetPort != intstr.FromString(target) {
			t.Errorf("Service port %s: %d -> %s, want %d -> %s", name, p.Port, p.TargetPort.String(), number, target)
		}
		if got := port(t, c, target); got != cport {
			t.Errorf("container port %s is %d, want %d", target, got, cport)
		}
		return
	}
	t.Errorf("Service has no port named %s: %+v", name, s.Spec.Ports)
}

func checkSecurityContext(t *testing.T, d *appsv1.Deployment, c *corev1.Container) {
	t.Helper()
	ps := d.Spec.Template.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 {
		t.Errorf("pod securityContext does not run as a non-root user: %+v", ps)
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("container has no securityContext")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("root filesystem is not read-only")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("privilege escalation is not disallowed")
	}
	if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
		t.Errorf("capabilities: %+v, want drop ALL and add none", sc.Capabilities)
	}
}

// checkConfigMount checks that --config names the ConfigMap's key where
// the ConfigMap is mounted.
func checkConfigMount(t *testing.T, d *appsv1.Deployment, c *corev1.Container, configMap string) {
	t.Helper()
	args := strings.Join(c.Args, " ")
	if args != "serve --config /etc/scimbridge/scimbridge.hcl" {
		t.Errorf("args %q", args)
	}
	m := mount(c, "config")
	v := volume(d, "config")
	if m == nil || v == nil || v.ConfigMap == nil {
		t.Fatal("no config volume from a ConfigMap")
	}
	if m.MountPath != "/etc/scimbridge" || !m.ReadOnly || v.ConfigMap.Name != configMap {
		t.Errorf("config: ConfigMap %s at %s (read-only %v), want %s at /etc/scimbridge", v.ConfigMap.Name, m.MountPath, m.ReadOnly, configMap)
	}
}

func TestChartDefaults(t *testing.T) {
	o := mustRender(t, fmt.Sprintf("replicaCount: 3\nimage: {tag: \"1.4.2\"}\nconfig: |\n  %s\nsecret:\n  env:\n    SCIMBRIDGE_TOKEN: %s\n",
		strings.ReplaceAll(strings.TrimSpace(testConfig), "\n", "\n  "), testToken))
	d, c, s := o.one(t)

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	if c.Image != "scimbridge:1.4.2" {
		t.Errorf("image %q", c.Image)
	}
	checkProbes(t, c, "http", corev1.URISchemeHTTP)
	checkServicePort(t, s, c, "http", 80, "http", 8080)
	if v, _ := env(c, "SCIMBRIDGE_LISTEN"); v != "0.0.0.0:8080" {
		t.Errorf("SCIMBRIDGE_LISTEN %q, want 0.0.0.0:8080", v)
	}
	if _, ok := env(c, "SCIMBRIDGE_TLS_CERT_FILE"); ok {
		t.Error("TLS settings without tls.enabled")
	}
	// Metrics: served on their own address, exposed by the pod and the Service.
	checkServicePort(t, s, c, "metrics", 9090, "metrics", 9090)
	if v, _ := env(c, "SCIMBRIDGE_METRICS_LISTEN"); v != "0.0.0.0:9090" {
		t.Errorf("SCIMBRIDGE_METRICS_LISTEN %q, want 0.0.0.0:9090", v)
	}
	checkSecurityContext(t, d, c)
	if m := mount(c, "tmp"); m == nil || m.MountPath != "/tmp" {
		t.Error("no writable /tmp beside the read-only root")
	}
	if d.Spec.Template.Spec.TerminationGracePeriodSeconds == nil || *d.Spec.Template.Spec.TerminationGracePeriodSeconds <= 30 {
		t.Error("terminationGracePeriodSeconds must exceed shutdown_timeout (30s)")
	}

	req := c.Resources.Requests
	if req.Cpu().IsZero() || req.Memory().IsZero() {
		t.Errorf("resource requests: %v", req)
	}
	if c.Resources.Limits.Memory().IsZero() {
		t.Error("no memory limit")
	}

	// The PDB keeps one pod of this release through voluntary disruptions.
	if len(o.pdbs) != 1 {
		t.Fatalf("%d PodDisruptionBudgets, want 1", len(o.pdbs))
	}
	pdb := o.pdbs[0]
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PDB minAvailable %v, want 1", pdb.Spec.MinAvailable)
	}
	podLabels := d.Spec.Template.Labels
	for _, sel := range []map[string]string{pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels, s.Spec.Selector} {
		if len(sel) == 0 {
			t.Error("empty selector")
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("selector %s=%s does not match the pods (%v)", k, v, podLabels)
			}
		}
	}

	// ConfigMap and Secret made by the chart, wired into the pod.
	if len(o.configMaps) != 1 || len(o.secrets) != 1 {
		t.Fatalf("%d ConfigMaps and %d Secrets, want 1 and 1", len(o.configMaps), len(o.secrets))
	}
	if got := o.configMaps[0].Data["scimbridge.hcl"]; strings.TrimSpace(got) != strings.TrimSpace(testConfig) {
		t.Errorf("ConfigMap scimbridge.hcl:\n%s\nwant:\n%s", got, testConfig)
	}
	checkConfigMount(t, d, c, o.configMaps[0].Name)
	if got := o.secrets[0].StringData["SCIMBRIDGE_TOKEN"]; got != testToken {
		t.Errorf("Secret SCIMBRIDGE_TOKEN %q", got)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != o.secrets[0].Name {
		t.Errorf("envFrom %+v, want the Secret %s", c.EnvFrom, o.secrets[0].Name)
	}
	if len(o.ingresses) != 0 {
		t.Error("an Ingress without ingress.enabled")
	}
}

// Without credentials the chart fails with a message instead of rendering
// a Secret with a placeholder token; without a configuration likewise.
func TestChartRequiresConfigAndCredentials(t *testing.T) {
	for _, tc := range []struct{ name, values, want string }{
		{"no credentials", "config: 'endpoint \"x\" {}'\n", "set secret.existingSecret"},
		{"empty credentials", "config: 'endpoint \"x\" {}'\nsecret: {env: {SCIMBRIDGE_TOKEN: \"\"}}\n", "secret.env.SCIMBRIDGE_TOKEN is empty"},
		{"no config", "secret: {existingSecret: creds}\n", "set config to your HCL configuration"},
		{"TLS without a Secret", "config: x\nsecret: {existingSecret: creds}\ntls: {enabled: true}\n", "tls.enabled needs tls.secretName"},
		{"ingress without trusted proxies", "config: x\nsecret: {existingSecret: creds}\npublicURL: https://scim.example.com\ningress: {enabled: true, tlsSecretName: scim-tls}\n", "ingress.enabled needs trustedProxies"},
		{"ingress without public URL", "config: x\nsecret: {existingSecret: creds}\ntrustedProxies: [10.42.0.0/16]\ningress: {enabled: true, tlsSecretName: scim-tls}\n", "ingress.enabled needs publicURL"},
		{"ingress and TLS", "config: x\nsecret: {existingSecret: creds}\ntls: {enabled: true, secretName: t}\npublicURL: https://scim.example.com\ntrustedProxies: [10.42.0.0/16]\ningress: {enabled: true, tlsSecretName: scim-tls}\n", "choose one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := render(t, tc.values)
			if err == nil {
				t.Fatalf("rendered without error: %d Secrets %+v", len(o.secrets), o.secrets)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestChartExistingSecretAndConfigMap(t *testing.T) {
	o := mustRender(t, "existingConfigMap: my-hcl\nsecret: {existingSecret: my-creds}\nmetrics: {enabled: false}\npodDisruptionBudget: {enabled: false}\n")
	d, c, s := o.one(t)
	if len(o.secrets) != 0 || len(o.configMaps) != 0 || len(o.pdbs) != 0 {
		t.Errorf("rendered %d Secrets, %d ConfigMaps, %d PDBs; want none", len(o.secrets), len(o.configMaps), len(o.pdbs))
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != "my-creds" {
		t.Errorf("envFrom %+v, want my-creds", c.EnvFrom)
	}
	checkConfigMount(t, d, c, "my-hcl")
	if _, ok := env(c, "SCIMBRIDGE_METRICS_LISTEN"); ok {
		t.Error("metrics listen with metrics disabled")
	}
	for _, p := range s.Spec.Ports {
		if p.Name == "metrics" {
			t.Error("metrics Service port with metrics disabled")
		}
	}
}

func TestChartTLSInPod(t *testing.T) {
	o := mustRender(t, "config: x\nsecret: {existingSecret: creds}\ntls: {enabled: true, secretName: scim-tls}\n")
	d, c, s := o.one(t)
	checkServicePort(t, s, c, "https", 443, "https", 8443)
	for _, p := range s.Spec.Ports {
		if p.Name == "http" {
			t.Error("plain HTTP Service port beside TLS")
		}
	}
	checkProbes(t, c, "https", corev1.URISchemeHTTPS)
	if v, _ := env(c, "SCIMBRIDGE_LISTEN"); v != "0.0.0.0:8443" {
		t.Errorf("SCIMBRIDGE_LISTEN %q", v)
	}
	m := mount(c, "tls")
	v := volume(d, "tls")
	if m == nil || v == nil || v.Secret == nil || v.Secret.SecretName != "scim-tls" || !m.ReadOnly {
		t.Fatalf("TLS mount %+v of volume %+v, want the Secret scim-tls read-only", m, v)
	}
	// Not inside the ConfigMap's mount: a mount point cannot be made in it.
	if strings.HasPrefix(m.MountPath+"/", "/etc/scimbridge/") {
		t.Errorf("TLS mounted at %s, inside the config volume", m.MountPath)
	}
	for name, key := range map[string]string{"SCIMBRIDGE_TLS_CERT_FILE": "tls.crt", "SCIMBRIDGE_TLS_KEY_FILE": "tls.key"} {
		if got, _ := env(c, name); got != filepath.Join(m.MountPath, key) {
			t.Errorf("%s %q, want %s", name, got, filepath.Join(m.MountPath, key))
		}
	}
}

func TestChartIngress(t *testing.T) {
	o := mustRender(t, "config: x\nsecret: {existingSecret: creds}\npublicURL: https://scim.example.com\ntrustedProxies: [10.42.0.0/16, 10.0.0.5]\ningress: {enabled: true, className: nginx, host: scim.example.com, tlsSecretName: scim-tls}\n")
	_, c, s := o.one(t)
	if v, _ := env(c, "SCIMBRIDGE_TRUSTED_PROXIES"); v != "10.42.0.0/16,10.0.0.5" {
		t.Errorf("SCIMBRIDGE_TRUSTED_PROXIES %q", v)
	}
	if v, _ := env(c, "SCIMBRIDGE_PUBLIC_URL"); v != "https://scim.example.com" {
		t.Errorf("SCIMBRIDGE_PUBLIC_URL %q", v)
	}
	if len(o.ingresses) != 1 {
		t.Fatalf("%d Ingresses", len(o.ingresses))
	}
	in := o.ingresses[0]
	if len(in.Spec.TLS) != 1 || in.Spec.TLS[0].SecretName != "scim-tls" || in.Spec.TLS[0].Hosts[0] != "scim.example.com" {
		t.Errorf("ingress TLS %+v", in.Spec.TLS)
	}
	b := in.Spec.Rules[0].HTTP.Paths[0].Backend.Service
	if b.Name != s.Name || b.Port.Name != "http" {
		t.Errorf("ingress backend %s:%s, want %s:http", b.Name, b.Port.Name, s.Name)
	}
	checkServicePort(t, s, c, "http", 80, "http", 8080)
}

// The raw manifests: an honest Service (80 to the plain HTTP port), the
// probes, the hardening, and the configuration a tested example.
func TestRawManifests(t *testing.T) {
	b, err := os.ReadFile("../kubernetes/scimbridge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, string(b))
	d, c, s := o.one(t)
	checkProbes(t, c, "http", corev1.URISchemeHTTP)
	checkServicePort(t, s, c, "http", 80, "http", 8080)
	checkServicePort(t, s, c, "metrics", 9090, "metrics", 9090)
	if v, _ := env(c, "SCIMBRIDGE_LISTEN"); v != "0.0.0.0:8080" {
		t.Errorf("SCIMBRIDGE_LISTEN %q", v)
	}
	if v, _ := env(c, "SCIMBRIDGE_METRICS_LISTEN"); v != "0.0.0.0:9090" {
		t.Errorf("SCIMBRIDGE_METRICS_LISTEN %q", v)
	}
	for _, p := range s.Spec.Ports {
		if p.Port == 443 {
			t.Error("Service offers 443 but the pod serves plain HTTP")
		}
	}
	checkSecurityContext(t, d, c)
	if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":") {
		t.Errorf("image %q: use a version tag", c.Image)
	}
	if len(o.pdbs) != 1 || o.pdbs[0].Spec.MinAvailable == nil {
		t.Error("no PodDisruptionBudget")
	}
	if len(o.configMaps) != 1 {
		t.Fatalf("%d ConfigMaps", len(o.configMaps))
	}
	checkConfigMount(t, d, c, o.configMaps[0].Name)
	// The ConfigMap carries examples/postgres.hcl, which examples/ tests
	// against a real PostgreSQL: it must not drift from it.
	example, err := os.ReadFile("../../examples/postgres.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.configMaps[0].Data["scimbridge.hcl"]; got != string(example) {
		t.Error("the ConfigMap's scimbridge.hcl differs from examples/postgres.hcl")
	}
	if len(o.secrets) != 1 {
		t.Fatalf("%d Secrets", len(o.secrets))
	}
	for _, name := range []string{"SCIMBRIDGE_TOKEN", "DATABASE_URL"} {
		if _, ok := o.secrets[0].StringData[name]; !ok {
			t.Errorf("Secret lacks %s, which the configuration reads", name)
		}
		if !strings.Contains(string(example), `env("`+name+`")`) {
			t.Errorf("examples/postgres.hcl does not read %s", name)
		}
	}
}

// Every SCIMBRIDGE_<NAME> the chart and the manifests set is a documented
// server setting.
func TestEnvironmentVariablesAreSettings(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`SCIMBRIDGE_[A-Z_]+`)
	seen := map[string]bool{}
	for _, f := range []string{"scimbridge/templates/deployment.yaml", "../kubernetes/scimbridge.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range re.FindAllString(string(b), -1) {
			seen[v] = true
		}
	}
	if len(seen) < 5 {
		t.Fatalf("found only %v", seen)
	}
	for v := range seen {
		if v == "SCIMBRIDGE_TOKEN" { // read by the examples with env(), not a setting
			continue
		}
		setting := strings.ToLower(strings.TrimPrefix(v, "SCIMBRIDGE_"))
		if !strings.Contains(string(readme), "`"+setting+"`") {
			t.Errorf("%s: README documents no setting `%s`", v, setting)
		}
	}
}
