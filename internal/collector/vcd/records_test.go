package vcd

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"
)

// eventSource is a Source with notifications configured but no consumer:
// the test hands it events as the consumer would.
func eventSource(t *testing.T, f *fakeVCD) *Source {
	t.Helper()
	cfg := testConfig(f)
	cfg.Notifications = &NotificationConfig{URL: "amqp://127.0.0.1:1/", Exchange: "unused", Queue: "unused"}
	s := newSource(t, cfg)
	s.startOnce.Do(func() {})
	return s
}

func (s *Source) inject(f *fakeVCD, kind eventKind, op, vm string, at time.Time, id string, reread bool) {
	e := event{ID: id, Type: eventPrefix + "vm/" + op, Kind: kind, VM: vm, At: at}
	if reread {
		f.mu.Lock()
		for _, r := range f.records[qtVM] {
			if r["id"] == "urn:vcloud:vm:"+vm {
				var rec vmRecord
				b, _ := jsonMarshal(r)
				_ = jsonUnmarshal(b, &rec)
				e.Rec = &rec
			}
		}
		f.mu.Unlock()
	}
	n := s.notifications
	n.mu.Lock()
	n.pending = append(n.pending, e)
	n.mu.Unlock()
}

// TestLateAndLostNotifications: a delete notified after the poll that no
// longer listed the VM still bills it up to its deletion; a VM that
// vanished without any delete is billed up to the last poll that saw it and
// reported; notifications of the provider's VMs are ignored and those of a
// VM that cannot be billed are reported.
func TestLateAndLostNotifications(t *testing.T) {
	t.Parallel()
	f := newFakeVCD(t)
	f.seed()
	s := eventSource(t, f)
	c0 := collect(t, s, "", t0).Next

	f.removeVM(vmWeb) // deleted at 00:50; the notification comes after the 01:00 poll
	b1 := collect(t, s, c0, t0.Add(time.Hour))
	if got := only(b1.Records, vmWeb); len(got) != 0 {
		t.Errorf("web01 billed before its deletion is known:\n%s", strings.Join(got, "\n"))
	}
	s.inject(f, kindDelete, "delete", vmWeb, t0.Add(50*time.Minute), "late-delete", false)
	f.removeVM(vmDB) // never notified
	b2 := collect(t, s, b1.Next, t0.Add(2*time.Hour))
	k, acme := "vcd:vcd01:"+vmWeb+":", " 00:00-00:50 acme 5a60 0001 allocation_model=payg"
	want := []string{
		k + "vm.vcpu:1767225600 vm.vcpu=2" + acme, k + "vm.memory_gb:1767225600 vm.memory_gb=4" + acme,
		k + "vm.powered_on:1767225600 vm.powered_on=1" + acme, k + "storage.gb:1767225600 storage.gb=40" + acme + " policy=Gold",
	}
	if d := diffLines(want, only(b2.Records, vmWeb, vmDB)); d != "" {
		t.Errorf("window 2 (-want +got):\n%s", d)
	}

	// Window 3: db01's deletion never notified; hooli's VM (no customer)
	// created and modified, the provider's VM modified, and a VM that could
	// not be re-read after its creation and is gone.
	hooliNew := f.vm("0e1d2c3b-0301-4a00-9000-000000000301", "hooli-new", orgHooli, vdcHooli, 1, 1024, 1024, "POWERED_ON", "Gold")
	f.add(qtVM, hooliNew)
	s.inject(f, kindCreate, "create", "0e1d2c3b-0301-4a00-9000-000000000301", t0.Add(130*time.Minute), "hooli-create", true)
	s.inject(f, kindModify, "modify", "0e1d2c3b-0301-4a00-9000-000000000301", t0.Add(131*time.Minute), "hooli-modify", true)
	s.inject(f, kindModify, "modify", vmInfra, t0.Add(140*time.Minute), "infra-modify", true)
	s.inject(f, kindCreate, "create", "0e1d2c3b-0302-4a00-9000-000000000302", t0.Add(150*time.Minute), "unreadable-create", false)
	b3 := collect(t, s, b2.Next, t0.Add(3*time.Hour))
	got := skipReasons(b3)
	wantSkips := map[string]string{
		"hooli-vm (" + vmHooli + ")":                       SkipNoCustomer,
		"hooli-new (0e1d2c3b-0301-4a00-9000-000000000301)": SkipNoCustomer, // from the poll
		vmDB:                                   SkipVanished,
		"0e1d2c3b-0302-4a00-9000-000000000302": SkipNoLevel,
	}
	if !maps.Equal(got, wantSkips) {
		t.Errorf("window 3 skips\n got %v\nwant %v", got, wantSkips)
	}
	if n := len(b3.Skipped); n != 4 {
		t.Errorf("%d skips in window 3, want 4 (one per resource): %v", n, b3.Skipped)
	}
	if got := only(b3.Records, vmDB, vmInfra); len(got) != 0 {
		t.Errorf("window 3 bills db01 or the provider's VM:\n%s", strings.Join(got, "\n"))
	}
	// The state keeps nothing of them.
	st, err := parseCursor(b3.Next)
	if err != nil || len(st.Gone) != 0 || len(st.VMs) != 2 || len(st.Seen) != 4 || len(st.SeenPrev) != 1 {
		t.Errorf("state after window 3: %+v, %v", st, err)
	}
}

var (
	jsonMarshal   = json.Marshal
	jsonUnmarshal = json.Unmarshal
)
