package rubrik

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/restapi"
)

// Config is an RSC source's settings (the rubrik block of a source in the
// collector's YAML file), from the service account's JSON file:
//
//	rubrik:
//	  url: https://example.my.rubrik.com      # access_token_uri without /api/client_token
//	  client_id: client|c9bba9a9-…
//	  client_secret: {env: RSC_CLIENT_SECRET}
//	  site: rsc                               # default: the source name
//	  object_types: [VmwareVirtualMachine, HypervVirtualMachine, NutanixVirtualMachine]  # the default
//	  page_size: 500                          # first of each page, at most 1000
//	  per_vm: false                           # also one backup.protected_vm record per VM
//	  customers:
//	    ignore: [Global]                      # the provider's own organisation
//	    pattern: '^cust-(.+)$'
type Config struct {
	restapi.Endpoint `yaml:",inline"`
	ClientID         string           `yaml:"client_id"`
	ClientSecret     collector.Secret `yaml:"client_secret"`
	Site             string           `yaml:"site"`
	ObjectTypes      []string         `yaml:"object_types"`
	PageSize         int              `yaml:"page_size"`
	// PerVM adds a backup.protected_vm record (1, dimension vm_id) per
	// protected VM, for billing VMs protected at any time of a month.
	PerVM     bool              `yaml:"per_vm"`
	Customers restapi.Customers `yaml:"customers"`
}

// DefaultObjectTypes are the RSC workload types that are VMs.
var DefaultObjectTypes = []string{"VmwareVirtualMachine", "HypervVirtualMachine", "NutanixVirtualMachine"}

// MaxPageSize is the most nodes RSC returns in one page of a connection.
const MaxPageSize = 1000

var objectTypePattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`)

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Endpoint.Validate()}
	if c.ClientID == "" || c.ClientSecret.IsZero() {
		errs = append(errs, errors.New("client_id and client_secret ({env: NAME} or {file: /path}) of a service account are required"))
	}
	if c.Site != "" && (len(c.Site) > 128 || strings.ContainsAny(c.Site, ":%")) {
		errs = append(errs, fmt.Errorf("site %q: at most 128 characters, no ':' or '%%'", c.Site))
	}
	for _, t := range c.ObjectTypes {
		if !objectTypePattern.MatchString(t) {
			errs = append(errs, fmt.Errorf("object_types: %q is not an RSC object type (e.g. VmwareVirtualMachine)", t))
		}
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		errs = append(errs, fmt.Errorf("page_size %d must be in 1..%d (0: 500)", c.PageSize, MaxPageSize))
	}
	errs = append(errs, c.Customers.Validate())
	return errors.Join(errs...)
}
