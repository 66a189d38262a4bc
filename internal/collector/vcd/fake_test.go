package vcd

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
)

// fakeVCD serves the VCD endpoints the source uses, with bodies shaped like
// a VCD 10.5 cell's (API 38.1) JSON answers: CloudAPI provider sessions,
// the OAuth token endpoint of API tokens, and typed queries in the records
// format with paging. Records carry the attributes of the vCloud API
// schema's QueryResult*RecordType (see inventory.go for the sources).
type fakeVCD struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	records  map[string][]map[string]any // by query type
	tokens   map[string]bool
	logins   int
	requests map[string]int // "query <type>" per page, "login"
	pageSize int            // the server's cap, like VCD's restapi.queryservice.maxPageSize
}

const (
	fakeUser     = "billing@System"
	fakePassword = "vcd-s3cret-pw"
	fakeAPIToken = "vcd-api-refresh-token-0123456789"
	fakeVersion  = "38.1"
)

func newFakeVCD(t *testing.T) *fakeVCD {
	t.Helper()
	f := &fakeVCD{t: t, records: map[string][]map[string]any{}, tokens: map[string]bool{}, requests: map[string]int{}, pageSize: 128}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cloudapi/1.0.0/sessions/provider", f.session)
	mux.HandleFunc("POST /oauth/provider/token", f.oauth)
	mux.HandleFunc("GET /api/query", f.query)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func vcdError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"minorErrorCode": code, "message": msg, "stackTrace": nil})
}

func (f *fakeVCD) newToken() string {
	f.logins++
	tok := fmt.Sprintf("eyJhbGciOiJSUzI1NiJ9.fake-%d", f.logins)
	f.tokens[tok] = true
	return tok
}

func (f *fakeVCD) session(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests["login"]++
	if !strings.Contains(r.Header.Get("Accept"), "version="+fakeVersion) {
		vcdError(w, http.StatusNotAcceptable, "NOT_ACCEPTABLE", "The request has invalid accept header: Invalid API version requested")
		return
	}
	u, p, ok := r.BasicAuth()
	if !ok || u != fakeUser || p != fakePassword {
		vcdError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid credentials")
		return
	}
	w.Header().Set(accessTokenHeader, f.newToken())
	w.Header().Set("Content-Type", "application/json;version="+fakeVersion)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "urn:vcloud:session:7f9a1f5c-6a2e-4c1e-9d0b-2f5f1c3a9e11", "site": map[string]any{"name": "vcd01", "id": "urn:vcloud:site:1"},
		"user": map[string]any{"name": "billing", "id": "urn:vcloud:user:5e0a"}, "org": map[string]any{"name": "System", "id": "urn:vcloud:org:a93c"},
		"operatingOrg": map[string]any{"name": "System", "id": "urn:vcloud:org:a93c"}, "roles": []string{"System Administrator"},
		"sessionIdleTimeoutMinutes": 30,
	})
}

func (f *fakeVCD) oauth(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests["login"]++
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != fakeAPIToken {
		vcdError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid_grant")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": f.newToken(), "token_type": "Bearer", "expires_in": 2592000, "refresh_token": nil})
}

