package demo

import (
	"time"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

const (
	twa    = billingv1.Aggregation_AGGREGATION_TIME_WEIGHTED_AVG
	unique = billingv1.Aggregation_AGGREGATION_UNIQUE_COUNT
	hour   = billingv1.Granularity_GRANULARITY_HOUR
	month  = billingv1.Granularity_GRANULARITY_MONTH
)

// metrics are what a vCenter, VCD or backup collector measures. The vCenter
// collector also sends vm.powered_on, vm.cpu_reservation_mhz and
// storage.used_gb: they are in the
// catalog so that billingd stores them, but no product prices them here
// (vCPU is billed as allocated, powered on or not). vRAM is billed by the
// vCloud Usage Meter rule, a derived metric: the higher of half the memory
// allocated and the memory reserved.
var metrics = []*billingv1.Metric{
	{Key: "vm.vcpu", DisplayName: "vCPU allocated", Unit: "vCPU", Aggregation: twa},
	{Key: "vm.memory_gb", DisplayName: "Memory allocated", Unit: "GB", Aggregation: twa},
	{Key: "vm.memory_reservation_gb", DisplayName: "Memory reserved", Unit: "GB", Aggregation: twa},
	{Key: "vm.cpu_reservation_mhz", DisplayName: "CPU reserved", Unit: "MHz", Aggregation: twa},
	{Key: "vm.vram_billable_gb", DisplayName: "vRAM billed (Usage Meter rule)", Unit: "GB", Aggregation: twa,
		Expression: "max(vm.memory_gb * 0.5, vm.memory_reservation_gb)"},
	{Key: "vm.powered_on", DisplayName: "VM powered on", Unit: "VM", Aggregation: twa},
	{Key: "storage.gb", DisplayName: "Provisioned storage", Unit: "GB", Aggregation: twa},
	{Key: "storage.used_gb", DisplayName: "Used storage", Unit: "GB", Aggregation: twa},
	{Key: "licence.windows", DisplayName: "Windows Server VMs", Unit: "VM", Aggregation: twa},
	{Key: "network.public_ip", DisplayName: "Public IPv4 addresses", Unit: "IP", Aggregation: twa},
	{Key: "backup.protected_vm", DisplayName: "Protected VMs", Unit: "VM", Aggregation: unique, UniqueDimension: "vm_id"},
	{Key: "backup.stored_gb", DisplayName: "Backup storage used", Unit: "GB", Aggregation: billingv1.Aggregation_AGGREGATION_MAX},
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
	{Id: "vram", ProductGroupId: "compute", MetricKey: "vm.vram_billable_gb", DisplayName: "vRAM", Unit: "GB-hour"},
	{Id: "storage-gold", ProductGroupId: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "Gold"}, DisplayName: "Storage Gold (SSD)", Unit: "GB-month"},
	{Id: "storage-silver", ProductGroupId: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "Silver"}, DisplayName: "Storage Silver", Unit: "GB-month"},
	{Id: "storage-bronze", ProductGroupId: "storage", MetricKey: "storage.gb", DimensionFilter: map[string]string{"policy": "Bronze"}, DisplayName: "Storage Bronze (archive)", Unit: "GB-month"},
	{Id: "windows-server", ProductGroupId: "licences", MetricKey: "licence.windows", DisplayName: "Windows Server licence", Unit: "VM-month"},
	{Id: "public-ip", ProductGroupId: "network", MetricKey: "network.public_ip", DisplayName: "Public IPv4", Unit: "IP-month"},
	{Id: "backup-vm", ProductGroupId: "backup", MetricKey: "backup.protected_vm", DisplayName: "Protected VM", Unit: "VM-month"},
	// backup storage at the month's peak of the customer's total, as cloud
	// backup is often licensed
	{Id: "backup-tb", ProductGroupId: "backup", MetricKey: "backup.stored_gb", DisplayName: "Backup storage (peak)", Unit: "GB-month",
		PeakBasis: billingv1.PeakBasis_PEAK_BASIS_CUSTOMER},
}

// customers are the demo's tenants. They share one billing time zone, so
// that their months start together and lines of several customers merge.
var customers = []*billingv1.Customer{
	{Id: "acme", ExternalId: "ERP-10042", DisplayName: "ACME Manufacturing B.V.", BillingTimeZone: TimeZone},
	{Id: "globex", ExternalId: "ERP-10077", DisplayName: "Globex Corporation", BillingTimeZone: TimeZone},
	{Id: "initech", ExternalId: "ERP-10103", DisplayName: "Initech GmbH", BillingTimeZone: TimeZone},
}

// CustomerIDs are the demo customers' ids, in the order they are created.
func CustomerIDs() []string {
	ids := make([]string, len(customers))
	for i, c := range customers {
		ids[i] = c.GetId()
	}
	return ids
}

// TimeZone is the billing time zone of every demo customer.
const TimeZone = "Europe/Amsterdam"

// Prices. Hourly prices are chosen so that an hour of every demo VM costs
// whole cents (2 vCPU at 0.0125 would be 0.025 an hour): then the month's
// lines read exactly as quantity × unit price, whether billingd rounds per
// rated granule or per line.
var defaultPrices = []price{
	{"vcpu-2026", "vcpu", "0.0200", hour, ""},
	{"vram-2026", "vram", "0.0050", hour, ""},
	{"gold-2026", "storage-gold", "0.18", month, ""},
	{"silver-2026", "storage-silver", "0.10", month, "25.00"}, // at least 25.00 a month for a customer using Silver
	{"bronze-2026", "storage-bronze", "0.04", month, ""},
	{"windows-2026", "windows-server", "18.50", month, ""},
	{"ip-2026", "public-ip", "3.00", month, ""},
	{"backup-vm-2026", "backup-vm", "6.00", month, ""},
	{"backup-gb-2026", "backup-tb", "0.03", month, ""},
}

// acmePrices are ACME's own list; products it lacks come from the default.
var acmePrices = []price{
	{"acme-vcpu", "vcpu", "0.0150", hour, ""},
}

// campaigns: spring-backup ran before the demo month; autumn-ram starts in
// the middle of October 2026, so that month's vRAM lines show two prices.
var campaigns = []*billingv1.Campaign{
	{
		Id: "spring-backup", DisplayName: "Spring backup: 20% off", Currency: "EUR",
		ValidFrom: ts(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), ValidTo: ts(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)),
		Priority: 10, Entries: []*billingv1.CampaignEntry{{ProductId: "backup-vm", DiscountPercent: "20"}},
	},
	{
		Id: "autumn-ram", DisplayName: "Autumn vRAM: half price", Currency: "EUR",
		ValidFrom: ts(time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)), ValidTo: ts(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)),
		Priority: 10, Entries: []*billingv1.CampaignEntry{{ProductId: "vram", DiscountPercent: "50"}},
	},
}
