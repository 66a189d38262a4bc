package access

import (
	"slices"
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/resource"
)

const (
	maxDisplayNameLen = 200
	maxLimitItems     = 64
	maxLimitLen       = 128
)

// Key is an API key. The secret itself is never stored; SecretHash is its
// SHA-256 (see HashSecret) and SecretPrefix its first characters.
type Key struct {
	ID          string
	DisplayName string
	Role        Role
	// CustomerID limits the key to one customer's data; "" means all.
	CustomerID string
	// Sources and Sites limit a collector key to usage records with one of
	// these sources / sites; empty means any.
	Sources      []string
	Sites        []string
	ExpireTime   time.Time // zero: never expires
	SecretPrefix string
	SecretHash   []byte `json:"-"`
	CreateTime   time.Time
	RevokeTime   time.Time // zero: not revoked
}

// Usable reports why a key cannot authenticate at now, or nil.
func (k Key) Usable(now time.Time) error {
	switch {
	case !k.RevokeTime.IsZero():
		return apperr.New(apperr.KindUnauthenticated, "API key %q was revoked", k.ID)
	case !k.ExpireTime.IsZero() && !now.Before(k.ExpireTime):
		return apperr.New(apperr.KindUnauthenticated, "API key %q expired at %s", k.ID, k.ExpireTime.UTC().Format(time.RFC3339))
	}
	return nil
}

// Principal is what a request authenticated with this key runs as.
func (k Key) Principal() Principal {
	return Principal{ID: k.ID, Role: k.Role, CustomerID: k.CustomerID, Sources: k.Sources, Sites: k.Sites}
}

// CreateKeyInput creates a key; ID empty means a generated one. RequestID
// (optional UUID) guards against creating two keys on a retried call: the
// secret is shown only once, so a replay is refused rather than answered.
type CreateKeyInput struct {
	Key       Key
	RequestID string
}

// Validate reports every problem of the input.
func (in CreateKeyInput) Validate() error {
	var v apperr.Invalid
	k := in.Key
	resource.CheckID(&v, "id", k.ID, false)
	resource.CheckText(&v, "display_name", k.DisplayName, true, maxDisplayNameLen)
	if !k.Role.Valid() {
		v.Add("role", "is required: admin, collector or reader")
	}
	resource.CheckID(&v, "customer_id", k.CustomerID, false)
	if k.Role == RoleAdmin && k.CustomerID != "" {
		// Admin calls change the catalog, default prices and keys, which
		// belong to every customer; a "customer admin" would need its own
		// rule for every write. Scoped keys read or collect only.
		v.Add("customer_id", "must be empty for an admin key: scope reader or collector keys instead")
	}
	if !k.ExpireTime.IsZero() {
		resource.CheckInstant(&v, "expire_time", k.ExpireTime)
	}
	checkLimits(&v, "sources", k.Sources, k.Role)
	checkLimits(&v, "sites", k.Sites, k.Role)
	resource.CheckRequestID(&v, in.RequestID)
	return v.Err()
}

func checkLimits(v *apperr.Invalid, field string, items []string, role Role) {
	if len(items) == 0 {
		return
	}
	if role != RoleCollector {
		v.Add(field, "is allowed only for collector keys")
	}
	if len(items) > maxLimitItems {
		v.Add(field, "must have at most %d items", maxLimitItems)
	}
	for i, s := range items {
		if s == "" || len(s) > maxLimitLen {
			v.Add(field, "item %d must be 1 to %d characters", i, maxLimitLen)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(items)))) != len(items) {
		v.Add(field, "must not repeat an item")
	}
}

// ListKeysParams pages through keys in id order; revoked keys only with
// IncludeRevoked.
type ListKeysParams struct {
	PageSize       int
	PageToken      string
	IncludeRevoked bool
}