func (f *fakeVCD) query(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		vcdError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Either no security context or the session has expired")
		return
	}
	if r.Header.Get("Accept") != "application/*+json;version="+fakeVersion {
		vcdError(w, http.StatusNotAcceptable, "NOT_ACCEPTABLE", "The request has invalid accept header")
		return
	}
	q := r.URL.Query()
	typ := q.Get("type")
	f.requests["query "+typ]++
	if q.Get("format") != "records" {
		vcdError(w, http.StatusBadRequest, "BAD_REQUEST", "format")
		return
	}
	all := f.records[typ]
	var recs []map[string]any
	for _, rec := range all {
		switch flt := q.Get("filter"); {
		case flt == "":
		case flt == "isVAppTemplate==false":
			if rec["isVAppTemplate"] == true {
				continue
			}
		case strings.HasPrefix(flt, "id=="):
			if rec["id"] != strings.TrimPrefix(flt, "id==") {
				continue
			}
		default:
			vcdError(w, http.StatusBadRequest, "BAD_REQUEST", "unsupported filter "+flt)
			return
		}
		recs = append(recs, rec)
	}
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("pageSize"))
	size = min(size, f.pageSize)
	if page < 1 || size < 1 {
		vcdError(w, http.StatusBadRequest, "BAD_REQUEST", "page")
		return
	}
	from, to := min((page-1)*size, len(recs)), min(page*size, len(recs))
	self := fmt.Sprintf("%s/api/query?type=%s&page=%d&pageSize=%d&format=records", f.URL, typ, page, size)
	links := []map[string]any{{"rel": "alternate", "type": "application/vnd.vmware.vcloud.query.references+json", "href": strings.Replace(self, "records", "references", 1)}}
	if to < len(recs) {
		links = append(links, map[string]any{"rel": "nextPage", "type": "application/vnd.vmware.vcloud.query.records+json",
			"href": fmt.Sprintf("%s/api/query?type=%s&page=%d&pageSize=%d&format=records", f.URL, typ, page+1, size)})
	}
	w.Header().Set("Content-Type", "application/vnd.vmware.vcloud.query.records+json;version="+fakeVersion)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"otherAttributes": map[string]any{}, "link": links, "href": self,
		"type": "application/vnd.vmware.vcloud.query.records+json", "name": typ,
		"page": page, "pageSize": size, "total": len(recs), "record": recs[from:to],
	})
}

// expireSessions forgets every token, as a VCD restart or idle timeout does.
func (f *fakeVCD) expireSessions() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

func (f *fakeVCD) takeRequests() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = map[string]int{}
	return out
}

func (f *fakeVCD) addOrg(uuid, name string) {
	f.add(qtOrg, map[string]any{
		"_type": "QueryResultOrgRecordType", "otherAttributes": map[string]any{},
		"href": f.URL + "/api/org/" + uuid, "name": name, "displayName": name + " Ltd", "isEnabled": true, "isReadOnly": false,
		"canPublishCatalogs": false, "deployedVMQuota": 0, "storedVMQuota": 0, "numberOfCatalogs": 1, "numberOfVdcs": 1,
		"numberOfVApps": 2, "numberOfGroups": 0, "numberOfDisks": 0,
	})
}

// addVdc adds an org VDC; allocation pool VDCs get the given allocations.
func (f *fakeVCD) addVdc(uuid, name, orgUUID, orgName, model string, cpuMhz, memMB, storMB any) {
	f.add(qtVdc, map[string]any{
		"_type": "QueryResultAdminVdcRecordType", "otherAttributes": map[string]any{},
		"href": f.URL + "/api/vdc/" + uuid, "name": name, "org": f.URL + "/api/org/" + orgUUID, "orgName": orgName,
		"allocationModel": model, "isEnabled": true, "isBusy": false, "status": "READY",
		"cpuAllocationMhz": cpuMhz, "cpuLimitMhz": cpuMhz, "cpuUsedMhz": 4000,
		"memoryAllocationMB": memMB, "memoryLimitMB": memMB, "memoryUsedMB": 8192,
		"storageLimitMB": storMB, "storageUsedMB": 61440, "numberOfVMs": 2, "numberOfRunningVMs": 1,
		"providerVdcName": "pvdc-gold", "providerVdc": f.URL + "/api/admin/providervdc/0b7c", "vcName": "vc01",
		"networkPool": f.URL + "/api/admin/extension/networkPool/2c1d", "isThinProvisioned": true, "isFastProvisioned": false,
	})
}

// vm returns an adminVM record; change fields before adding.
func (f *fakeVCD) vm(uuid, name, orgUUID, vdcUUID string, cpus, memMB, storMB any, status, policy string) map[string]any {
	return map[string]any{
		"_type": "QueryResultAdminVMRecordType", "otherAttributes": map[string]any{},
		"href": f.URL + "/api/vApp/vm-" + uuid, "id": "urn:vcloud:vm:" + uuid, "name": name,
		"containerName": "vapp-" + name, "container": f.URL + "/api/vApp/vapp-0f0e" + uuid[4:],
		"org": f.URL + "/api/org/" + orgUUID, "vdc": f.URL + "/api/vdc/" + vdcUUID, "vdcName": "vdc",
		"numberOfCpus": cpus, "memoryMB": memMB, "totalStorageAllocatedMb": storMB, "storageProfileName": policy,
		"status": status, "guestOs": "Ubuntu Linux (64-bit)", "isVAppTemplate": false, "isDeleted": false,
		"isDeployed": status == "POWERED_ON", "isPublished": false, "isVdcEnabled": true, "hardwareVersion": 19,
		"vmToolsVersion": 12352, "moref": "vm-" + uuid[:4], "vc": f.URL + "/api/admin/extension/vimServer/5d1e",
		"hostName": "esx01.example.net", "dateCreated": "2025-12-01T10:00:00.000Z", "networkName": "tenant-net",
	}
}

