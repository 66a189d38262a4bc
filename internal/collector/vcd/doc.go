// Package vcd is the collector source for VMware Cloud Director (VCD).
//
// At every poll it reads, with one typed query of the VCD query service per
// record type (continued page by page), the organisations, the
// organisation VDCs (allocation model, allocations), the VMs (vCPU, memory,
// storage and storage policy, power state), the edge gateways and the
// allocated external (public) IP addresses, and turns them into interval
// records for billingd. It never calls the API once per VM per poll.
//
// Optionally it consumes VCD's AMQP notifications (RabbitMQ) for VM
// creation, deletion, reconfiguration and power operations, so that a VM's
// records start and end when it was created and deleted, and power state
// and size changes are billed from the moment they happened, even between
// two polls (see notify.go and docs/collectors-vcd.md).
//
// Written against the VCD API version 38.1 (VCD 10.5); the query service
// and CloudAPI sessions used are unchanged since 37.0 (VCD 10.4).
package vcd
