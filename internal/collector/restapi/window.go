package restapi

import (
	"fmt"
	"time"

	"github.com/billingd/billingd/internal/collector"
)

// Window is the interval [Start, End) a poll of an interval-gauge source
// measures: from the previous poll (the cursor) to now, in whole seconds.
type Window struct {
	Start, End time.Time
}

// NextWindow reads the cursor. It returns ok false when there is nothing to
// collect: on the first run (no cursor; the batch just sets the start) and
// when now is not after the cursor. next is the cursor to return either way.
func NextWindow(cursor collector.Cursor, now time.Time) (w Window, next collector.Cursor, ok bool, err error) {
	end := now.UTC().Truncate(time.Second)
	if cursor == "" {
		return Window{}, FormatCursor(end), false, nil
	}
	start, err := time.Parse(time.RFC3339, string(cursor))
	if err != nil {
		return Window{}, "", false, fmt.Errorf("cursor %q: %w", cursor, err)
	}
	if !end.After(start) {
		return Window{}, cursor, false, nil
	}
	return Window{Start: start.UTC(), End: end}, FormatCursor(end), true, nil
}

// FormatCursor writes a window end as a cursor (RFC 3339, UTC).
func FormatCursor(t time.Time) collector.Cursor {
	return collector.Cursor(t.UTC().Format(time.RFC3339))
}

// Bucket is the window start in Unix seconds, the last part of every key.
func (w Window) Bucket() string { return fmt.Sprint(w.Start.Unix()) }
