package vcenter_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vapi/tags"

	// vcsim's vAPI endpoint (/rest): sessions, tag categories, tags and
	// their attachments, registered on every VPX model's server.
	_ "github.com/vmware/govmomi/vapi/simulator"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/vcenter"
)

// simTags creates tags in the simulator through its vAPI endpoint, as an
// administrator would in the vSphere Client.
type simTags struct {
	m    *tags.Manager
	cats map[string]string // category name → id
	ids  map[string]string // "category/tag" → tag id
}

func (s *sim) tags(t *testing.T) *simTags {
	t.Helper()
	rc := rest.NewClient(s.client.Client)
	if err := rc.Login(context.Background(), s.user); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Logout(context.Background()) })
	return &simTags{m: tags.NewManager(rc), cats: map[string]string{}, ids: map[string]string{}}
}

// tag returns the id of the tag category/name, creating both as needed.
// Categories are MULTIPLE cardinality: a VM may carry several of their
// tags, which is what makes a VM ambiguous on a real vCenter too.
func (st *simTags) tag(t *testing.T, category, name string) string {
	t.Helper()
	ctx := context.Background()
	if id, ok := st.ids[category+"/"+name]; ok {
		return id
	}
	cat, ok := st.cats[category]
	if !ok {
		cat = must(st.m.CreateCategory(ctx, &tags.Category{Name: category, Cardinality: "MULTIPLE",
			AssociableTypes: []string{"VirtualMachine"}}))(t)
		st.cats[category] = cat
	}
	id := must(st.m.CreateTag(ctx, &tags.Tag{Name: name, CategoryID: cat}))(t)
	st.ids[category+"/"+name] = id
	return id
}

func (st *simTags) attach(t *testing.T, s *sim, vm, category, name string) {
	t.Helper()
	if err := st.m.AttachTag(context.Background(), st.tag(t, category, name), s.vm(t, vm).Reference()); err != nil {
		t.Fatal(err)
	}
}

func (st *simTags) detach(t *testing.T, s *sim, vm, category, name string) {
	t.Helper()
	if err := st.m.DetachTag(context.Background(), st.tag(t, category, name), s.vm(t, vm).Reference()); err != nil {
		t.Fatal(err)
	}
}

