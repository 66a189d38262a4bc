package vcenter

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/billingd/billingd/internal/collector"
)

// Config is a vCenter source's settings (the vcenter block of a source in
// the collector's YAML file):
//
//	vcenter:
//	  url: https://vc01.example.net/sdk
//	  username: billing@vsphere.local
//	  password: {env: VC01_PASSWORD}
//	  ca_file: /etc/billingd/vc01-ca.pem   # or insecure: true (lab only)
//	  site: vc01                            # default: the source name
//	  storage_policies: {vsanDatastore: Gold, nfs01: Silver}
//	  default_policy: Standard
//	  licence_attribute: Licences           # "sql_standard, rhel" → licence.sql_standard, licence.rhel
//	  tenants:
//	    - folder: /DC1/vm/Infrastructure      # the provider's own VMs
//	      ignore: true
//	    - folder: /DC1/vm/Tenants/{customer}
//	    - resource_pool: /DC1/host/Cluster1/Resources/acme
//	      customer: acme
//	    - attribute: Customer
//	    - tag_category: Billing               # vSphere tags (read over vAPI)
//	      tag: ACME Gold
//	      customer: acme
//	    - tag_category: Tenant                # the tag's name is the customer id
//	    - name: '^([a-z0-9]+)-'
//	      customer: $1
//	  default_customer: ""                  # empty: VMs no rule matches are skipped
type Config struct {
	URL      string           `yaml:"url"`
	Username string           `yaml:"username"`
	Password collector.Secret `yaml:"password"`
	Insecure bool             `yaml:"insecure"` // skip TLS verification
	CAFile   string           `yaml:"ca_file"`

	// Site names the vCenter in keys, records and the site dimension; keep it
	// stable, since changing it changes every idempotency key.
	Site string `yaml:"site"`

	// StoragePolicies maps a datastore name to the storage policy billed
	// for it (vcsim does not simulate SPBM, and many providers sell tiers
	// by datastore); DefaultPolicy is used for the others, "default" if empty.
	StoragePolicies map[string]string `yaml:"storage_policies"`
	DefaultPolicy   string            `yaml:"default_policy"`

	// LicenceAttribute names a custom attribute listing extra licence
	// products per VM (comma-separated, e.g. "sql_standard"); each gives a
	// licence.<product> record of 1.
	LicenceAttribute string `yaml:"licence_attribute"`

	// Reservations sends each VM's vm.memory_reservation_gb and
	// vm.cpu_reservation_mhz, for rules such as the vRAM rule. Off by
	// default: billingd refuses records of metrics its catalog lacks, so
	// define those two metrics first.
	Reservations bool `yaml:"reservations"`

	// Tenants are tried in order; the first that matches gives the customer.
	Tenants         []TenantRule `yaml:"tenants"`
	DefaultCustomer string       `yaml:"default_customer"`
}

var licencePattern = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("url is required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("url: %w", err))
	case u.Scheme != "https" && u.Scheme != "http":
		errs = append(errs, fmt.Errorf("url %q: scheme must be https (or http)", c.URL))
	case u.User != nil:
		errs = append(errs, errors.New("url: put the user in username and the password in password, not in the url"))
	}
	if c.Username == "" {
		errs = append(errs, errors.New("username is required"))
	}
	if c.Password.IsZero() {
		errs = append(errs, errors.New("password is required ({env: NAME} or {file: /path})"))
	}
	if c.Insecure && c.CAFile != "" {
		errs = append(errs, errors.New("insecure and ca_file exclude each other"))
	}
	if c.Site != "" && (len(c.Site) > 128 || strings.ContainsAny(c.Site, ":%")) {
		errs = append(errs, fmt.Errorf("site %q: at most 128 characters, no ':' or '%%'", c.Site))
	}
	if c.DefaultCustomer != "" && !collector.ValidCustomerID(c.DefaultCustomer) {
		errs = append(errs, fmt.Errorf("default_customer %q is not a valid customer id", c.DefaultCustomer))
	}
	for i, r := range c.Tenants {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("tenants[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
