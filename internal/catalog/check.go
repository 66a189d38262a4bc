package catalog

import (
	"regexp"

	"github.com/billingd/billingd/internal/apperr"
)

// Format rules of the catalog's own inputs (ids, text, request ids and masks
// are checked by package resource). They repeat the proto's protovalidate
// rules because the domain must not trust the transport.
var (
	metricKeyPattern    = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)
	dimensionKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)
)

const (
	maxMetricKeyLen    = 100
	maxDisplayNameLen  = 200
	maxDescriptionLen  = 2000
	maxUnitLen         = 32
	maxFilterPairs     = 16
	maxDimensionValLen = 256
)

func checkMetricKey(v *apperr.Invalid, field, key string) {
	switch {
	case key == "":
		v.Add(field, "is required")
	case len(key) > maxMetricKeyLen:
		v.Add(field, "must be at most %d characters", maxMetricKeyLen)
	case !metricKeyPattern.MatchString(key):
		v.Add(field, "must match %s", metricKeyPattern)
	}
}
