package veeam

import (
	"errors"
	"fmt"
	"strings"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/restapi"
)

// Config is a VSPC source's settings (the veeam block of a source in the
// collector's YAML file):
//
//	veeam:
//	  url: https://vspc.example.net:1280
//	  username: billing               # with password: the password grant of POST /api/v3/token
//	  password: {env: VSPC_PASSWORD}
//	  # api_key: {env: VSPC_API_KEY}  # instead: a VSPC API key, sent as the bearer token
//	  ca_file: /etc/billingd/vspc-ca.pem
//	  site: vspc01                    # default: the source name
//	  page_size: 500                  # limit of each collection request
//	  per_vm: false                   # also one backup.protected_vm record per VM
//	  customers:
//	    ignore: [Provider]
//	    map: {Acme Corp: acme}
//	    pattern: '^cust-([a-z0-9-]+)$'
type Config struct {
	restapi.Endpoint `yaml:",inline"`
	Username         string           `yaml:"username"`
	Password         collector.Secret `yaml:"password"`
	APIKey           collector.Secret `yaml:"api_key"`
	Site             string           `yaml:"site"`
	PageSize         int              `yaml:"page_size"`
	// PerVM adds a backup.protected_vm record (1, dimension vm_id) per
	// protected VM, for billing VMs protected at any time of a month.
	PerVM     bool              `yaml:"per_vm"`
	Customers restapi.Customers `yaml:"customers"`
}

// MaxPageSize is the largest limit VSPC accepts on a collection.
const MaxPageSize = 500

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
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		errs = append(errs, fmt.Errorf("page_size %d must be in 1..%d (0: %d)", c.PageSize, MaxPageSize, MaxPageSize))
	}
	errs = append(errs, c.Customers.Validate())
	return errors.Join(errs...)
}
