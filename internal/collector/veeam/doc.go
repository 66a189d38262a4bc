// Package veeam is the collector source for Veeam Service Provider Console
// (VSPC) REST API v3, the console providers run their multi-tenant Veeam
// estate from: at every poll it reads the companies (the tenants), the
// protected VMs and the companies' cloud backup storage use, and turns them
// into interval records per company: backup.protected_vms (distinct VMs)
// and backup.storage_gb per cloud backup resource.
//
// VSPC rather than Veeam Backup & Replication's own REST API: B&R knows
// backup jobs and repositories but not the provider's customers, whereas
// VSPC owns the company (tenant) each workload and each Cloud Connect
// resource belongs to, across every B&R server it manages.
//
// Endpoints (VSPC 8/9, API v3; shapes from the VSPC REST API reference
// https://helpcenter.veeam.com/docs/vac/rest/reference_v3.html and the
// OpenAPI-generated models ProtectedVirtualMachine and
// CompanySiteBackupResourceUsage):
//
//	POST /api/v3/token                                         grant_type=password → access_token
//	GET  /api/v3/organizations/companies                       data[].instanceUid, name
//	GET  /api/v3/protectedWorkloads/virtualMachines            data[].instanceUid, organizationUid
//	GET  /api/v3/organizations/companies/sites/backupResources/usage
//	                                                           data[].companyUid, backupResourceUid, usedStorageQuota (bytes)
//
// Collections page with limit and offset; each answer carries
// meta.pagingInfo {total, count, offset}.
package veeam
