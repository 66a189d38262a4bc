package vcenter

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// TenantRule maps a VM to a customer by one of five selectors:
//
//   - Folder: the inventory path of a VM folder, e.g. /DC1/vm/Tenants/acme;
//     it matches VMs in that folder or any folder below it (segment by
//     segment: /DC1/vm/acme does not match /DC1/vm/acme2). A segment "*"
//     matches any name; a segment "{customer}" matches any name and makes it
//     the customer id (/DC1/vm/Tenants/{customer}).
//   - ResourcePool: the same over the VM's resource pool path, e.g.
//     /DC1/host/Cluster1/Resources/acme.
//   - Attribute: a custom attribute (custom field) of the VM. Its value is
//     the customer id, or, with Value, the rule matches when the value
//     equals Value and Customer is the id.
//   - Name: a regular expression on the VM name; Customer may refer to its
//     groups ($1, ${name}).
//   - TagCategory and/or Tag: vSphere tags attached to the VM. TagCategory
//     alone: the name of the VM's tag in that category is the customer id
//     (two tags in the category make the VM ambiguous: it is skipped, not
//     passed on to the next rule). Tag, with or without TagCategory: the
//     rule matches when the VM carries a tag of that name (in that
//     category), and Customer is the id.
//
// Customer is required unless the selector yields the id itself, or
// Ignore is set: the VMs the rule matches are the provider's own
// (vCenter, NSX, backup proxies) and are left out without a skip.
type TenantRule struct {
	Folder       string `yaml:"folder"`
	ResourcePool string `yaml:"resource_pool"`
	Attribute    string `yaml:"attribute"`
	Value        string `yaml:"value"`
	Name         string `yaml:"name"`
	TagCategory  string `yaml:"tag_category"`
	Tag          string `yaml:"tag"`
	Customer     string `yaml:"customer"`
	Ignore       bool   `yaml:"ignore"`
}

const customerSegment = "{customer}"

func (r TenantRule) validate() error {
	n := 0
	for _, s := range []string{r.Folder, r.ResourcePool, r.Attribute, r.Name, r.TagCategory + r.Tag} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("set exactly one of folder, resource_pool, attribute, name, tag_category/tag")
	}
	if r.Ignore {
		if r.Customer != "" || strings.Contains(r.Folder+r.ResourcePool, customerSegment) {
			return errors.New("ignore takes no customer")
		}
		if r.Value == "" && r.Attribute != "" {
			return errors.New("ignore with attribute needs a value")
		}
		if r.Tag == "" && r.TagCategory != "" {
			return errors.New("ignore with tag_category needs a tag")
		}
		if r.Name != "" {
			if _, err := regexp.Compile(r.Name); err != nil {
				return fmt.Errorf("name: %w", err)
			}
		}
		return nil
	}
	var errs []error
	for _, p := range []string{r.Folder, r.ResourcePool} {
		switch {
		case p == "":
		case !strings.HasPrefix(p, "/"):
			errs = append(errs, fmt.Errorf("path %q must start with /", p))
		case strings.Count(p, customerSegment) > 1:
			errs = append(errs, fmt.Errorf("path %q: %s at most once", p, customerSegment))
		case strings.Contains(p, customerSegment) && r.Customer != "":
			errs = append(errs, fmt.Errorf("path %q captures the customer; drop customer", p))
		case !strings.Contains(p, customerSegment) && r.Customer == "":
			errs = append(errs, fmt.Errorf("path %q: customer is required (or a %s segment)", p, customerSegment))
		}
	}
	if r.Value != "" && r.Attribute == "" {
		errs = append(errs, errors.New("value goes with attribute"))
	}
	if r.Attribute != "" && (r.Value == "") != (r.Customer == "") {
		errs = append(errs, errors.New("attribute: give both value and customer, or neither (the value is the customer id)"))
	}
	if r.Name != "" {
		if _, err := regexp.Compile(r.Name); err != nil {
			errs = append(errs, fmt.Errorf("name: %w", err))
		}
		if r.Customer == "" {
			errs = append(errs, errors.New("name: customer is required (may use $1)"))
		}
	}
	switch {
	case r.Tag != "" && r.Customer == "":
		errs = append(errs, errors.New("tag: customer is required"))
	case r.Tag == "" && r.TagCategory != "" && r.Customer != "":
		errs = append(errs, errors.New("tag_category: the tag name is the customer id; drop customer, or give the tag it stands for"))
	}
	return errors.Join(errs...)
}

