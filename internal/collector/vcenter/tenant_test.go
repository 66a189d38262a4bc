package vcenter

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
)

func TestTenantRules(t *testing.T) {
	t.Parallel()
	rules := compileRules([]TenantRule{
		{Folder: "/DC1/vm/Tenants/Infra", Ignore: true},
		{Folder: "/DC1/vm/Tenants/{customer}"},
		{Folder: "/DC1/vm/Shared/*/acme", Customer: "acme"},
		{ResourcePool: "/DC1/host/C1/Resources/globex", Customer: "globex"},
		{Attribute: "Tier", Value: "internal", Customer: "provider"},
		{Attribute: "Customer"},
		{Name: `^cust-([a-z0-9]+)-`, Customer: "$1"},
		{Tag: "provider-infra", Ignore: true},
		{TagCategory: "Billing", Tag: "ACME Gold", Customer: "acme"},
		{TagCategory: "Tenant"},
		{Tag: "legacy-globex", Customer: "globex"},
	})
	tenant := func(name string) vmTag { return vmTag{category: "Tenant", name: name} }
	for _, c := range []struct {
		name     string
		vm       vmOwner
		want     string
		rule     int
		conflict []string
	}{
		{"folder captures the customer", vmOwner{folder: "/DC1/vm/Tenants/initech"}, "initech", 1, nil},
		{"sub-folders belong to it", vmOwner{folder: "/DC1/vm/Tenants/initech/web/prod"}, "initech", 1, nil},
		{"the tenants folder itself is nobody's", vmOwner{folder: "/DC1/vm/Tenants"}, "", -1, nil},
		{"wildcard segment", vmOwner{folder: "/DC1/vm/Shared/eu/acme/db"}, "acme", 2, nil},
		{"whole segments only", vmOwner{folder: "/DC1/vm/Shared/eu/acme2"}, "", -1, nil},
		{"resource pool", vmOwner{folder: "/DC1/vm", pool: "/DC1/host/C1/Resources/globex/dev"}, "globex", 3, nil},
		{"attribute with value", vmOwner{attrs: map[string]string{"Tier": "internal", "Customer": "x"}}, "provider", 4, nil},
		{"attribute value is the id", vmOwner{attrs: map[string]string{"Customer": " hooli "}}, "hooli", 5, nil},
		{"empty attribute does not match", vmOwner{name: "cust-umbrella-01", attrs: map[string]string{"Customer": ""}}, "umbrella", 6, nil},
		{"first rule wins", vmOwner{folder: "/DC1/vm/Tenants/initech", attrs: map[string]string{"Customer": "hooli"}}, "initech", 1, nil},
		{"ignored before the capture", vmOwner{folder: "/DC1/vm/Tenants/Infra/vcsa"}, "", 0, nil},
		{"nothing matches", vmOwner{name: "web01", folder: "/DC1/vm/Other"}, "", -1, nil},
		{"ignored by tag", vmOwner{tags: []vmTag{{"Ops", "provider-infra"}, tenant("acme")}}, "", 7, nil},
		{"specific tag in its category", vmOwner{tags: []vmTag{tenant("initech"), {"Billing", "ACME Gold"}}}, "acme", 8, nil},
		{"same tag name, other category", vmOwner{tags: []vmTag{{"Other", "ACME Gold"}}}, "", -1, nil},
		{"tag name is the id", vmOwner{tags: []vmTag{{"Billing", "Silver"}, tenant("initech")}}, "initech", 9, nil},
		{"two tags in the category", vmOwner{tags: []vmTag{tenant("umbrella"), {"Ops", "x"}, tenant("hooli")}}, "", 9,
			[]string{"hooli", "umbrella"}},
		{"no tag in the category falls through", vmOwner{tags: []vmTag{{"Legacy", "legacy-globex"}}}, "globex", 10, nil},
		{"an earlier rule wins over tags", vmOwner{folder: "/DC1/vm/Tenants/initech", tags: []vmTag{tenant("hooli")}}, "initech", 1, nil},
	} {
		m := customer(rules, c.vm)
		if m.customer != c.want || m.rule != c.rule || !slices.Equal(m.conflict, c.conflict) {
			t.Errorf("%s: customer %q by rule %d (conflict %q), want %q by rule %d (conflict %q)",
				c.name, m.customer, m.rule, m.conflict, c.want, c.rule, c.conflict)
		}
	}
}

