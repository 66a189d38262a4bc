package collector

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// MaxKeyLen is the longest idempotency key billingd accepts.
const MaxKeyLen = 256

// Key joins parts into a deterministic idempotency key, e.g.
// Key("vcenter", "vc01", uuid, "vm.vcpu", "1767225600") →
// "vcenter:vc01:<uuid>:vm.vcpu:1767225600". A ':' or '%' inside a part is
// percent-escaped so that different parts never join to the same key. A key
// longer than MaxKeyLen becomes the first part followed by the SHA-256 of
// the whole, which is as deterministic and still names its source.
func Key(parts ...string) string {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = keyEscaper.Replace(p)
	}
	k := strings.Join(esc, ":")
	if len(k) <= MaxKeyLen {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	head := esc[0]
	if len(head) > 64 {
		head = head[:64]
	}
	return head + ":sha256:" + hex.EncodeToString(sum[:])
}

var keyEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

// The format rules billingd applies to every record (see
// proto/billing/v1/usage.proto); checked here too so that bad source data is
// skipped with a reason before it is spooled, and so that a string that is
// not UTF-8 (which protobuf refuses to marshal) cannot block a window.
var (
	customerIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	metricKeyPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)
	dimensionPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)
)

// ValidCustomerID reports whether id is a customer id billingd accepts.
func ValidCustomerID(id string) bool { return customerIDPattern.MatchString(id) }

// Check reports the first format problem of r, or nil. It does not know
// which customers and metrics exist: billingd rejects those in its ack.
func (r Record) Check() error {
	switch {
	case r.Key == "" || len(r.Key) > MaxKeyLen:
		return fmt.Errorf("idempotency key must have 1 to %d bytes", MaxKeyLen)
	case !customerIDPattern.MatchString(r.CustomerID):
		return fmt.Errorf("customer id %q must match %s", r.CustomerID, customerIDPattern)
	case len(r.Metric) > 100 || !metricKeyPattern.MatchString(r.Metric):
		return fmt.Errorf("metric %q must match %s", r.Metric, metricKeyPattern)
	case r.Time.IsZero() == (r.Start.IsZero() && r.End.IsZero()):
		return fmt.Errorf("set either time or start and end")
	case r.Time.IsZero() && (r.Start.IsZero() || !r.End.After(r.Start)):
		return fmt.Errorf("end %s must be after start %s", r.End, r.Start)
	case len(r.Dimensions) > 32:
		return fmt.Errorf("at most 32 dimensions, got %d", len(r.Dimensions))
	case utf8.RuneCountInString(r.ResourceID) > 256:
		return fmt.Errorf("resource id must have at most 256 characters")
	case longerThan(128, r.OrganisationID, r.VdcID, r.Site, r.Source):
		return fmt.Errorf("organisation id, vdc id, site and source must have at most 128 characters")
	}
	for _, s := range []string{r.Key, r.ResourceID, r.OrganisationID, r.VdcID, r.Site, r.Source} {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("text %q is not valid UTF-8 without NUL", s)
		}
	}
	for k, v := range r.Dimensions {
		if !dimensionPattern.MatchString(k) {
			return fmt.Errorf("dimension key %q must match %s", k, dimensionPattern)
		}
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 || utf8.RuneCountInString(v) > 256 {
			return fmt.Errorf("dimension %q: value must be valid UTF-8 without NUL, at most 256 characters", k)
		}
	}
	return nil
}

func longerThan(n int, ss ...string) bool {
	for _, s := range ss {
		if utf8.RuneCountInString(s) > n {
			return true
		}
	}
	return false
}

// proto converts r to the wire record.
func (r Record) proto() *billingv1.UsageRecord {
	out := &billingv1.UsageRecord{
		IdempotencyKey: r.Key, CustomerId: r.CustomerID, MetricKey: r.Metric, Quantity: r.Quantity.String(),
		ResourceId: r.ResourceID, OrganisationId: r.OrganisationID, VdcId: r.VdcID,
		Site: r.Site, Source: r.Source, Dimensions: r.Dimensions,
	}
	if !r.Time.IsZero() {
		out.Time = timestamppb.New(r.Time)
	} else {
		out.StartTime, out.EndTime = timestamppb.New(r.Start), timestamppb.New(r.End)
	}
	return out
}
