package resource

import (
	"time"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/clock"
	"github.com/google/uuid"
)

// NewID returns a new resource id: a UUIDv7, so ids sort by creation time.
func NewID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", apperr.Wrap(apperr.KindInternal, err, "cannot generate an id")
	}
	return id.String(), nil
}

// Timestamp is t in UTC at the database's precision (microseconds), so what a
// write returns equals what a later read gets.
func Timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Now is c's current time as a Timestamp.
func Now(c clock.Clock) time.Time { return Timestamp(c.Now()) }
