package vcenter_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/billingd/billingd/internal/collector"
)

// sim is a vcsim inventory for one test:
//
//	/DC0/vm/Tenants/acme/DC0_H0_VM0        4 vCPU, 8 GB, Windows, on   → acme (folder rule)
//	/DC0/vm/Tenants/globex/DC0_H0_VM1      2 vCPU, 4 GB, Linux, on     → globex (folder rule)
//	/DC0/vm/DC0_C0_RP0_VM0  Customer=initech, Licences="SQL_Standard, rhel"
//	                                       1 vCPU, 2 GB, Linux, on     → initech (attribute rule)
//	/DC0/vm/DC0_C0_RP0_VM1  pool /DC0/host/DC0_C0/Resources
//	                                       1 vCPU, 1 GB, Linux, off    → hooli (resource pool rule)
//	/DC0/vm/stray           no rule matches                            → skipped
//	/DC0/vm/golden          a template                                 → ignored
//
// Every VM has storage on LocalDS_0 only (mapped to policy Gold), with
// sizes set exactly (vcsim's own are a few hundred bytes).
type sim struct {
	URL    *url.URL // without user info
	user   *url.Userinfo
	model  *simulator.Model
	client *govmomi.Client
	finder *find.Finder
	vms    map[string]*object.VirtualMachine
	uuid   map[string]string // VM name → instance UUID
	ds     types.ManagedObjectReference
}

const (
	gib      = int64(1) << 30
	sitename = "vc01"
)

var createMu sync.Mutex

// startSim starts vcsim's default vCenter inventory (VPX model).
func startSim(t *testing.T) *sim {
	t.Helper()
	ctx := context.Background()
	model := simulator.VPX()
	// Model.Create appends to a package-level variable of vcsim
	// (simulator.EvalLicense): models of parallel tests are created one at a time.
	createMu.Lock()
	err := model.Create()
	createMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(model.Remove)
	// A real user and password, so that a wrong password fails.
	model.Service.Listen = &url.URL{User: url.UserPassword("billing@vsphere.local", "s3cret")}
	// Serve the endpoints other simulator packages register, here vAPI
	// (vapi/simulator, imported by tags_test.go) for tags.
	model.Service.RegisterEndpoints = true
	srv := model.Service.NewServer()
	t.Cleanup(srv.Close)
	c, err := govmomi.NewClient(ctx, srv.URL, true)
	if err != nil {
		t.Fatal(err)
	}
	u := *srv.URL
	s := &sim{URL: &u, user: srv.URL.User, model: model, client: c, finder: find.NewFinder(c.Client, true),
		vms: map[string]*object.VirtualMachine{}, uuid: map[string]string{}}
	s.URL.User = nil
	dc, err := s.finder.DefaultDatacenter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.finder.SetDatacenter(dc)
	ds, err := s.finder.Datastore(ctx, "LocalDS_0")
	if err != nil {
		t.Fatal(err)
	}
	s.ds = ds.Reference()
	return s
}

// newSim starts vcsim with the inventory described at sim.
func newSim(t *testing.T) *sim {
	t.Helper()
	ctx := context.Background()
	s := startSim(t)
	c := s.client
	vmFolder := s.folder(t, "/DC0/vm")
	tenants := must(vmFolder.CreateFolder(ctx, "Tenants"))(t)
	for name, tenant := range map[string]string{"DC0_H0_VM0": "acme", "DC0_H0_VM1": "globex"} {
		f := must(s.folderOrCreate(ctx, tenants, tenant))(t)
		s.wait(t, must(f.MoveInto(ctx, []types.ManagedObjectReference{s.vm(t, name).Reference()}))(t))
	}
	s.createVM(t, "stray", "/DC0/host/DC0_H0/Resources")
	s.createVM(t, "golden", "/DC0/host/DC0_H0/Resources")
	s.wait(t, must(s.vm(t, "golden").PowerOff(ctx))(t))
	if err := s.vm(t, "golden").MarkAsTemplate(ctx); err != nil {
		t.Fatal(err)
	}

	cfm, err := object.GetCustomFieldsManager(c.Client)
	if err != nil {
		t.Fatal(err)
	}
	for attr, value := range map[string]string{"Customer": "initech", "Licences": "SQL_Standard, rhel"} {
		def := must(cfm.Add(ctx, attr, "VirtualMachine", nil, nil))(t)
		if err := cfm.Set(ctx, s.vm(t, "DC0_C0_RP0_VM0").Reference(), def.Key, value); err != nil {
			t.Fatal(err)
		}
	}

	s.reconfigure(t, "DC0_H0_VM0", 4, 8192, string(types.VirtualMachineGuestOsIdentifierWindows9Server64Guest))
	s.reconfigure(t, "DC0_H0_VM1", 2, 4096, string(types.VirtualMachineGuestOsIdentifierUbuntu64Guest))
	s.reconfigure(t, "DC0_C0_RP0_VM0", 1, 2048, "")
	s.reconfigure(t, "DC0_C0_RP0_VM1", 1, 1024, "")
	s.wait(t, must(s.vm(t, "DC0_C0_RP0_VM1").PowerOff(ctx))(t))
	s.setStorage(t, "DC0_H0_VM0", 10*gib, 30*gib)     // 40 GB provisioned, 10 used
	s.setStorage(t, "DC0_H0_VM1", 3*gib/2+512, 2*gib) // 3.5000004768 → 3.5, 1.5000004768 → 1.5
	s.setStorage(t, "DC0_C0_RP0_VM0", 5*gib, 0)       // thick: 5 and 5
	s.setStorage(t, "DC0_C0_RP0_VM1", gib/4, 3*gib/4) // 1 and 0.25
	s.setStorage(t, "stray", gib, gib)                // skipped anyway
	return s
}