func (f *fakeVCD) add(typ string, rec map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[typ] = append(f.records[typ], rec)
}

func (f *fakeVCD) addEdge(uuid, name, vdcUUID string) {
	f.add(qtEdge, map[string]any{
		"_type": "QueryResultEdgeGatewayRecordType", "otherAttributes": map[string]any{},
		"href": f.URL + "/api/admin/edgeGateway/" + uuid, "name": name, "vdc": f.URL + "/api/vdc/" + vdcUUID,
		"orgVdcName": "vdc", "numberOfExtNetworks": 1, "numberOfOrgNetworks": 2, "isBusy": false,
		"gatewayStatus": "READY", "haStatus": "UP",
	})
}

func (f *fakeVCD) addIP(ip, orgUUID string) {
	f.add(qtExternalIP, map[string]any{
		"_type": "QueryResultAdminAllocatedExternalAddressRecordType", "otherAttributes": map[string]any{},
		"ipAddress": ip, "network": f.URL + "/api/admin/network/7e2f", "linkedNetwork": f.URL + "/api/admin/edgeGateway/e1",
		"org": f.URL + "/api/org/" + orgUUID,
	})
}

// setVM changes fields of a VM; removeVM deletes it.
func (f *fakeVCD) setVM(uuid string, fields map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.records[qtVM] {
		if r["id"] == "urn:vcloud:vm:"+uuid {
			maps.Copy(r, fields)
			return
		}
	}
	f.t.Fatalf("no VM %s", uuid)
}

func (f *fakeVCD) removeVM(uuid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[qtVM] = slices.DeleteFunc(f.records[qtVM], func(r map[string]any) bool { return r["id"] == "urn:vcloud:vm:"+uuid })
}

// Fixed identities of the test inventory.
const (
	orgAcme   = "4a3f1c2e-0d7b-4a51-9c3e-1b2d3e4f5a60"
	orgGlobex = "5b4e2d3f-1e8c-4b62-8d4f-2c3e4f5a6b71"
	orgHooli  = "6c5f3e4a-2f9d-4c73-9e5a-3d4f5a6b7c82" // no customer rule
	orgSystem = "7d6a4f5b-3a0e-4d84-8f6b-4e5a6b7c8d93" // the provider's: ignored
	vdcAcme   = "a1b2c3d4-0001-4000-8000-000000000001" // PAYG
	vdcGlobex = "a1b2c3d4-0002-4000-8000-000000000002" // allocation pool
	vdcHooli  = "a1b2c3d4-0003-4000-8000-000000000003"
	vdcSystem = "a1b2c3d4-0004-4000-8000-000000000004"
	vmWeb     = "0e1d2c3b-0001-4a00-9000-00000000000a" // acme
	vmDB      = "0e1d2c3b-0002-4a00-9000-00000000000b" // acme
	vmApp     = "0e1d2c3b-0003-4a00-9000-00000000000c" // acme
	vmGlobex  = "0e1d2c3b-0004-4a00-9000-00000000000d"
	vmHooli   = "0e1d2c3b-0005-4a00-9000-00000000000e"
	vmInfra   = "0e1d2c3b-0006-4a00-9000-00000000000f"
	vmTmp     = "0e1d2c3b-0007-4a00-9000-000000000010" // acme, created and deleted between polls
	edgeAcme  = "ed9e0000-0001-4b00-a000-000000000001"
)

