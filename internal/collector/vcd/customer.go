package vcd

import (
	"regexp"

	"github.com/billingd/billingd/internal/collector"
)

// customers resolves organisation names to customer ids.
type customers struct {
	byName   map[string]string
	rules    []compiledRule
	sameName bool
	fallback string
}

type compiledRule struct {
	re       *regexp.Regexp
	customer string
	ignore   bool
}

func newCustomers(c CustomerRules, fallback string) customers {
	out := customers{byName: c.Map, sameName: c.SameName, fallback: fallback}
	for _, r := range c.Rules {
		out.rules = append(out.rules, compiledRule{re: regexp.MustCompile(r.Org), customer: r.Customer, ignore: r.Ignore})
	}
	return out
}

// resolve returns the customer of an org, or ignore for the provider's own
// orgs; "" and false when nothing matches.
func (c customers) resolve(org string) (customer string, ignore bool) {
	if id, ok := c.byName[org]; ok {
		return id, false
	}
	for _, r := range c.rules {
		m := r.re.FindStringSubmatchIndex(org)
		if m == nil {
			continue
		}
		if r.ignore {
			return "", true
		}
		return string(r.re.ExpandString(nil, r.customer, org, m)), false
	}
	if c.sameName && collector.ValidCustomerID(org) {
		return org, false
	}
	return c.fallback, false
}
