package restapi

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Customers maps a platform's tenant (a Veeam company, a Cohesity
// organisation, a Rubrik organisation) to a billingd customer id. Tried in
// order:
//
//	customers:
//	  ignore: [Provider, 7c1e…]          # tenant names or ids left out without a skip
//	  map: {Acme Corp: acme, 5f1c…: globex} # tenant name or id → customer id
//	  pattern: '^cust-([a-z0-9-]+)$'     # regexp on the tenant name…
//	  customer: '$1'                      # …and the customer id it gives (default $1)
//	  use: name                           # else the tenant's name (or id) as it is
//
// A tenant no rule maps is skipped with reason no_customer; a mapped id
// billingd would refuse, with invalid_customer.
type Customers struct {
	Ignore   []string          `yaml:"ignore"`
	Map      map[string]string `yaml:"map"`
	Pattern  string            `yaml:"pattern"`
	Customer string            `yaml:"customer"`
	Use      string            `yaml:"use"` // "", "id" or "name"

	re *regexp.Regexp
}

// Validate reports every problem at once and compiles the pattern.
func (c *Customers) Validate() error {
	var errs []error
	for k, v := range c.Map {
		if k == "" || v == "" {
			errs = append(errs, fmt.Errorf("customers.map: empty key or value (%q: %q)", k, v))
		}
	}
	switch c.Use {
	case "", "id", "name":
	default:
		errs = append(errs, fmt.Errorf("customers.use %q: want id or name", c.Use))
	}
	if c.Customer != "" && c.Pattern == "" {
		errs = append(errs, errors.New("customers.customer goes with customers.pattern"))
	}
	if c.Pattern != "" {
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("customers.pattern: %w", err))
		}
		c.re = re
	}
	if len(c.Map) == 0 && c.Pattern == "" && c.Use == "" {
		errs = append(errs, errors.New("customers: give at least one of map, pattern, use"))
	}
	return errors.Join(errs...)
}

// Resolve returns the customer id of a tenant; "" when no rule maps it.
// ignored is true for a tenant listed in ignore.
func (c *Customers) Resolve(id, name string) (customer string, ignored bool) {
	if slices.Contains(c.Ignore, id) || (name != "" && slices.Contains(c.Ignore, name)) {
		return "", true
	}
	if v, ok := c.Map[id]; ok {
		return v, false
	}
	if v, ok := c.Map[name]; ok && name != "" {
		return v, false
	}
	if c.re == nil && c.Pattern != "" {
		c.re = regexp.MustCompile(c.Pattern) // Validate was skipped; a bad pattern panics here, at startup in tests
	}
	if c.re != nil && name != "" {
		if m := c.re.FindStringSubmatchIndex(name); m != nil {
			tpl := c.Customer
			if tpl == "" {
				tpl = "$1"
			}
			return string(c.re.ExpandString(nil, tpl, name, m)), false
		}
	}
	switch c.Use {
	case "id":
		return id, false
	case "name":
		return name, false
	}
	return "", false
}
