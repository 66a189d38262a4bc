// Package rubrik is the collector source for Rubrik Security Cloud (RSC),
// through its GraphQL API: at every poll it reads every VM workload with
// its organisation, protection status, SLA Domain and physical bytes, and
// turns them into interval records per organisation: backup.protected_vms
// (distinct workloads whose protectionStatus is Protected) and
// backup.storage_gb per SLA Domain (physical bytes of the snapshots of
// every VM, protected or retained).
//
// RSC rather than a CDM cluster's REST API: organisations (Rubrik's
// tenants) span clusters and are managed in RSC; a CDM cluster managed by
// RSC no longer holds them.
//
// API (RSC GraphQL; shapes from the RSC schema as documented by
// rubrikinc/rubrik-powershell-sdk: Snappable, WorkloadOrganization,
// SnappableFilterInput, ProtectionStatusEnum; auth from
// rubrikinc/rubrik-developer-center "Service Accounts"):
//
//	POST /api/client_token  {client_id, client_secret} → {access_token, expires_in}
//	POST /api/graphql       snappableConnection(first, after, filter: {objectType}) {
//	                          nodes { id fid name objectType protectionStatus physicalBytes
//	                                  slaDomain { id name } workloadOrg { id name fullName } }
//	                          pageInfo { hasNextPage endCursor } }
//
// Pages follow the GraphQL connection convention: ask again with after =
// endCursor while hasNextPage.
package rubrik
