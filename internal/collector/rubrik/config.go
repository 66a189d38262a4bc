package rubrik

import (
	"errors"
	"fmt"
	"regexp"

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
	restapi.Common `yaml:",inline"`
	ClientID       string           `yaml:"client_id"`
	ClientSecret   collector.Secret `yaml:"client_secret"`
	ObjectTypes    []string         `yaml:"object_types"`
}

// DefaultObjectTypes are the RSC workload types that are VMs.
var DefaultObjectTypes = []string{"VmwareVirtualMachine", "HypervVirtualMachine", "NutanixVirtualMachine"}

// MaxPageSize is the most nodes RSC returns in one page of a connection.
const MaxPageSize = 1000

// kind is what the shared backup source code needs to know of RSC.
var kind = restapi.Kind{Type: Type, Dimension: DimensionSLADomain, Pages: restapi.Pages{Max: MaxPageSize, Default: 500}}

var objectTypePattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`)

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var creds error
	if c.ClientID == "" || c.ClientSecret.IsZero() {
		creds = errors.New("client_id and client_secret ({env: NAME} or {file: /path}) of a service account are required")
	}
	var types []error
	for _, t := range c.ObjectTypes {
		if !objectTypePattern.MatchString(t) {
			types = append(types, fmt.Errorf("object_types: %q is not an RSC object type (e.g. VmwareVirtualMachine)", t))
		}
	}
	return c.Common.Validate(kind.Pages, creds, types...)
}
