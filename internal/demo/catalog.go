package demo

import billingv1 "github.com/billingd/billingd/gen/go/billing/v1"

const (
	twa    = billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG
	unique = billingv1.Aggregation_AGGREGATION_UNIQUE_COUNT
	hour   = billingv1.Granularity_GRANULARITY_HOUR
	month  = billingv1.Granularity_GRANULARITY_MONTH
)

// metrics are what a vCenter, VCD or backup collector measures.
var metrics = []*billingv1.Metric{
	{Key: "vm.vcpu", DisplayName: "vCPU allocated", Unit: "vCPU", Aggregation: twa},
	{Key: "vm.memory_gb", DisplayName: "Memory allocated", Unit: "GB", Aggregation: twa},
	{Key: "storage.gb", DisplayName: "Provisioned storage", Unit: "GB", Aggregation: twa},
	{Key: "licence.windows", DisplayName: "Windows Server VMs", Unit: "VM", Aggregation: twa},
	{Key: "network.public_ip", DisplayName: "Public IPv4 addresses", Unit: "IP", Aggregation: twa},
	{Key: "backup.protected_vm", DisplayName: "Protected VMs", Unit: "VM", Aggregation: unique, UniqueDimension: "vm_id"},
	{Key: "backup.stored_gb", DisplayName: "Backup storage used", Unit: "GB", Aggregation: twa},
}

var groups = []*billingv1.ProductGroup{
	{Id: "compute", DisplayName: "Compute"},
	{Id: "storage", DisplayName: "Storage"},
	{Id: "licences", DisplayName: "Licences"},
	{Id: "network", DisplayName: "Network"},
	{Id: "backup", DisplayName: "Backup"},
}

var products = []*billingv1.Product{
	{Id: "vcpu", ProductGroupId: "compute", MetricKey: "vm.vcpu", DisplayName: "vCPU", Unit: "vCPU-hour"},
	{Id: "vram", ProductGroupId: "compute", MetricKey: "vm.memory_gb", DisplayName: "vRAM", Unit: "GB-hour"},
	{Id: "storage-gold", ProductGroupId: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "Gold"}, DisplayName: "Storage Gold (SSD)", Unit: "GB-month"},
	{Id: "storage-silver", ProductGroupId: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "Silver"}, DisplayName: "Storage Silver", Unit: "GB-month"},
	{Id: "storage-bronze", ProductGroupId: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "Bronze"}, DisplayName: "Storage Bronze (archive)", Unit: "GB-month"},
	{Id: "windows-server", ProductGroupId: "licences", MetricKey: "licence.windows", DisplayName: "Windows Server licence", Unit: "VM-month"},
	{Id: "public-ip", ProductGroupId: "network", MetricKey: "network.public_ip", DisplayName: "Public IPv4", Unit: "IP-month"},
	{Id: "backup-vm", ProductGroupId: "backup", MetricKey: "backup.protected_vm", DisplayName: "Protected VM", Unit: "VM-month"},
	{Id: "backup-tb", ProductGroupId: "backup", MetricKey: "backup.stored_gb", DisplayName: "Backup storage", Unit: "GB-month"},
}

var defaultPrices = []price{
	{"vcpu-2026", "vcpu", "0.0125", hour},
	{"vram-2026", "vram", "0.0050", hour},
	{"gold-2026", "storage-gold", "0.18", month},
	{"silver-2026", "storage-silver", "0.10", month},
	{"bronze-2026", "storage-bronze", "0.04", month},
	{"windows-2026", "windows-server", "18.50", month},
	{"ip-2026", "public-ip", "3.00", month},
	{"backup-vm-2026", "backup-vm", "6.00", month},
	{"backup-gb-2026", "backup-tb", "0.03", month},
}
