// Package cohesity is the collector source for Cohesity clusters
// (DataProtect): at every poll it reads the organisations (tenants), each
// tenant's protected VMs and the storage each tenant consumes per storage
// domain, and turns them into interval records per tenant:
// backup.protected_vms (distinct VMs) and backup.storage_gb per storage
// domain.
//
// Endpoints (Cohesity cluster REST API, v1 public and v2; shapes from
// cohesity/management-sdk-python models Tenant, TenantStats, StatsGroup,
// DataUsageStats, and cohesity go-sdk SearchAPI.SearchProtectedObjects):
//
//	POST /irisservices/api/v1/public/accessTokens          {domain, username, password} → {accessToken, tokenType}
//	GET  /irisservices/api/v1/public/tenants               [{tenantId, name}]
//	GET  /v2/data-protect/search/protected-objects?tenantIds=…&environments=…
//	                                                       {objects: [{id, name, environment, objectType}]}; not paged
//	GET  /irisservices/api/v1/public/stats/tenants?consumerType=kProtectionRuns&maxCount=…&cookie=…
//	                                                       {statsList: [{id, name, groupList[].viewBoxName,
//	                                                        stats.storageConsumedBytes}], cookie}
//
// Instead of a password, an API key can be sent in the apiKey header.
// stats/tenants pages with an opaque cookie: the next page is asked with
// the cookie of the previous answer until an answer has none.
package cohesity
