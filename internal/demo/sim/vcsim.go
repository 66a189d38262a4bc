package sim

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/vcenter"
	"github.com/billingd/billingd/internal/demo"
)

// Simulated vCenter layout: govmomi's vcsim VPX model with three local
// datastores, one per storage policy, and a folder per customer under
// /DC0/vm/Tenants, which the collector's tenant rule maps to customers.
const (
	vcSite       = "vc01"
	vcUser       = "billing@vsphere.local"
	vcPassword   = "demo-only"
	tenantFolder = "/DC0/vm/Tenants"
	gib          = int64(1) << 30
)

var datastores = map[string]string{"Gold": "LocalDS_0", "Silver": "LocalDS_1", "Bronze": "LocalDS_2"}

// vcsimMu serialises vcsim's Model.Create, which appends to a package
// variable of the simulator.
var vcsimMu sync.Mutex

// simVCenter is a running vcsim and an admin client of it, used to make
// the month's changes; the collector logs in on its own, as in production.
type simVCenter struct {
	model   *simulator.Model
	server  *simulator.Server
	client  *govmomi.Client
	finder  *find.Finder
	pool    *object.ResourcePool
	host    *object.HostSystem
	folders map[string]*object.Folder // customer → tenant folder
	ds      map[string]types.ManagedObjectReference
	vms     map[string]*object.VirtualMachine
}

func startVCenter(ctx context.Context) (_ *simVCenter, err error) {
	model := simulator.VPX()
	model.Datastore = len(datastores)
	model.Machine = 0 // only the demo's VMs
	vcsimMu.Lock()
	err = model.Create()
	vcsimMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("vcsim: %w", err)
	}
	// Plain HTTP on loopback: TLS would only slow the month's ~750 polls.
	model.Service.TLS = nil
	model.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(vcUser, vcPassword)}
	v := &simVCenter{model: model, server: model.Service.NewServer(), folders: map[string]*object.Folder{},
		ds: map[string]types.ManagedObjectReference{}, vms: map[string]*object.VirtualMachine{}}
	defer func() {
		if err != nil {
			v.close()
		}
	}()
	if v.client, err = govmomi.NewClient(ctx, v.server.URL, true); err != nil {
		return nil, fmt.Errorf("vcsim: %w", err)
	}
	v.finder = find.NewFinder(v.client.Client, true)
	dc, err := v.finder.DefaultDatacenter(ctx)
	if err != nil {
		return nil, err
	}
	v.finder.SetDatacenter(dc)
	for policy, name := range datastores {
		ds, err := v.finder.Datastore(ctx, name)
		if err != nil {
			return nil, err
		}
		v.ds[policy] = ds.Reference()
	}
	if v.pool, err = v.finder.ResourcePool(ctx, "/DC0/host/DC0_H0/Resources"); err != nil {
		return nil, err
	}
	if v.host, err = v.finder.HostSystem(ctx, "DC0_H0"); err != nil {
		return nil, err
	}
	vmFolder, err := v.finder.Folder(ctx, "/DC0/vm")
	if err != nil {
		return nil, err
	}
	tenants, err := vmFolder.CreateFolder(ctx, "Tenants")
	if err != nil {
		return nil, err
	}
	for _, id := range demo.CustomerIDs() {
		if v.folders[id], err = tenants.CreateFolder(ctx, id); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// source is the real vCenter collector source, configured as a provider
// would: a tenant folder per customer, a storage policy per datastore.
func (v *simVCenter) source() (*vcenter.Source, error) {
	u := *v.server.URL
	u.User = nil
	policies := map[string]string{}
	for policy, ds := range datastores {
		policies[ds] = policy
	}
	return vcenter.New(vcSite, vcenter.Config{
		URL: u.String(), Username: vcUser, Password: collector.NewSecret(vcPassword, "demo"),
		Site: vcSite, StoragePolicies: policies, Reservations: true,
		Tenants: []vcenter.TenantRule{{Folder: tenantFolder + "/{customer}"}},
	})
}

// instanceUUID is a VM's fixed instance UUID: the collector's idempotency
// keys contain it, so a second demo run sends the same keys and billingd
// stores nothing twice.
func instanceUUID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("billingd-demo/"+name)).String()
}

// create makes and powers on a VM as spec says.
func (v *simVCenter) create(ctx context.Context, s vmSpec) error {
	guest := types.VirtualMachineGuestOsIdentifierUbuntu64Guest
	if s.windows {
		guest = types.VirtualMachineGuestOsIdentifierWindows2019srv_64Guest
	}
	task, err := v.folders[s.customer].CreateVM(ctx, types.VirtualMachineConfigSpec{
		Name: s.name, GuestId: string(guest), NumCPUs: s.cpu, MemoryMB: int64(s.memGB) * 1024,
		InstanceUuid: instanceUUID(s.name), MemoryAllocation: &types.ResourceAllocationInfo{Reservation: types.NewInt64(s.reservedGB * 1024)},
		Files: &types.VirtualMachineFileInfo{VmPathName: "[" + datastores[s.policy] + "]"},
	}, v.pool, v.host)
	if err != nil {
		return fmt.Errorf("create %s: %w", s.name, err)
	}
	info, err := task.WaitForResult(ctx)
	if err != nil {
		return fmt.Errorf("create %s: %w", s.name, err)
	}
	vm := object.NewVirtualMachine(v.client.Client, info.Result.(types.ManagedObjectReference))
	v.vms[s.name] = vm
	if err := done(vm.PowerOn(ctx)); err != nil {
		return fmt.Errorf("power on %s: %w", s.name, err)
	}
	v.setStorage(s)
	return nil
}

// update reconfigures a VM's vCPU and memory and sets its disk sizes.
func (v *simVCenter) update(ctx context.Context, s vmSpec) error {
	if err := done(v.vms[s.name].Reconfigure(ctx, types.VirtualMachineConfigSpec{
		NumCPUs: s.cpu, MemoryMB: int64(s.memGB) * 1024,
	})); err != nil {
		return fmt.Errorf("reconfigure %s: %w", s.name, err)
	}
	v.setStorage(s) // vcsim recomputes storage on reconfigure
	return nil
}

func (v *simVCenter) powerOff(ctx context.Context, name string) error {
	return done(v.vms[name].PowerOff(ctx))
}

func (v *simVCenter) destroy(ctx context.Context, s vmSpec) error {
	vm := v.vms[s.name]
	if !s.off {
		if err := done(vm.PowerOff(ctx)); err != nil {
			return err
		}
	}
	delete(v.vms, s.name)
	return done(vm.Destroy(ctx))
}

// setStorage sets the VM's usage on its datastore exactly: vcsim's own
// figures are a few hundred bytes of simulated files.
func (v *simVCenter) setStorage(s vmSpec) {
	ctx := v.model.Service.Context
	obj := ctx.Map.Get(v.vms[s.name].Reference()).(*simulator.VirtualMachine)
	ctx.WithLock(obj, func() {
		obj.Storage = &types.VirtualMachineStorageInfo{Timestamp: time.Now(), PerDatastoreUsage: []types.VirtualMachineUsageOnDatastore{{
			Datastore: v.ds[s.policy], Committed: s.usedGB * gib, Uncommitted: (s.diskGB - s.usedGB) * gib,
		}}}
	})
}

func (v *simVCenter) close() {
	if v.client != nil {
		_ = v.client.Logout(context.Background())
	}
	v.server.Close()
	v.model.Remove()
}

// done waits for a task of the in-process vcsim, which finishes at once.
func done(t *object.Task, err error) error {
	if err != nil {
		return err
	}
	return t.Wait(context.Background())
}
