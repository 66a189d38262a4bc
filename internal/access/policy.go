package access

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/billingd/billingd/internal/apperr"
)

// Scope says how a customer-scoped principal is held to its customer on a
// method.
type Scope int

const (
	// ScopeNone: the method reads no customer's data (the catalog); a
	// scoped principal may call it like any other.
	ScopeNone Scope = iota
	// ScopeGlobal: the method concerns every customer (catalog writes, keys,
	// the audit trail); a scoped principal may not call it.
	ScopeGlobal
	// ScopeCustomer: the request names its customer(s) at Rule.Customer;
	// every one must be the principal's.
	ScopeCustomer
	// ScopeFilter: Rule.Customer is an optional customer filter; a scoped
	// principal that sets none gets it set to its customer, one that names
	// another customer is refused.
	ScopeFilter
	// ScopeHandler: the request names a resource by id whose owner only the
	// handler can know (a contract, a price list); the handler calls
	// CheckOwner.
	ScopeHandler
)

// Rule is the access rule of one gRPC method.
type Rule struct {
	Roles []Role
	Scope Scope
	// Customer is the path of the request field naming the customer(s), for
	// ScopeCustomer and ScopeFilter: "customer_id", "query.customer_ids",
	// "records.customer_id" (every record).
	Customer string
	// PublicIf names a bool request field that, when true, limits the
	// request to the defaults every customer sees (ListPriceLists'
	// default_only), so a scoped principal's filter is left alone.
	PublicIf string
	// Source and Site are the paths of the usage records' source and site,
	// held to a collector key's limits.
	Source, Site string
}

// Customers returns the customers req names at r.Customer; ok is false when
// it names none.
func (r Rule) Customers(req proto.Message) (customerIDs []string, ok bool) {
	m := reflectOf(req)
	if m == nil || r.Customer == "" {
		return nil, false
	}
	for _, id := range values(m, r.Customer) {
		if id != "" {
			customerIDs = append(customerIDs, id)
		}
	}
	return customerIDs, len(customerIDs) > 0
}

// CheckPaths reports a path of r that does not fit the request type d.
func (r Rule) CheckPaths(d protoreflect.MessageDescriptor) error {
	for _, p := range []string{r.Customer, r.Source, r.Site} {
		if p == "" {
			continue
		}
		if err := checkPath(d, p); err != nil {
			return err
		}
	}
	if r.PublicIf != "" {
		fd := d.Fields().ByName(protoreflect.Name(r.PublicIf))
		if fd == nil || fd.Kind() != protoreflect.BoolKind {
			return fmt.Errorf("%s has no bool field %q", d.FullName(), r.PublicIf)
		}
	}
	if (r.Scope == ScopeCustomer || r.Scope == ScopeFilter) && r.Customer == "" {
		return fmt.Errorf("scope %d needs a Customer path", r.Scope)
	}
	return nil
}

// PublicMethod reports whether a method needs no authentication: the
// standard health and reflection services.
func PublicMethod(fullMethod string) bool {
	for _, prefix := range []string{"/grpc.health.v1.Health/", "/grpc.reflection.v1.ServerReflection/", "/grpc.reflection.v1alpha.ServerReflection/"} {
		if strings.HasPrefix(fullMethod, prefix) {
			return true
		}
	}
	return false
}

// RuleFor returns the rule of a full gRPC method name.
func RuleFor(fullMethod string) (Rule, bool) {
	r, ok := policy[fullMethod]
	return r, ok
}

// Methods lists every method the policy covers.
func Methods() []string {
	out := make([]string, 0, len(policy))
	for m := range policy {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

// AuthorizeCall checks that p's role may call the method at all. A method
// without a rule is refused: a new RPC cannot ship unprotected.
func AuthorizeCall(fullMethod string, p Principal) error {
	r, ok := policy[fullMethod]
	if !ok {
		return apperr.New(apperr.KindPermissionDenied, "%s has no access rule", fullMethod)
	}
	if !slices.Contains(r.Roles, p.Role) {
		return apperr.New(apperr.KindPermissionDenied, "an API key with role %s may not call %s", roleName(p.Role), fullMethod)
	}
	return nil
}

// AuthorizeMessage holds one request message to p's customer scope and
// collector limits. For ScopeFilter it narrows req in place: a scoped
// principal's request without a customer filter gets its customer's.
// Call AuthorizeCall first.
func AuthorizeMessage(fullMethod string, p Principal, req proto.Message) error {
	r := policy[fullMethod]
	m := reflectOf(req)
	if m == nil {
		return nil
	}
	if p.Scoped() {
		if err := r.holdToCustomer(p, req); err != nil {
			return err
		}
	}
	if r.Source != "" && (len(p.Sources) > 0 || len(p.Sites) > 0) {
		sources, sites := values(m, r.Source), values(m, r.Site)
		for i := range sources {
			site := ""
			if i < len(sites) {
				site = sites[i]
			}
			if err := p.MaySend(sources[i], site); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r Rule) holdToCustomer(p Principal, req proto.Message) error {
	switch r.Scope {
	case ScopeNone, ScopeHandler:
		return nil
	case ScopeCustomer, ScopeFilter:
		if r.PublicIf != "" && boolAt(req.ProtoReflect(), r.PublicIf) {
			return nil
		}
		ids, ok := r.Customers(req)
		if !ok && r.Scope == ScopeFilter {
			setOne(req.ProtoReflect(), r.Customer, p.CustomerID)
			return nil
		}
		if !ok {
			return ErrOutOfScope
		}
		for _, id := range ids {
			if id != p.CustomerID {
				return ErrOutOfScope
			}
		}
		return nil
	}
	return ErrOutOfScope // ScopeGlobal, or a scope this code does not know
}

func roleName(r Role) string {
	if r.Valid() {
		return r.String()
	}
	return "none"
}
