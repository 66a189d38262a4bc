package cohesity

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/billingd/billingd/internal/collector"
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
	restapi.Endpoint `yaml:",inline"`
	Username         string           `yaml:"username"`
	Password         collector.Secret `yaml:"password"`
	Domain           string           `yaml:"domain"`
	APIKey           collector.Secret `yaml:"api_key"`
	Site             string           `yaml:"site"`
	Environments     []string         `yaml:"environments"`
	PageSize         int              `yaml:"page_size"`
	// PerVM adds a backup.protected_vm record (1, dimension vm_id) per
	// protected VM, for billing VMs protected at any time of a month.
	PerVM     bool              `yaml:"per_vm"`
	Customers restapi.Customers `yaml:"customers"`
}

// DefaultEnvironments are the hypervisor environments whose protected
// objects are VMs.
var DefaultEnvironments = []string{"kVMware", "kHyperV", "kAcropolis"}

var environmentPattern = regexp.MustCompile(`^k[A-Za-z0-9]+$`)

// Validate reports every problem at once.
func (c *Config) Validate() error {
	errs := []error{c.Endpoint.Validate()}
	switch {
	case !c.APIKey.IsZero() && (c.Username != "" || !c.Password.IsZero()):
		errs = append(errs, errors.New("give api_key or username and password, not both"))
	case c.APIKey.IsZero() && (c.Username == "" || c.Password.IsZero()):
		errs = append(errs, errors.New("username and password ({env: NAME} or {file: /path}) are required, or api_key"))
	}
	if c.Site != "" && (len(c.Site) > 128 || strings.ContainsAny(c.Site, ":%")) {
		errs = append(errs, fmt.Errorf("site %q: at most 128 characters, no ':' or '%%'", c.Site))
	}
	for _, e := range c.Environments {
		if !environmentPattern.MatchString(e) {
			errs = append(errs, fmt.Errorf("environments: %q is not a Cohesity environment (e.g. kVMware)", e))
		}
	}
	if c.PageSize < 0 || c.PageSize > 10000 {
		errs = append(errs, fmt.Errorf("page_size %d must be in 1..10000 (0: 1000)", c.PageSize))
	}
	errs = append(errs, c.Customers.Validate())
	return errors.Join(errs...)
}