// seed fills the fake with three customers' orgs, the provider's and one
// no rule matches.
func (f *fakeVCD) seed() {
	f.addOrg(orgAcme, "acme")
	f.addOrg(orgGlobex, "Globex Corporation")
	f.addOrg(orgHooli, "hooli xyz") // not a valid id, not in the map: no customer
	f.addOrg(orgSystem, "System")
	f.addVdc(vdcAcme, "acme-payg", orgAcme, "acme", "AllocationVApp", 0, 0, 0)
	f.addVdc(vdcGlobex, "globex-pool", orgGlobex, "Globex Corporation", "AllocationPool", 10000, 20480, 512000)
	f.addVdc(vdcHooli, "hooli-payg", orgHooli, "hooli xyz", "AllocationVApp", 0, 0, 0)
	f.addVdc(vdcSystem, "infra", orgSystem, "System", "ReservationPool", 20000, 65536, 1024000)
	f.add(qtVM, f.vm(vmWeb, "web01", orgAcme, vdcAcme, 2, 4096, 40960, "POWERED_ON", "Gold"))
	f.add(qtVM, f.vm(vmDB, "db01", orgAcme, vdcAcme, 4, 16384, "102400", "POWERED_OFF", "Silver")) // string size, as some versions send
	f.add(qtVM, f.vm(vmApp, "app01", orgAcme, vdcAcme, 1, 1536, 10240, "SUSPENDED", ""))
	f.add(qtVM, f.vm(vmGlobex, "erp", orgGlobex, vdcGlobex, 8, 32768, 204800, "POWERED_ON", "Gold"))
	f.add(qtVM, f.vm(vmHooli, "hooli-vm", orgHooli, vdcHooli, 2, 2048, 20480, "POWERED_ON", "Gold"))
	f.add(qtVM, f.vm(vmInfra, "nsx-edge", orgSystem, vdcSystem, 4, 8192, 40960, "POWERED_ON", "Gold"))
	tpl := f.vm("0e1d2c3b-0099-4a00-9000-000000000099", "tpl-ubuntu", orgAcme, vdcAcme, 2, 2048, 20480, "POWERED_OFF", "Gold")
	tpl["isVAppTemplate"] = true
	f.add(qtVM, tpl)
	f.addEdge(edgeAcme, "acme-edge", vdcAcme)
	f.addIP("203.0.113.10", orgAcme)
	f.addIP("203.0.113.11", orgAcme)
	f.addIP("203.0.113.20", orgGlobex)
}

func testConfig(f *fakeVCD) Config {
	return Config{
		URL: f.URL, Username: "billing", Password: collector.NewSecret(fakePassword, "test"), Site: "vcd01", PageSize: 2,
		Customers: CustomerRules{
			Map:      map[string]string{"Globex Corporation": "globex"},
			Rules:    []CustomerRule{{Org: "^System$", Ignore: true}},
			SameName: true,
		},
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// lines renders records as sortable "key metric=q start-end customer org vdc dims".
func lines(recs []collector.Record) []string {
	var out []string
	for _, r := range recs {
		dims := ""
		for _, k := range slices.Sorted(maps.Keys(r.Dimensions)) {
			dims += " " + k + "=" + r.Dimensions[k]
		}
		out = append(out, fmt.Sprintf("%s %s=%s %s-%s %s %s %s%s", r.Key, r.Metric, r.Quantity, r.Start.Format("15:04"), r.End.Format("15:04"),
			r.CustomerID, short(r.OrganisationID), short(r.VdcID), dims))
	}
	slices.Sort(out)
	return out
}

// short is the last four characters of an id ("-" for none).
func short(id string) string {
	if id == "" {
		return "-"
	}
	return id[max(0, len(id)-4):]
}

func diffLines(want, got []string) string {
	var b strings.Builder
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range want {
		w[l] = true
	}
	for _, l := range got {
		g[l] = true
	}
	for _, l := range want {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range got {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	if b.Len() == 0 && len(want) != len(got) {
		fmt.Fprintf(&b, "same lines, %d wanted, %d got (duplicates)\n", len(want), len(got))
	}
	return b.String()
}

func skipReasons(b collector.Batch) map[string]string {
	out := map[string]string{}
	for _, s := range b.Skipped {
		out[s.Resource] = s.Reason
	}
	return out
}
