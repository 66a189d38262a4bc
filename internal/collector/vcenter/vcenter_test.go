package vcenter_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/vcenter"
)

// newSource is the source most tests poll: tenants by folder, by the
// Customer attribute, and hooli by resource pool.
func newSource(t *testing.T, s *sim) *vcenter.Source {
	t.Helper()
	return newTagSource(t, s, []vcenter.TenantRule{
		{Folder: "/DC0/vm/Tenants/{customer}"},
		{Attribute: "Customer"},
		{ResourcePool: "/DC0/host/DC0_C0/Resources", Customer: "hooli"},
	})
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// vmLines are the expected records of one VM over [from, to).
type vmLines struct {
	uuid, customer string
	vcpu, memGB    string
	on             string
	licences       []string
	provGB, usedGB string // on LocalDS_0 (datastore moref ds)
}

func (s *sim) expect(from, to time.Time, vms ...vmLines) []string {
	var out []string
	win := fmt.Sprintf("[%s,%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	b := from.Unix()
	for _, v := range vms {
		common := fmt.Sprintf("%s res=%s site=vc01 src=vcenter:vc01", win, v.uuid)
		line := func(metric, q, dims string, keyExtra string) {
			out = append(out, fmt.Sprintf("vcenter:vc01:%s:%s%s:%d %s %s=%s %s %s", v.uuid, metric, keyExtra, b, v.customer, metric, q, common, dims))
		}
		line("vm.vcpu", v.vcpu, "", "")
		line("vm.memory_gb", v.memGB, "", "")
		line("vm.powered_on", v.on, "", "")
		for _, l := range v.licences {
			line("licence."+l, "1", "", "")
		}
		dims := "datastore=LocalDS_0,policy=Gold"
		line("storage.gb", v.provGB, dims, ":"+s.ds.Value)
		line("storage.used_gb", v.usedGB, dims, ":"+s.ds.Value)
	}
	slices.Sort(out)
	return out
}

// firstPoll collects [cursor, to) from src, failing the test on an error,
// and returns the batch with the expected lines of the four tenant VMs as
// newSim makes them and the resource name under which the stray VM is
// skipped.
func (s *sim) firstPoll(t *testing.T, ctx context.Context, src *vcenter.Source, cursor collector.Cursor, to time.Time) (
	b collector.Batch, acme, globex, initech, hooli vmLines, strayID string,
) {
	t.Helper()
	b, err := src.Collect(ctx, cursor, to)
	if err != nil {
		t.Fatal(err)
	}
	acme = vmLines{uuid: s.instanceUUID(t, "DC0_H0_VM0"), customer: "acme", vcpu: "4", memGB: "8", on: "1",
		licences: []string{"windows"}, provGB: "40", usedGB: "10"}
	globex = vmLines{uuid: s.instanceUUID(t, "DC0_H0_VM1"), customer: "globex", vcpu: "2", memGB: "4", on: "1",
		provGB: "3.5", usedGB: "1.5"}
	initech = vmLines{uuid: s.instanceUUID(t, "DC0_C0_RP0_VM0"), customer: "initech", vcpu: "1", memGB: "2", on: "1",
		licences: []string{"rhel", "sql_standard"}, provGB: "5", usedGB: "5"}
	hooli = vmLines{uuid: s.instanceUUID(t, "DC0_C0_RP0_VM1"), customer: "hooli", vcpu: "1", memGB: "1", on: "0",
		provGB: "1", usedGB: "0.25"}
	strayID = "stray (" + s.vm(t, "stray").Reference().Value + ")"
	return b, acme, globex, initech, hooli, strayID
}

func skipReasons(b collector.Batch) map[string]string {
	out := map[string]string{}
	for _, s := range b.Skipped {
		out[s.Resource] = s.Reason
	}
	return out
}

// TestPollsFollowTheInventory polls a simulated vCenter three times with
// changes in between and checks every record.
func TestPollsFollowTheInventory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSim(t)
	src := newSource(t, s)

	// First poll: only the start of measurement.
	b0, err := src.Collect(ctx, "", t0.Add(123*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if len(b0.Records) != 0 || b0.Next != collector.Cursor("2026-01-01T00:00:00Z") {
		t.Fatalf("first poll = %d records, next %q; want none and the poll time", len(b0.Records), b0.Next)
	}

	t1 := t0.Add(time.Hour)
	b1, acme, globex, initech, hooli, strayID := s.firstPoll(t, ctx, src, b0.Next, t1)
	if diff := diffLines(s.expect(t0, t1, acme, globex, initech, hooli), lines(b1.Records)); diff != "" {
		t.Errorf("poll 1 records (-want +got):\n%s", diff)
	}
	if got := skipReasons(b1); len(got) != 1 || got[strayID] != vcenter.SkipNoCustomer {
		t.Errorf("poll 1 skipped %v, want only stray for no_customer", got)
	}
	if b1.Next != "2026-01-01T01:00:00Z" {
		t.Errorf("poll 1 next = %q", b1.Next)
	}

	// Collecting the same window again (a crash before the ack) gives the
	// same records, keys included.
	again, err := src.Collect(ctx, b0.Next, t1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffLines(lines(b1.Records), lines(again.Records)); diff != "" {
		t.Errorf("re-run of window 1 differs (-first +again):\n%s", diff)
	}

	// Changes: acme powered off, globex resized, hooli deleted.
	s.wait(t, must(s.vm(t, "DC0_H0_VM0").PowerOff(ctx))(t))
	s.reconfigure(t, "DC0_H0_VM1", 4, 16384, "")
	s.setStorage(t, "DC0_H0_VM1", 3*gib/2+512, 2*gib) // vcsim recomputes storage on reconfigure
	s.wait(t, must(s.vm(t, "DC0_C0_RP0_VM1").Destroy(ctx))(t))

	t2 := t1.Add(30 * time.Minute)
	b2, err := src.Collect(ctx, b1.Next, t2)
	if err != nil {
		t.Fatal(err)
	}
	acme.on = "0"
	globex.vcpu, globex.memGB = "4", "16"
	if diff := diffLines(s.expect(t1, t2, acme, globex, initech), lines(b2.Records)); diff != "" {
		t.Errorf("poll 2 records (-want +got):\n%s", diff)
	}

	// The window of poll 1 collected after the changes keeps its keys
	// (minus the deleted VM's): billingd keeps what it stored first.
	late, err := src.Collect(ctx, b0.Next, t1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffLines(keys(b1.Records, hooli.uuid), keys(late.Records, "")); diff != "" {
		t.Errorf("late re-run keys differ (-want +got):\n%s", diff)
	}
}

// keys returns the sorted keys of recs, leaving out the resource skip.
func keys(recs []collector.Record, skip string) []string {
	var out []string
	for _, r := range recs {
		if r.ResourceID != skip {
			out = append(out, r.Key)
		}
	}
	slices.Sort(out)
	return out
}

func TestEmptyWindowKeepsTheCursor(t *testing.T) {
	t.Parallel()
	// No vCenter at that address: an empty window must not even connect.
	src, err := vcenter.New("vc01", vcenter.Config{URL: "https://192.0.2.1/sdk", Username: "u",
		Password: collector.NewSecret("p", "test"), DefaultCustomer: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Collect(context.Background(), "2026-01-01T00:00:00Z", t0.Add(999*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 0 || b.Next != "2026-01-01T00:00:00Z" {
		t.Errorf("got %d records, next %q; want none and the same cursor", len(b.Records), b.Next)
	}
	if _, err := src.Collect(context.Background(), "yesterday", t0); err == nil {
		t.Error("a corrupt cursor was accepted")
	}
}

func TestWrongPasswordFailsWithoutLeakingIt(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	src, err := vcenter.New("vc01", vcenter.Config{
		URL: s.URL.String(), Username: "nobody", Password: collector.NewSecret("hunter2", "test"), Insecure: true,
		DefaultCustomer: "acme",
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Collect(context.Background(), "2026-01-01T00:00:00Z", t0.Add(time.Hour))
	if err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
}

// diffLines lists the lines only in want (-) and only in got (+); both sorted.
func diffLines(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			b.WriteString("- " + w + "\n")
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			b.WriteString("+ " + g + "\n")
		}
	}
	if b.Len() == 0 && len(want) != len(got) {
		return fmt.Sprintf("same lines, %d wanted, %d got (repeats)", len(want), len(got))
	}
	return b.String()
}
