package vcenter

import (
	"context"
	"fmt"
	"strings"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

// vmProperties are the VM properties one poll reads.
var vmProperties = []string{
	"name", "parent", "parentVApp", "resourcePool",
	"config.template", "config.instanceUuid",
	"config.hardware.numCPU", "config.hardware.memoryMB",
	"config.memoryAllocation.reservation", "config.cpuAllocation.reservation",
	"config.guestId", "guest.guestFamily",
	"runtime.powerState",
	"storage.perDatastoreUsage",
	"customValue",
}

// entityTypes are read for their name and parent only, to build the
// inventory paths of folders and resource pools and to name datastores.
var entityTypes = []string{
	"Datacenter", "Folder", "ResourcePool", "VirtualApp",
	"ComputeResource", "ClusterComputeResource", "Datastore",
}

// entity is a named node of the inventory tree.
type entity struct {
	name   string
	parent types.ManagedObjectReference // zero at the top of the view
}

// vmInfo is one VM as read. The has* flags tell a missing property from a
// zero value: an inaccessible or orphaned VM has no config.
type vmInfo struct {
	ref               types.ManagedObjectReference
	name              string
	parent, pool      types.ManagedObjectReference
	template          bool
	instanceUUID      string
	numCPU, memoryMB  int32
	hasCPU, hasMemory bool
	// reservations: memory in MB, CPU in MHz; has* false where vSphere gave none
	memoryReservationMB, cpuReservationMHz  int64
	hasMemoryReservation, hasCPUReservation bool
	guestID, guestFamily                    string
	powerState                              types.VirtualMachinePowerState
	storage                                 []types.VirtualMachineUsageOnDatastore
	customValues                            map[int32]string
	problems                                []string // properties of an unexpected type
}

// snapshot is the inventory one poll read.
type snapshot struct {
	entities map[types.ManagedObjectReference]entity
	vms      []vmInfo
	fields   map[int32]string   // custom field key → name
	tags     map[string][]vmTag // VM managed object id → attached tags; read only for tag rules
}

// retrieve reads every VM, the tree above them and the custom field names
// in one RetrievePropertiesEx (continued page by page for large inventories)
// over a container view of the whole inventory.
func retrieve(ctx context.Context, c *vim25.Client) (*snapshot, error) {
	kinds := append([]string{"VirtualMachine"}, entityTypes...)
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, kinds, true)
	if err != nil {
		return nil, fmt.Errorf("create container view: %w", err)
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()

	spec := types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{
			Obj:       v.Reference(),
			Skip:      types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "ContainerView", Path: "view"}},
		}},
		PropSet: []types.PropertySpec{{Type: "VirtualMachine", PathSet: vmProperties}},
	}
	for _, t := range entityTypes {
		spec.PropSet = append(spec.PropSet, types.PropertySpec{Type: t, PathSet: []string{"name", "parent"}})
	}
	if cfm := c.ServiceContent.CustomFieldsManager; cfm != nil {
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: *cfm})
		spec.PropSet = append(spec.PropSet, types.PropertySpec{Type: cfm.Type, PathSet: []string{"field"}})
	}
	res, err := property.DefaultCollector(c).RetrieveProperties(ctx, types.RetrieveProperties{
		SpecSet: []types.PropertyFilterSpec{spec},
	})
	if err != nil {
		return nil, fmt.Errorf("retrieve properties: %w", err)
	}
	return parse(res.Returnval), nil
}

// parse turns the retrieved content into a snapshot. It never fails: a
// property of an unexpected type is noted on its VM, which is then skipped.
func parse(content []types.ObjectContent) *snapshot {
	s := &snapshot{entities: map[types.ManagedObjectReference]entity{}, fields: map[int32]string{}}
	for _, oc := range content {
		switch oc.Obj.Type {
		case "VirtualMachine":
			s.vms = append(s.vms, parseVM(oc))
		case "CustomFieldsManager":
			for _, p := range oc.PropSet {
				if defs, ok := p.Val.(types.ArrayOfCustomFieldDef); ok && p.Name == "field" {
					for _, d := range defs.CustomFieldDef {
						s.fields[d.Key] = d.Name
					}
				}
			}
		default:
			var e entity
			for _, p := range oc.PropSet {
				switch v := p.Val.(type) {
				case string:
					if p.Name == "name" {
						e.name = v
					}
				case types.ManagedObjectReference:
					if p.Name == "parent" {
						e.parent = v
					}
				}
			}
			s.entities[oc.Obj] = e
		}
	}
	return s
}

func parseVM(oc types.ObjectContent) vmInfo {
	vm := vmInfo{ref: oc.Obj, customValues: map[int32]string{}}
	var vapp types.ManagedObjectReference
	for _, p := range oc.PropSet {
		ok := true
		switch p.Name {
		case "name":
			vm.name, ok = p.Val.(string)
		case "parent":
			vm.parent, ok = p.Val.(types.ManagedObjectReference)
		case "parentVApp":
			vapp, ok = p.Val.(types.ManagedObjectReference)
		case "resourcePool":
			vm.pool, ok = p.Val.(types.ManagedObjectReference)
		case "config.template":
			vm.template, ok = p.Val.(bool)
		case "config.instanceUuid":
			vm.instanceUUID, ok = p.Val.(string)
		case "config.hardware.numCPU":
			vm.numCPU, ok = p.Val.(int32)
			vm.hasCPU = ok
		case "config.hardware.memoryMB":
			vm.memoryMB, ok = p.Val.(int32)
			vm.hasMemory = ok
		case "config.memoryAllocation.reservation":
			vm.memoryReservationMB, ok = p.Val.(int64)
			vm.hasMemoryReservation = ok
		case "config.cpuAllocation.reservation":
			vm.cpuReservationMHz, ok = p.Val.(int64)
			vm.hasCPUReservation = ok
		case "config.guestId":
			vm.guestID, ok = p.Val.(string)
		case "guest.guestFamily":
			vm.guestFamily, ok = p.Val.(string)
		case "runtime.powerState":
			vm.powerState, ok = p.Val.(types.VirtualMachinePowerState)
		case "storage.perDatastoreUsage":
			var a types.ArrayOfVirtualMachineUsageOnDatastore
			a, ok = p.Val.(types.ArrayOfVirtualMachineUsageOnDatastore)
			vm.storage = a.VirtualMachineUsageOnDatastore
		case "customValue":
			var a types.ArrayOfCustomFieldValue
			a, ok = p.Val.(types.ArrayOfCustomFieldValue)
			for _, cv := range a.CustomFieldValue {
				if sv, isString := cv.(*types.CustomFieldStringValue); isString {
					vm.customValues[sv.Key] = sv.Value
				}
			}
		}
		if !ok {
			vm.problems = append(vm.problems, fmt.Sprintf("%s has type %T", p.Name, p.Val))
		}
	}
	if vm.parent.Value == "" {
		vm.parent = vapp // a VM in a vApp has no folder; the vApp's path stands in
	}
	return vm
}

// path returns the inventory path of ref, e.g. /DC1/vm/Tenants/acme, or ""
// when ref is not in the snapshot. Names come escaped by vSphere ('/' as
// %2f), so a path splits on '/' unambiguously.
func (s *snapshot) path(ref types.ManagedObjectReference) string {
	var names []string
	for depth := 0; ref.Value != "" && depth < 256; depth++ {
		e, ok := s.entities[ref]
		if !ok {
			break // the root folder, above the view's contents
		}
		names = append(names, e.name)
		ref = e.parent
	}
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	for i := len(names) - 1; i >= 0; i-- {
		b.WriteString("/")
		b.WriteString(names[i])
	}
	return b.String()
}
