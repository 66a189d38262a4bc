package vcd

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Query types read at every poll, one query each (continued page by page).
// Record fields are those of the vCloud API schema's QueryResult*RecordType
// (attribute names are the JSON keys in the records format), as mirrored in
// github.com/vmware/go-vcloud-director types/v56/types.go
// (QueryResultOrgRecordType, QueryResultOrgVdcRecordType,
// QueryResultVMRecordType, QueryResultEdgeGatewayRecordType) and in
// vmware-archive/vcd-ext-sdk's bindings
// (QueryResultAdminVMRecordType.d.ts,
// QueryResultAdminAllocatedExternalAddressRecordType.d.ts).
const (
	qtOrg        = "organization"
	qtVdc        = "adminOrgVdc"
	qtVM         = "adminVM"
	qtEdge       = "edgeGateway"
	qtExternalIP = "adminAllocatedExternalAddress"
	// Templates in catalogs are VMs to the query service too; not billed here.
	vmFilter = "isVAppTemplate==false"
)

// optInt is a number that may be missing, null, or (as in some versions'
// JSON, e.g. totalStorageAllocatedMb) a string.
type optInt struct {
	V   int64
	OK  bool
	Bad string // a value that is not an integer, for the skip
}

func (n *optInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		n.V, n.OK = i, true
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
		n.V, n.OK = int64(f), true
		return nil
	}
	n.Bad = s
	return nil
}

type orgRecord struct {
	Href        string `json:"href"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	IsEnabled   bool   `json:"isEnabled"`
}

type vdcRecord struct {
	Href               string `json:"href"`
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Org                string `json:"org"` // href of the org
	OrgName            string `json:"orgName"`
	AllocationModel    string `json:"allocationModel"`
	CPUAllocationMhz   optInt `json:"cpuAllocationMhz"`
	MemoryAllocationMB optInt `json:"memoryAllocationMB"`
	StorageLimitMB     optInt `json:"storageLimitMB"`
	// What the VDC's VMs use of its allocation: in the adminOrgVdc query
	// record of the VCD versions billingd was tried against (API 36–38);
	// a VCD that leaves them out gets no usage records, only allocation.
	CPUUsedMhz   optInt `json:"cpuUsedMhz"`
	MemoryUsedMB optInt `json:"memoryUsedMB"`
}

type vmRecord struct {
	Href                    string `json:"href"`
	ID                      string `json:"id"`
	Name                    string `json:"name"`
	Org                     string `json:"org"`
	Vdc                     string `json:"vdc"`
	Status                  string `json:"status"` // POWERED_ON, POWERED_OFF, SUSPENDED, …
	StorageProfileName      string `json:"storageProfileName"`
	DateCreated             string `json:"dateCreated"`
	NumberOfCpus            optInt `json:"numberOfCpus"`
	MemoryMB                optInt `json:"memoryMB"`
	TotalStorageAllocatedMb optInt `json:"totalStorageAllocatedMb"`
	IsVAppTemplate          bool   `json:"isVAppTemplate"`
	IsDeleted               bool   `json:"isDeleted"`
}

type edgeRecord struct {
	Href       string `json:"href"`
	ID         string `json:"id"`
	Name       string `json:"name"`
	Vdc        string `json:"vdc"`
	OrgVdcName string `json:"orgVdcName"`
}

type externalIPRecord struct {
	IPAddress string `json:"ipAddress"`
	Network   string `json:"network"`
	Org       string `json:"org"`
}

// snapshot is what one poll read.
type snapshot struct {
	orgs  map[string]orgRecord // by org UUID
	vdcs  map[string]vdcRecord // by VDC UUID
	vms   []vmRecord
	edges []edgeRecord
	ips   map[string]int64 // allocated external addresses by org UUID
}

// read runs the five queries of a poll.
func read(ctx context.Context, c *client) (*snapshot, error) {
	s := &snapshot{orgs: map[string]orgRecord{}, vdcs: map[string]vdcRecord{}, ips: map[string]int64{}}
	steps := []struct {
		typ, filter string
		each        func(json.RawMessage) error
	}{
		{qtOrg, "", func(b json.RawMessage) error {
			var r orgRecord
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			s.orgs[uuidOf(r.ID, r.Href)] = r
			return nil
		}},
		{qtVdc, "", func(b json.RawMessage) error {
			var r vdcRecord
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			s.vdcs[uuidOf(r.ID, r.Href)] = r
			return nil
		}},
		{qtVM, vmFilter, func(b json.RawMessage) error {
			var r vmRecord
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			s.vms = append(s.vms, r)
			return nil
		}},
		{qtEdge, "", func(b json.RawMessage) error {
			var r edgeRecord
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			s.edges = append(s.edges, r)
			return nil
		}},
		{qtExternalIP, "", func(b json.RawMessage) error {
			var r externalIPRecord
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			s.ips[uuidOf("", r.Org)]++
			return nil
		}},
	}
	for _, st := range steps {
		if err := c.query(ctx, st.typ, st.filter, func(b json.RawMessage) error {
			if err := st.each(b); err != nil {
				return fmt.Errorf("query %s: record: %w", st.typ, err)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// lookupVM reads one VM by id, for a notification (nil when it is gone).
func lookupVM(ctx context.Context, c *client, vmUUID string) (*vmRecord, error) {
	var found *vmRecord
	err := c.query(ctx, qtVM, "id==urn:vcloud:vm:"+vmUUID, func(b json.RawMessage) error {
		var r vmRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if uuidOf(r.ID, r.Href) == vmUUID {
			found = &r
		}
		return nil
	})
	return found, err
}

// uuidOf returns the UUID an entity id (urn:vcloud:vm:<uuid>) or href
// (https://…/api/vApp/vm-<uuid>, …/api/admin/org/<uuid>) names.
func uuidOf(id, href string) string {
	s := id
	if s == "" {
		s = href
	}
	s = strings.TrimRight(s, "/")
	if i := strings.LastIndexAny(s, "/:"); i >= 0 {
		s = s[i+1:]
	}
	for _, p := range []string{"vm-", "vapp-", "vappTemplate-"} {
		s = strings.TrimPrefix(s, p)
	}
	return strings.ToLower(s)
}

// parseTime reads VCD's timestamps (2026-01-01T00:10:00.000Z, or with an
// offset); the zero time when empty or malformed.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