// newTagSource is a source on the simulator s that finds customers by rules.
func newTagSource(t *testing.T, s *sim, rules []vcenter.TenantRule) *vcenter.Source {
	t.Helper()
	pw, _ := s.user.Password()
	src, err := vcenter.New("vc01", vcenter.Config{
		URL: s.URL.String(), Username: s.user.Username(), Password: collector.NewSecret(pw, "test"), Insecure: true,
		Site: sitename, StoragePolicies: map[string]string{"LocalDS_0": "Gold"}, LicenceAttribute: "Licences",
		Tenants: rules,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// skipDetails maps a skipped resource to "reason: detail".
func skipDetails(b collector.Batch) map[string]string {
	out := map[string]string{}
	for _, s := range b.Skipped {
		out[s.Resource] = s.Reason + ": " + s.Detail
	}
	return out
}

// TestTagRules polls a simulated vCenter whose VMs carry vSphere tags,
// twice, with tags changed in between, and checks the customer of every
// record:
//
//	VM               folder / tags                        poll 1           poll 2
//	DC0_H0_VM0       Tenants/acme, Tenant:umbrella        acme (folder)    acme
//	DC0_H0_VM1       Tenants/globex, no tags              globex (folder)  globex
//	DC0_C0_RP0_VM0   Tenant:initech → Tenant:umbrella     initech (tag_category) umbrella
//	DC0_C0_RP0_VM1   Billing:hooli-gold, Tenant:initech   hooli (tag)      hooli
//	stray            Tenant:umbrella + Tenant:hooli → umbrella  skipped ambiguous_tag  umbrella
//	other            Ops:initech (another category)       fallback (name rule)  fallback
func TestTagRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t)
	s.createVM(t, "other", "/DC0/host/DC0_H0/Resources")
	s.setStorage(t, "other", gib, 0)
	st := s.tags(t)
	st.attach(t, s, "DC0_H0_VM0", "Tenant", "umbrella")
	st.attach(t, s, "DC0_C0_RP0_VM0", "Tenant", "initech")
	st.attach(t, s, "DC0_C0_RP0_VM1", "Billing", "hooli-gold")
	st.attach(t, s, "DC0_C0_RP0_VM1", "Tenant", "initech")
	st.attach(t, s, "stray", "Tenant", "umbrella")
	st.attach(t, s, "stray", "Tenant", "hooli")
	st.attach(t, s, "other", "Ops", "initech")
	st.tag(t, "Tenant", "unused") // in the category, on no VM

	src := newTagSource(t, s, []vcenter.TenantRule{
		{Folder: "/DC0/vm/Tenants/{customer}"},
		{TagCategory: "Billing", Tag: "hooli-gold", Customer: "hooli"},
		{TagCategory: "Tenant"},
		{Name: `^(stray|other)$`, Customer: "fallback"},
	})
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	b1, acme, globex, initech, hooli, strayID := s.firstPoll(t, ctx, src, "2026-01-01T00:00:00Z", t1)
	other := vmLines{uuid: s.instanceUUID(t, "other"), customer: "fallback", vcpu: "1", memGB: "0.5", on: "1",
		provGB: "1", usedGB: "1"}
	if diff := diffLines(s.expect(t0, t1, acme, globex, initech, hooli, other), lines(b1.Records)); diff != "" {
		t.Errorf("poll 1 records (-want +got):\n%s", diff)
	}
	want := map[string]string{strayID: `ambiguous_tag: tenants[2]: tags ["hooli" "umbrella"] of category "Tenant"; a VM may carry only one`}
	if got := skipDetails(b1); !maps.Equal(got, want) {
		t.Errorf("poll 1 skipped\n got %q\nwant %q", got, want)
	}

	// The owner changes its tags: the next poll follows, the earlier
	// window keeps its customer (nothing is cached between polls).
	st.detach(t, s, "DC0_C0_RP0_VM0", "Tenant", "initech")
	st.attach(t, s, "DC0_C0_RP0_VM0", "Tenant", "umbrella")
	st.detach(t, s, "stray", "Tenant", "hooli")
	b2, err := src.Collect(ctx, b1.Next, t2)
	if err != nil {
		t.Fatal(err)
	}
	umbrella := initech
	umbrella.customer = "umbrella"
	stray := vmLines{uuid: s.instanceUUID(t, "stray"), customer: "umbrella", vcpu: "1", memGB: "0.5", on: "1",
		provGB: "2", usedGB: "1"}
	if diff := diffLines(s.expect(t1, t2, acme, globex, umbrella, hooli, stray, other), lines(b2.Records)); diff != "" {
		t.Errorf("poll 2 records (-want +got):\n%s", diff)
	}
	if len(b2.Skipped) != 0 {
		t.Errorf("poll 2 skipped %q, want nothing", skipDetails(b2))
	}
}

// TestTagReadIsBatched checks that tag rules add the same vAPI calls to a
// poll whatever the number of VMs: one list of the tags on all VMs, one
// read per distinct tag and per distinct category in use, and the
// session check; the vim25 side stays as without tags.
func TestTagReadIsBatched(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t)
	u, counter := s.countingProxy(t)
	s.URL = u
	st := s.tags(t)
	st.attach(t, s, "DC0_C0_RP0_VM0", "Tenant", "initech")
	st.attach(t, s, "DC0_C0_RP0_VM1", "Tenant", "hooli")
	st.attach(t, s, "stray", "Billing", "gold")
	st.tag(t, "Tenant", "unused") // in no VM: never read
	src := newTagSource(t, s, []vcenter.TenantRule{
		{Folder: "/DC0/vm/Tenants/{customer}"},
		{TagCategory: "Tenant"},
		{Tag: "gold", Customer: "acme"},
	})
	poll := func() (map[string]int, collector.Batch) {
		t.Helper()
		b, err := src.Collect(ctx, "2026-01-01T00:00:00Z", t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return counter.take(), b
	}
	counter.take()
	poll() // the first poll logs in to both endpoints
	few, b := poll()
	customers := func(b collector.Batch) map[string]int {
		out := map[string]int{}
		for _, r := range b.Records {
			if r.Metric == "vm.vcpu" {
				out[r.CustomerID]++
			}
		}
		return out
	}
	if got, want := customers(b), map[string]int{"acme": 2, "globex": 1, "initech": 1, "hooli": 1}; !maps.Equal(got, want) {
		t.Errorf("VMs per customer with 5 VMs: %v, want %v", got, want)
	}
	for i, tag := range []string{"initech", "hooli", "initech", "hooli"} {
		name := "extra-" + string(rune('a'+i))
		s.createVM(t, name, "/DC0/host/DC0_H0/Resources")
		st.attach(t, s, name, "Tenant", tag)
	}
	st.attach(t, s, "DC0_H0_VM1", "Billing", "gold") // its folder rule comes first
	counter.take()
	many, b := poll()
	if got, want := customers(b), map[string]int{"acme": 2, "globex": 1, "initech": 3, "hooli": 3}; !maps.Equal(got, want) {
		t.Errorf("VMs per customer with 9 VMs: %v, want %v", got, want)
	}
	want := map[string]int{
		"CreateContainerView": 1, "RetrievePropertiesEx": 2, "DestroyView": 1,
		"POST /rest/com/vmware/cis/session?~action=get":                                           1,
		"POST /rest/com/vmware/cis/tagging/tag-association?~action=list-attached-tags-on-objects": 1,
		"GET /rest/com/vmware/cis/tagging/tag/id:*":                                               3, // initech, hooli, gold
		"GET /rest/com/vmware/cis/tagging/category/id:*":                                          2, // Tenant, Billing
	}
	for name, calls := range map[string]map[string]int{"5 VMs": few, "9 VMs": many} {
		if !maps.Equal(calls, want) {
			t.Errorf("%s: calls %v, want %v", name, calls, want)
		}
	}
}

// TestTagReadFailureFailsThePoll: when the tags cannot be read the poll
// fails, rather than passing the VMs on to later rules (here a catch-all)
// and billing them to the wrong customer; the next poll logs in to the
// vAPI endpoint again. An expired vAPI session is renewed within the poll.
func TestTagReadFailureFailsThePoll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t)
	u, counter := s.countingProxy(t)
	s.URL = u
	st := s.tags(t)
	st.attach(t, s, "DC0_C0_RP0_VM0", "Tenant", "initech")
	src := newTagSource(t, s, []vcenter.TenantRule{
		{TagCategory: "Tenant"},
		{Name: `.`, Customer: "fallback"},
	})
	const (
		login   = "POST /rest/com/vmware/cis/session"
		check   = "POST /rest/com/vmware/cis/session?~action=get"
		list    = "POST /rest/com/vmware/cis/tagging/tag-association?~action=list-attached-tags-on-objects"
		getTag  = "GET /rest/com/vmware/cis/tagging/tag/id:*"
		getCat  = "GET /rest/com/vmware/cis/tagging/category/id:*"
		initech = "DC0_C0_RP0_VM0"
	)
	poll := func() (collector.Batch, map[string]int, error) {
		t.Helper()
		b, err := src.Collect(ctx, "2026-01-01T00:00:00Z", t0.Add(time.Hour))
		calls := counter.take()
		for name := range calls {
			if !strings.HasPrefix(name, "POST /rest") && !strings.HasPrefix(name, "GET /rest") {
				delete(calls, name) // the vim25 side is TestOneRetrievalPerPoll's
			}
		}
		return b, calls, err
	}
	owner := func(b collector.Batch) string {
		for _, r := range b.Records {
			if r.ResourceID == s.instanceUUID(t, initech) {
				return r.CustomerID
			}
		}
		return ""
	}
	counter.take()
	b, calls, err := poll()
	if err != nil || owner(b) != "initech" || !maps.Equal(calls, map[string]int{login: 1, list: 1, getTag: 1, getCat: 1}) {
		t.Fatalf("first poll: err %v, owner %q, vAPI calls %v", err, owner(b), calls)
	}

	counter.failOnce(list, http.StatusServiceUnavailable)
	b, _, err = poll()
	if err == nil || !strings.Contains(err.Error(), "list the tags of 5 VMs") || len(b.Records) != 0 {
		t.Fatalf("poll with the tag list failing: err %v, %d records; want an error and none", err, len(b.Records))
	}
	b, calls, err = poll()
	if err != nil || owner(b) != "initech" || !maps.Equal(calls, map[string]int{login: 1, list: 1, getTag: 1, getCat: 1}) {
		t.Fatalf("poll after the failure: err %v, owner %q, vAPI calls %v; want a new login", err, owner(b), calls)
	}

	counter.failOnce(check, http.StatusUnauthorized) // the session expired between polls
	b, calls, err = poll()
	if err != nil || owner(b) != "initech" || !maps.Equal(calls, map[string]int{check: 1, login: 1, list: 1, getTag: 1, getCat: 1}) {
		t.Fatalf("poll after the session expired: err %v, owner %q, vAPI calls %v; want a check and a new login", err, owner(b), calls)
	}
}