// vmOwner is what the rules look at.
type vmOwner struct {
	name, folder, pool string
	attrs              map[string]string // custom attribute name → value
	tags               []vmTag
}

// vmTag is a vSphere tag attached to a VM, by names.
type vmTag struct {
	category, name string
}

// usesTags tells whether any rule needs the VMs' tags, and whether any
// needs the names of their categories.
func usesTags(rs []TenantRule) (tags, categories bool) {
	for _, r := range rs {
		tags = tags || r.Tag != "" || r.TagCategory != ""
		categories = categories || r.TagCategory != ""
	}
	return tags, categories
}

// rule is a compiled TenantRule.
type rule struct {
	TenantRule
	path []string // of Folder or ResourcePool
	name *regexp.Regexp
}

func compileRules(rs []TenantRule) []rule {
	out := make([]rule, len(rs))
	for i, r := range rs {
		out[i].TenantRule = r
		if p := r.Folder + r.ResourcePool; p != "" {
			out[i].path = splitPath(p)
		}
		if r.Name != "" {
			out[i].name = regexp.MustCompile(r.Name) // validated
		}
	}
	return out
}

// match is the outcome of the tenant rules for one VM.
type match struct {
	customer string   // "" for an Ignore rule or no match
	rule     int      // index of the rule that decided; -1 when none matched
	conflict []string // set when the deciding rule found several candidate ids: skip the VM
}

// customer returns the id the first matching rule gives, and the rule's
// index; -1 when no rule matches. An Ignore rule gives "". A tag_category
// rule that finds several tags of its category on the VM decides too, with
// the conflict set: guessing one would bill the wrong customer, and passing
// the VM on to later rules would hide the mistake.
func customer(rules []rule, vm vmOwner) match {
	for i, r := range rules {
		var (
			id string
			ok bool
		)
		switch {
		case r.Folder != "":
			id, ok = matchPath(r.path, vm.folder)
		case r.ResourcePool != "":
			id, ok = matchPath(r.path, vm.pool)
		case r.Attribute != "":
			v, has := vm.attrs[r.Attribute]
			switch {
			case !has || v == "":
			case r.Value == "":
				id, ok = strings.TrimSpace(v), true
			case v == r.Value:
				ok = true
			}
		case r.name != nil:
			if m := r.name.FindStringSubmatchIndex(vm.name); m != nil {
				if r.Ignore {
					return match{rule: i}
				}
				return match{customer: string(r.name.ExpandString(nil, r.Customer, vm.name, m)), rule: i}
			}
		case r.TagCategory != "" || r.Tag != "":
			names := tagNames(vm.tags, r.TagCategory, r.Tag)
			switch {
			case len(names) == 0:
			case r.Tag != "":
				ok = true
			case len(names) > 1:
				return match{rule: i, conflict: names}
			default:
				id, ok = strings.TrimSpace(names[0]), true
			}
		}
		if ok && r.Ignore {
			return match{rule: i}
		}
		if ok {
			if id == "" {
				id = r.Customer
			}
			return match{customer: id, rule: i}
		}
	}
	return match{rule: -1}
}

// tagNames returns the sorted, distinct names of the tags in category
// (any category when empty) and, when name is set, of that name only.
func tagNames(tags []vmTag, category, name string) []string {
	var out []string
	for _, t := range tags {
		if (category == "" || t.category == category) && (name == "" || t.name == name) {
			out = append(out, t.name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// matchPath matches an inventory path against a rule's segments (a prefix
// of whole segments) and returns the {customer} segment, if any.
func matchPath(pattern []string, path string) (string, bool) {
	if path == "" {
		return "", false
	}
	segs := splitPath(path)
	if len(segs) < len(pattern) {
		return "", false
	}
	var id string
	for i, p := range pattern {
		switch p {
		case "*":
		case customerSegment:
			id = segs[i]
		default:
			if segs[i] != p {
				return "", false
			}
		}
	}
	return id, true
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}
