package collector_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/vcenter"
)

func writeSecret(t *testing.T, value string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseConfigAndBuildSources(t *testing.T) {
	t.Parallel()
	pw := writeSecret(t, "vc-pa55")
	tok := writeSecret(t, "tok-123")
	c, err := collector.Parse(fmt.Appendf(nil, `
billingd:
  address: 127.0.0.1:9090
  plaintext: true
  token: {file: %s}
state_dir: /var/lib/billingd-collect
retry: {initial: 500ms, max: 1m}
sources:
  - name: vc01
    interval: 15m
    timeout: 2m
    vcenter:
      url: https://vc01.example.net/sdk
      username: billing@vsphere.local
      password: {file: %s}
      storage_policies: {vsanDatastore: Gold}
      tenants:
        - folder: /DC1/vm/Tenants/{customer}
        - attribute: Customer
`, tok, pw))
	if err != nil {
		t.Fatal(err)
	}
	if c.Billingd.Token.Reveal() != "tok-123" || c.Retry.Initial != 500*time.Millisecond || c.Sources[0].Interval != 15*time.Minute {
		t.Errorf("parsed %+v", c)
	}
	scheds, err := c.Build(map[string]collector.Builder{vcenter.Type: vcenter.Build})
	if err != nil {
		t.Fatal(err)
	}
	if len(scheds) != 1 || scheds[0].Source.Name() != "vc01" || scheds[0].Timeout != 2*time.Minute {
		t.Errorf("built %+v", scheds)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	pw := writeSecret(t, "x")
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"inline secret", `password: hunter2`, "not inline"},
		{"unknown key", `pasword: {file: ` + pw + `}`, "field pasword not found"},
		{"missing env", `password: {env: BILLINGD_TEST_SURELY_UNSET}`, "BILLINGD_TEST_SURELY_UNSET is not set"},
		{"missing file", `password: {file: /nonexistent/pw}`, "/nonexistent/pw"},
		{"env and file", `password: {env: A, file: ` + pw + `}`, "exactly one of env or file"},
		{"bad rule", `password: {file: ` + pw + `}
      tenants: [{folder: DC1/vm, customer: x}]`, "must start with /"},
	} {
		cfg, err := collector.Parse([]byte(`
billingd: {address: "127.0.0.1:9090", plaintext: true}
state_dir: /tmp/x
sources:
  - name: vc01
    interval: 1m
    vcenter:
      url: https://vc/sdk
      username: u
      ` + c.yaml + "\n"))
		if err == nil {
			_, err = cfg.Build(map[string]collector.Builder{vcenter.Type: vcenter.Build})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows the secret: %v", c.name, err)
		}
	}

	_, err := collector.Parse([]byte(`
billingd: {address: nowhere}
sources:
  - name: Bad/Name
    vcenter: {}
  - name: dup
    interval: 1m
  - name: dup
    interval: 1m
    vcenter: {}
`))
	for _, want := range []string{"billingd.address", "state_dir is required", "name must match", "interval must be positive", "used twice"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	_, err = collector.Parse([]byte("sources: [{name: a, vcenter: {}, vcd: {}}]"))
	if err == nil || !strings.Contains(err.Error(), "two types, vcenter and vcd") {
		t.Errorf("error %v does not refuse two types", err)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	s := collector.NewSecret("hunter2", "test")
	type holder struct {
		Password collector.Secret
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("login", "password", s, "holder", holder{s})
	slog.New(slog.NewTextHandler(&buf, nil)).Info("login", "password", s)
	j, _ := json.Marshal(holder{s})
	y, _ := yaml.Marshal(holder{s})
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s), fmt.Sprintf("%+v %#v", holder{s}, holder{s}),
		buf.String(), string(j), string(y),
	} {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, "[redacted]") {
			t.Errorf("secret printed as %q", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
	// In an unexported field (a source's private settings) fmt cannot call
	// the Secret's methods; it must still not find the value.
	type private struct{ cfg holder }
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		if out := fmt.Sprintf(verb, &private{holder{s}}); strings.Contains(out, "hunter2") || strings.Contains(out, "68756e74657232") {
			t.Errorf("secret in an unexported field printed with %s as %q", verb, out)
		}
	}
	var zero collector.Secret
	if !zero.IsZero() || zero.Reveal() != "" || zero.From() != "" || fmt.Sprint(zero) != "[redacted]" {
		t.Error("the zero Secret is not empty and redacted")
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	if got := collector.Key("vcenter", "vc01", "4210-ab", "vm.vcpu", "1767225600"); got != "vcenter:vc01:4210-ab:vm.vcpu:1767225600" {
		t.Errorf("Key = %q", got)
	}
	// A ':' inside a part cannot make two different part lists collide.
	if a, b := collector.Key("a:b", "c"), collector.Key("a", "b:c"); a == b {
		t.Errorf("%q and %q collide", a, b)
	}
	long := strings.Repeat("x", 300)
	k1, k2 := collector.Key("vcenter", long, "1"), collector.Key("vcenter", long, "1")
	if k1 != k2 || len(k1) > collector.MaxKeyLen || !strings.HasPrefix(k1, "vcenter:sha256:") {
		t.Errorf("long key %q (%d bytes)", k1, len(k1))
	}
	if collector.Key("vcenter", long, "2") == k1 {
		t.Error("different long keys collide")
	}
}

func TestBackoffGrowsWithJitterAndCaps(t *testing.T) {
	t.Parallel()
	b := collector.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	for n, want := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		want *= time.Millisecond
		if n >= 4 {
			want = time.Second
		}
		seen := map[time.Duration]bool{}
		for range 50 {
			d := b.Delay(n)
			if d < want/2 || d > want {
				t.Fatalf("Delay(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("Delay(%d) has no jitter", n)
		}
	}
	if d := b.Delay(1000); d > time.Second {
		t.Errorf("Delay(1000) = %v overflows the cap", d)
	}
}
