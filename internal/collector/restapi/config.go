package restapi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/billingd/billingd/internal/collector"
)

// Common holds the settings every backup source has; a source inlines it
// in its YAML block, so the keys stay at the block's top level:
//
//	url: https://vspc.example.net:1280  # and ca_file, insecure, request_timeout (Endpoint)
//	site: vspc01                        # default: the source name
//	page_size: 500                      # default and limit are the product's
//	per_vm: false                       # also one backup.protected_vm record per VM
//	customers: {map: {Acme Corp: acme}}
type Common struct {
	Endpoint `yaml:",inline"`
	Site     string `yaml:"site"`
	PageSize int    `yaml:"page_size"`
	// PerVM adds a backup.protected_vm record (1, dimension vm_id) per
	// protected VM, for billing VMs protected at any time of a month.
	PerVM     bool      `yaml:"per_vm"`
	Customers Customers `yaml:"customers"`
}

// Pages is what a product's API allows as page_size.
type Pages struct {
	Max     int // the most items one page may ask for
	Default int // used when page_size is 0
}

// Validate reports every problem at once, in the order of a source's
// settings: the endpoint, the source's credentials, the site, the
// source's own settings, page_size and the customers rules.
func (c *Common) Validate(pages Pages, credentials error, own ...error) error {
	errs := []error{c.Endpoint.Validate(), credentials}
	if c.Site != "" && (len(c.Site) > 128 || strings.ContainsAny(c.Site, ":%")) {
		errs = append(errs, fmt.Errorf("site %q: at most 128 characters, no ':' or '%%'", c.Site))
	}
	errs = append(errs, own...)
	if c.PageSize < 0 || c.PageSize > pages.Max {
		errs = append(errs, fmt.Errorf("page_size %d must be in 1..%d (0: %d)", c.PageSize, pages.Max, pages.Default))
	}
	errs = append(errs, c.Customers.Validate())
	return errors.Join(errs...)
}

// Credentials are a user's password, or instead an API key: the login of
// VSPC and Cohesity. Sources inline them:
//
//	username: billing
//	password: {env: VSPC_PASSWORD}
//	# api_key: {env: VSPC_API_KEY}  # instead of username and password
type Credentials struct {
	Username string           `yaml:"username"`
	Password collector.Secret `yaml:"password"`
	APIKey   collector.Secret `yaml:"api_key"`
}

// Validate wants either username and password or api_key.
func (c Credentials) Validate() error {
	switch {
	case !c.APIKey.IsZero() && (c.Username != "" || !c.Password.IsZero()):
		return errors.New("give api_key or username and password, not both")
	case c.APIKey.IsZero() && (c.Username == "" || c.Password.IsZero()):
		return errors.New("username and password ({env: NAME} or {file: /path}) are required, or api_key")
	}
	return nil
}
