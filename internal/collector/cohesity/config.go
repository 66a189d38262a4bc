package cohesity

import (
	"fmt"
	"regexp"

	"github.com/billingd/billingd/internal/collector/restapi"
)

// Config is a Cohesity source's settings (the cohesity block of a source
// in the collector's YAML file):
//
//	cohesity:
//	  url: https://cohesity01.example.net
//	  username: billing
//	  password: {env: COHESITY_PASSWORD}
//	  domain: LOCAL                       # of the user; default LOCAL
//	  # api_key: {env: COHESITY_API_KEY}  # instead: sent in the apiKey header
//	  ca_file: /etc/billingd/cohesity-ca.pem
//	  site: coh01                         # default: the source name
//	  environments: [kVMware, kHyperV, kAcropolis]   # what counts as a VM (the default)
//	  page_size: 1000                     # maxCount of stats/tenants
//	  per_vm: false                       # also one backup.protected_vm record per VM
//	  customers:
//	    map: {Acme: acme}
//	    pattern: '^cust-(.+)$'
type Config struct {
	restapi.Common      `yaml:",inline"`
	restapi.Credentials `yaml:",inline"`
	Domain              string   `yaml:"domain"`
	Environments        []string `yaml:"environments"`
}

// kind is what the shared backup source code needs to know of Cohesity.
var kind = restapi.Kind{Type: Type, Dimension: DimensionStorageDomain, Pages: restapi.Pages{Max: 10000, Default: 1000}}

// DefaultEnvironments are the hypervisor environments whose protected
// objects are VMs.
var DefaultEnvironments = []string{"kVMware", "kHyperV", "kAcropolis"}

var environmentPattern = regexp.MustCompile(`^k[A-Za-z0-9]+$`)

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var envs []error
	for _, e := range c.Environments {
		if !environmentPattern.MatchString(e) {
			envs = append(envs, fmt.Errorf("environments: %q is not a Cohesity environment (e.g. kVMware)", e))
		}
	}
	return c.Common.Validate(kind.Pages, c.Credentials.Validate(), envs...)
}