// must(f())(t) returns f's value, failing the test on f's error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (s *sim) folder(t *testing.T, path string) *object.Folder {
	t.Helper()
	return must(s.finder.Folder(context.Background(), path))(t)
}

func (s *sim) folderOrCreate(ctx context.Context, parent *object.Folder, name string) (*object.Folder, error) {
	return parent.CreateFolder(ctx, name)
}

func (s *sim) vm(t *testing.T, name string) *object.VirtualMachine {
	t.Helper()
	if vm, ok := s.vms[name]; ok {
		return vm
	}
	vm := must(s.finder.VirtualMachine(context.Background(), name))(t)
	s.vms[name] = vm
	return vm
}

func (s *sim) wait(t *testing.T, task *object.Task) {
	t.Helper()
	if err := task.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (s *sim) createVM(t *testing.T, name, pool string) {
	t.Helper()
	ctx := context.Background()
	rp := must(s.finder.ResourcePool(ctx, pool))(t)
	host := must(s.finder.HostSystem(ctx, "DC0_H0"))(t)
	spec := types.VirtualMachineConfigSpec{
		Name: name, GuestId: string(types.VirtualMachineGuestOsIdentifierOtherGuest64), NumCPUs: 1, MemoryMB: 512,
		Files: &types.VirtualMachineFileInfo{VmPathName: "[LocalDS_0]"},
	}
	task := must(s.folder(t, "/DC0/vm").CreateVM(ctx, spec, rp, host))(t)
	info := must(task.WaitForResult(ctx))(t)
	vm := object.NewVirtualMachine(s.client.Client, info.Result.(types.ManagedObjectReference))
	s.wait(t, must(vm.PowerOn(ctx))(t))
	s.vms[name] = vm
}

func (s *sim) reconfigure(t *testing.T, name string, cpus, memMB int32, guest string) {
	t.Helper()
	s.wait(t, must(s.vm(t, name).Reconfigure(context.Background(), types.VirtualMachineConfigSpec{
		NumCPUs: cpus, MemoryMB: int64(memMB), GuestId: guest,
	}))(t))
}

// setStorage replaces the VM's per-datastore usage with one entry on LocalDS_0.
func (s *sim) setStorage(t *testing.T, name string, committed, uncommitted int64) {
	t.Helper()
	ctx := s.model.Service.Context
	obj := ctx.Map.Get(s.vm(t, name).Reference()).(*simulator.VirtualMachine)
	ctx.WithLock(obj, func() {
		obj.Storage = &types.VirtualMachineStorageInfo{Timestamp: time.Now(), PerDatastoreUsage: []types.VirtualMachineUsageOnDatastore{
			{Datastore: s.ds, Committed: committed, Uncommitted: uncommitted},
		}}
	})
}

// instanceUUID reads a VM's instance UUID through the API.
func (s *sim) instanceUUID(t *testing.T, name string) string {
	t.Helper()
	if u, ok := s.uuid[name]; ok {
		return u
	}
	var m mo.VirtualMachine
	if err := s.vm(t, name).Properties(context.Background(), s.vm(t, name).Reference(), []string{"config.instanceUuid"}, &m); err != nil {
		t.Fatal(err)
	}
	s.uuid[name] = m.Config.InstanceUuid
	return m.Config.InstanceUuid
}

// lines renders records one per line, sorted, for exact comparison:
// key customer metric=quantity [start,end) dims.
func lines(recs []collector.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		var dims []string
		for k, v := range r.Dimensions {
			dims = append(dims, k+"="+v)
		}
		slices.Sort(dims)
		out[i] = fmt.Sprintf("%s %s %s=%s [%s,%s) res=%s site=%s src=%s %s", r.Key, r.CustomerID, r.Metric, r.Quantity,
			r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339), r.ResourceID, r.Site, r.Source, strings.Join(dims, ","))
	}
	slices.Sort(out)
	return out
}
