package veeam_test

import (
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/cohesity"
	"github.com/billingd/billingd/internal/collector/rubrik"
	"github.com/billingd/billingd/internal/collector/veeam"
)

// TestCollectorConfigFile parses a billingd-collect file with one source
// of each backup type and builds them with the builders as
// cmd/billingd-collect registers them (Type → Build).
func TestCollectorConfigFile(t *testing.T) {
	t.Setenv("T_VSPC_PASSWORD", "a")
	t.Setenv("T_COHESITY_KEY", "b")
	t.Setenv("T_RSC_SECRET", "c")
	cfg, err := collector.Parse([]byte(`
billingd: {address: billingd.internal:9090}
state_dir: /var/lib/billingd-collect
sources:
  - name: vspc01
    interval: 1h
    veeam:
      url: https://vspc.example.net:1280
      username: billing
      password: {env: T_VSPC_PASSWORD}
      per_vm: true
      customers: {ignore: [Provider], map: {Acme Corp: acme}}
  - name: coh01
    interval: 1h
    timeout: 10m
    cohesity:
      url: https://cohesity01.example.net
      api_key: {env: T_COHESITY_KEY}
      customers: {pattern: '^cust-(.+)$'}
  - name: rsc
    interval: 2h
    rubrik:
      url: https://example.my.rubrik.com
      client_id: client|x
      client_secret: {env: T_RSC_SECRET}
      customers: {use: name}
`))
	if err != nil {
		t.Fatal(err)
	}
	scheds, err := cfg.Build(map[string]collector.Builder{veeam.Type: veeam.Build, cohesity.Type: cohesity.Build, rubrik.Type: rubrik.Build})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name     string
		interval time.Duration
	}{{"vspc01", time.Hour}, {"coh01", time.Hour}, {"rsc", 2 * time.Hour}}
	if len(scheds) != len(want) {
		t.Fatalf("%d schedules, want %d", len(scheds), len(want))
	}
	for i, w := range want {
		if scheds[i].Source.Name() != w.name || scheds[i].Interval != w.interval {
			t.Errorf("schedule %d: %s every %v, want %s every %v", i, scheds[i].Source.Name(), scheds[i].Interval, w.name, w.interval)
		}
	}
	if veeam.Type != "veeam" || cohesity.Type != "cohesity" || rubrik.Type != "rubrik" {
		t.Errorf("types %q %q %q", veeam.Type, cohesity.Type, rubrik.Type)
	}
}
