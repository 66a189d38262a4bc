package access

import (
	"context"
	"slices"

	"github.com/billingd/billingd/internal/apperr"
)

// Principal is who a request runs as: an API key, a client certificate or
// billingd itself.
type Principal struct {
	// ID names the actor in the audit trail: the API key id, "cert:<CN>"
	// for a client certificate, "system" for billingd's own calls.
	ID   string
	Role Role
	// CustomerID limits the principal to one customer's data; "" means all.
	CustomerID string
	// Sources and Sites limit the usage a collector may send; empty means any.
	Sources []string
	Sites   []string
}

// System is billingd calling itself (the demo loader). It is never reachable
// from the network.
var System = Principal{ID: "system", Role: RoleAdmin}

// Anonymous is every caller when authentication is off (--auth=off).
var Anonymous = Principal{ID: "anonymous", Role: RoleAdmin}

// Scoped reports whether p sees one customer only.
func (p Principal) Scoped() bool { return p.CustomerID != "" }

// MaySend reports whether p may send a usage record with this source and site.
func (p Principal) MaySend(source, site string) error {
	if len(p.Sources) > 0 && !slices.Contains(p.Sources, source) {
		return apperr.New(apperr.KindPermissionDenied, "the API key may not send usage of source %q", source)
	}
	if len(p.Sites) > 0 && !slices.Contains(p.Sites, site) {
		return apperr.New(apperr.KindPermissionDenied, "the API key may not send usage of site %q", site)
	}
	return nil
}

// ErrOutOfScope answers every request of a customer-scoped key that reaches
// beyond its customer. It is the same whether the other customer or resource
// exists or not, so the key learns nothing about what exists.
var ErrOutOfScope = apperr.New(apperr.KindPermissionDenied, "outside the API key's customer scope")

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal a request runs as. It is absent only
// where no interceptor runs (unit tests of handlers), which the handlers
// treat as unrestricted.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// CheckOwner guards a read of a resource owned by customer owner ("" for
// the defaults every customer sees), for the handlers of Get and List calls
// the interceptor cannot judge. err is the read's own error: for a scoped
// principal NotFound becomes ErrOutOfScope, so a missing resource and
// another customer's look the same.
func CheckOwner(ctx context.Context, owner string, err error) error {
	p, ok := FromContext(ctx)
	if !ok || !p.Scoped() {
		return err
	}
	if err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return ErrOutOfScope
		}
		return err
	}
	if owner != "" && owner != p.CustomerID {
		return ErrOutOfScope
	}
	return nil
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the call, recorded with
// every audit event it causes.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id of the call, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
