package access

// Role is what a key may do. The numbers match billing.v1.Role.
type Role int

const (
	RoleUnspecified Role = iota
	// RoleAdmin manages the catalog, customers, prices, contracts, keys and
	// periods, and may do everything the other roles may.
	RoleAdmin
	// RoleCollector sends usage, nothing else.
	RoleCollector
	// RoleReader reads the catalog, customers, prices, usage, billing
	// results and reports.
	RoleReader
)

var roleNames = map[Role]string{RoleAdmin: "admin", RoleCollector: "collector", RoleReader: "reader"}

// String returns the lower-case name stored in the database ("" when unspecified).
func (r Role) String() string { return roleNames[r] }

// Valid reports whether r is a defined role.
func (r Role) Valid() bool { _, ok := roleNames[r]; return ok }

// ParseRole is the inverse of String.
func ParseRole(s string) (Role, bool) {
	for r, n := range roleNames {
		if n == s {
			return r, true
		}
	}
	return RoleUnspecified, false
}
