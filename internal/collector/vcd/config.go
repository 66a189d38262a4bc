package vcd

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/collector"
)

// DefaultAPIVersion is the VCD API version the source asks for (VCD 10.5).
// The query types and fields it reads exist unchanged from 37.0 (10.4).
const DefaultAPIVersion = "38.1"

// Config is a VCD source's settings (the vcd block of a source in the
// collector's YAML file):
//
//	vcd:
//	  url: https://vcd.example.net          # the cell, without /api
//	  username: billing                     # a provider (System org) user…
//	  password: {env: VCD_PASSWORD}
//	  # api_token: {file: /run/secrets/vcd}  # …or a provider API token instead
//	  ca_file: /etc/billingd/vcd-ca.pem     # or insecure: true (lab only)
//	  api_version: "38.1"
//	  site: vcd01                           # default: the source name
//	  page_size: 128
//	  customers:
//	    map: {"ACME Corp": acme}            # org name → customer id
//	    rules:                              # tried in order, first match wins
//	      - org: '^(System|infra-.*)$'
//	        ignore: true
//	      - org: '^cust-([a-z0-9]+)$'
//	        customer: $1
//	    same_name: true                     # else the org name itself, when a valid id
//	  default_customer: ""                  # empty: orgs nothing matches are skipped
//	  notifications:                        # optional: VCD's AMQP notifications
//	    url: amqp://rabbit.example.net:5672/vcd
//	    username: billing
//	    password: {env: VCD_AMQP_PASSWORD}
//	    exchange: vcd.notifications20
//	    queue: billingd-vcd01
type Config struct {
	URL        string           `yaml:"url"`
	Username   string           `yaml:"username"`
	Password   collector.Secret `yaml:"password"`
	APIToken   collector.Secret `yaml:"api_token"`
	Insecure   bool             `yaml:"insecure"`
	CAFile     string           `yaml:"ca_file"`
	APIVersion string           `yaml:"api_version"`

	// Site names the VCD in keys, records and the site column; keep it
	// stable, since changing it changes every idempotency key.
	Site string `yaml:"site"`

	// PageSize is asked of the query service (VCD caps it, 128 by default).
	PageSize int `yaml:"page_size"`

	Customers       CustomerRules `yaml:"customers"`
	DefaultCustomer string        `yaml:"default_customer"`

	// VDCUsage sends vdc.cpu_used_ghz and vdc.memory_used_gb of each
	// allocation VDC, where VCD reports them, for rules such as
	// max(allocation, used). Off by default: billingd refuses records of
	// metrics its catalog lacks, so define those two metrics first.
	VDCUsage bool `yaml:"vdc_usage"`

	Notifications *NotificationConfig `yaml:"notifications"`
}

// NotificationConfig says where VCD publishes its notifications.
type NotificationConfig struct {
	URL      string           `yaml:"url"` // amqp:// or amqps://, without credentials
	Username string           `yaml:"username"`
	Password collector.Secret `yaml:"password"`
	// Exchange is the topic exchange VCD publishes JSON notifications on:
	// "<AMQP prefix>.notifications20" (the prefix of VCD's AMQP settings,
	// "vcd" by default). The collector binds its queue to it; it does not
	// declare the exchange, which VCD owns.
	Exchange string `yaml:"exchange"`
	// Queue is declared durable and bound for VM events; use one queue per
	// source, so that messages wait in it while the collector is down.
	Queue string `yaml:"queue"`
	// Prefetch bounds unacknowledged messages; they are acknowledged one
	// poll after they are used, so it should exceed the VM events of one
	// interval. Default 10000.
	Prefetch int `yaml:"prefetch"`
	// Lookup is the timeout of the re-read of one VM after its event.
	Lookup time.Duration `yaml:"lookup_timeout"`
}

// CustomerRules map an organisation to a customer: Map first (exact org
// name), then Rules in order, then the org name itself when SameName is
// set and the name is a valid customer id.
type CustomerRules struct {
	Map      map[string]string `yaml:"map"`
	Rules    []CustomerRule    `yaml:"rules"`
	SameName bool              `yaml:"same_name"`
}

// CustomerRule matches org names with a regular expression (anchor it);
// Customer may use its groups ($1, ${name}). Ignore marks the provider's
// own organisations: their resources are left out without a skip.
type CustomerRule struct {
	Org      string `yaml:"org"`
	Customer string `yaml:"customer"`
	Ignore   bool   `yaml:"ignore"`
}

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
		errs = append(errs, errors.New("url: put credentials in username and password or api_token, not in the url"))
	}
	switch {
	case c.APIToken.IsZero() && (c.Username == "" || c.Password.IsZero()):
		errs = append(errs, errors.New("username and password, or api_token, are required"))
	case !c.APIToken.IsZero() && (c.Username != "" || !c.Password.IsZero()):
		errs = append(errs, errors.New("api_token excludes username and password"))
	}
	if c.Insecure && c.CAFile != "" {
		errs = append(errs, errors.New("insecure and ca_file exclude each other"))
	}
	if c.APIVersion != "" && !apiVersionPattern.MatchString(c.APIVersion) {
		errs = append(errs, fmt.Errorf("api_version %q must look like 38.1", c.APIVersion))
	}
	if c.Site != "" && (len(c.Site) > 128 || strings.ContainsAny(c.Site, ":%")) {
		errs = append(errs, fmt.Errorf("site %q: at most 128 characters, no ':' or '%%'", c.Site))
	}
	if c.PageSize < 0 || c.PageSize > 1000 {
		errs = append(errs, fmt.Errorf("page_size %d must be in 1..1000 (0: default)", c.PageSize))
	}
	if c.DefaultCustomer != "" && !collector.ValidCustomerID(c.DefaultCustomer) {
		errs = append(errs, fmt.Errorf("default_customer %q is not a valid customer id", c.DefaultCustomer))
	}
	for name, id := range c.Customers.Map {
		if !collector.ValidCustomerID(id) {
			errs = append(errs, fmt.Errorf("customers.map[%q]: %q is not a valid customer id", name, id))
		}
	}
	for i, r := range c.Customers.Rules {
		_, err := regexp.Compile(r.Org)
		switch {
		case r.Org == "":
			errs = append(errs, fmt.Errorf("customers.rules[%d]: org is required", i))
		case err != nil:
			errs = append(errs, fmt.Errorf("customers.rules[%d]: org: %w", i, err))
		case r.Ignore && r.Customer != "":
			errs = append(errs, fmt.Errorf("customers.rules[%d]: ignore takes no customer", i))
		case !r.Ignore && r.Customer == "":
			errs = append(errs, fmt.Errorf("customers.rules[%d]: customer is required (or ignore)", i))
		}
	}
	if n := c.Notifications; n != nil {
		nu, err := url.Parse(n.URL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("notifications.url: %w", err))
		case nu.Scheme != "amqp" && nu.Scheme != "amqps":
			errs = append(errs, fmt.Errorf("notifications.url %q: scheme must be amqp or amqps", n.URL))
		case nu.User != nil:
			errs = append(errs, errors.New("notifications.url: put credentials in username and password"))
		}
		if n.Exchange == "" || n.Queue == "" {
			errs = append(errs, errors.New("notifications: exchange and queue are required"))
		}
		if n.Prefetch < 0 || n.Lookup < 0 {
			errs = append(errs, errors.New("notifications: prefetch and lookup_timeout must not be negative"))
		}
	}
	return errors.Join(errs...)
}

var apiVersionPattern = regexp.MustCompile(`^[0-9]{2}\.[0-9]+$`)
