package config

import (
	"strings"
	"testing"
	"time"
)

func TestSecurityFlags(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil || !c.Auth || c.RateLimit != 100 || c.RateBurst != 200 || c.RPCTimeout != time.Minute {
		t.Fatalf("defaults: %+v, %v; want auth on, 100/s burst 200, 1m", c, err)
	}
	if c, err := parse(t, []string{"--auth=off"}, nil); err != nil || c.Auth {
		t.Errorf("--auth=off: Auth = %v, %v", c.Auth, err)
	}
	if c, err := parse(t, []string{"--auth"}, map[string]string{"BILLINGD_AUTH": "off"}); err != nil || !c.Auth {
		t.Errorf("--auth alone must mean on and win over the environment: %v, %v", c.Auth, err)
	}
	if c, err := parse(t, nil, map[string]string{"BILLINGD_AUTH": "off", "BILLINGD_BOOTSTRAP_ADMIN_KEY": strings.Repeat("k", 40)}); err != nil || c.Auth || c.BootstrapAdminKey == "" {
		t.Errorf("from the environment: auth %v key %q, %v", c.Auth, c.BootstrapAdminKey, err)
	}
	_, err = parse(t, []string{"--tls-cert", "c.pem", "--bootstrap-admin-key", "short", "--rate-limit", "-1", "--max-body-bytes", "0"}, nil)
	for _, want := range []string{"--tls-cert and --tls-key", "--bootstrap-admin-key", "--rate-limit", "--max-body-bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
	if _, err := parse(t, []string{"--client-ca", "ca.pem"}, nil); err == nil || !strings.Contains(err.Error(), "--client-ca needs") {
		t.Errorf("--client-ca without TLS: %v", err)
	}
	if _, err := parse(t, []string{"--auth=maybe"}, nil); err == nil {
		t.Error("--auth=maybe accepted")
	}
}
