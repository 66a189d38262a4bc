// Package vcenter is the collector source for VMware vCenter (and ESXi),
// through govmomi: at every poll it reads every VM's allocation, power
// state, guest OS, storage per datastore and owner in one property
// collector retrieval, and turns them into interval records for billingd.
//
// It must not call the API once per VM: inventories have thousands of VMs
// and a poll must stay one round trip (plus the pages of its answer). Tag
// rules add one batched vAPI read of the tags of all VMs (see tags.go).
package vcenter