func TestTenantRuleValidation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rule TenantRule
		want string // "" when valid
	}{
		{TenantRule{Folder: "/DC1/vm/{customer}"}, ""},
		{TenantRule{Folder: "/DC1/vm/a", Customer: "a"}, ""},
		{TenantRule{Attribute: "Customer"}, ""},
		{TenantRule{Attribute: "Tier", Value: "x", Customer: "c"}, ""},
		{TenantRule{Name: "^a", Customer: "a"}, ""},
		{TenantRule{}, "exactly one"},
		{TenantRule{Folder: "/a", Attribute: "b", Customer: "c"}, "exactly one"},
		{TenantRule{Folder: "DC1/vm", Customer: "c"}, "must start with /"},
		{TenantRule{Folder: "/DC1/vm"}, "customer is required"},
		{TenantRule{Folder: "/{customer}/{customer}"}, "at most once"},
		{TenantRule{Folder: "/{customer}", Customer: "c"}, "drop customer"},
		{TenantRule{Attribute: "Tier", Value: "x"}, "both value and customer"},
		{TenantRule{Name: "(", Customer: "c"}, "name:"},
		{TenantRule{Name: "^a"}, "customer is required"},
		{TenantRule{Folder: "/DC1/vm/Infra", Ignore: true}, ""},
		{TenantRule{Name: "^vcsa", Ignore: true}, ""},
		{TenantRule{Folder: "/DC1/vm/Infra", Ignore: true, Customer: "x"}, "no customer"},
		{TenantRule{Attribute: "Owner", Ignore: true}, "needs a value"},
		{TenantRule{TagCategory: "Tenant"}, ""},
		{TenantRule{TagCategory: "Tenant", Tag: "ACME Gold", Customer: "acme"}, ""},
		{TenantRule{Tag: "acme-gold", Customer: "acme"}, ""},
		{TenantRule{Tag: "provider-infra", Ignore: true}, ""},
		{TenantRule{TagCategory: "Ops", Tag: "infra", Ignore: true}, ""},
		{TenantRule{Tag: "acme-gold"}, "tag: customer is required"},
		{TenantRule{TagCategory: "Tenant", Customer: "acme"}, "drop customer"},
		{TenantRule{TagCategory: "Tenant", Ignore: true}, "needs a tag"},
		{TenantRule{TagCategory: "Tenant", Folder: "/DC1/vm/{customer}"}, "exactly one"},
		{TenantRule{Tag: "x", Value: "y", Customer: "c"}, "value goes with attribute"},
	} {
		err := c.rule.validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.rule, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: error %v, want one saying %q", c.rule, err, c.want)
		}
	}
}

func TestIsWindows(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		guestID, family string
		want            bool
	}{
		{"windows2019srv_64Guest", "", true},
		{"windows9Server64Guest", "linuxGuest", true}, // the configured OS wins
		{"ubuntu64Guest", "windowsGuest", false},
		{"otherGuest64", "windowsGuest", true}, // unknown configured OS: Tools decide
		{"", "windowsGuest", true},
		{"", "", false},
	} {
		if got := isWindows(vmInfo{guestID: c.guestID, guestFamily: c.family}); got != c.want {
			t.Errorf("guestId %q family %q: %v, want %v", c.guestID, c.family, got, c.want)
		}
	}
}

// TestBuildReadsTagRules decodes tag rules from the collector's YAML as an
// operator writes them, and refuses a tag rule without its customer.
func TestBuildReadsTagRules(t *testing.T) {
	t.Parallel()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	build := func(tenants string) (collector.Source, error) {
		var n yaml.Node
		doc := "url: https://vc01.example.net/sdk\nusername: billing@vsphere.local\npassword: {file: " + pw + "}\ntenants:\n" + tenants
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatal(err)
		}
		return Build("vc01", n.Content[0])
	}
	src, err := build(`
  - tag: provider-infra
    ignore: true
  - tag_category: Billing
    tag: ACME Gold
    customer: acme
  - tag_category: Tenant
`)
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source)
	want := []TenantRule{{Tag: "provider-infra", Ignore: true}, {TagCategory: "Billing", Tag: "ACME Gold", Customer: "acme"}, {TagCategory: "Tenant"}}
	if !slices.Equal(s.cfg.Tenants, want) || !s.wantTags || !s.tagCategories {
		t.Errorf("tenants %+v (tags %v, categories %v), want %+v and both", s.cfg.Tenants, s.wantTags, s.tagCategories, want)
	}
	if _, err := build("  - tag: acme-gold\n"); err == nil || !strings.Contains(err.Error(), "tenants[0]: tag: customer is required") {
		t.Errorf("a tag rule without customer: %v", err)
	}
	if src, err := build("  - tag: acme-gold\n    customer: acme\n"); err != nil || src.(*Source).tagCategories {
		t.Errorf("a tag rule without category: %v; reads categories %v, want no", err, err == nil && src.(*Source).tagCategories)
	}
}
