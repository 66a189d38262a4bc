package sim

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// Counts adds up billingd's acknowledgements of pushed usage.
type Counts struct {
	Accepted, Duplicates, Rejected int
}

// counter is shared by the collectors' clients.
type counter struct {
	mu    sync.Mutex
	n     Counts
	first string      // the first rejection, to show why
	fatal func(error) // called with a stream error retrying cannot cure
}

func (c *counter) onFatal(f func(error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fatal = f
}

// failed passes a stream error on when no retry can cure it: a key that
// is refused or a request billingd rejects as a whole.
func (c *counter) failed(err error) {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.FailedPrecondition, codes.Unimplemented:
	default:
		return
	}
	c.mu.Lock()
	f := c.fatal
	c.mu.Unlock()
	if f != nil {
		f(err)
	}
}

func (c *counter) add(r *billingv1.IngestUsageResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n.Accepted += int(r.GetAccepted())
	c.n.Duplicates += int(r.GetDuplicates())
	c.n.Rejected += len(r.GetRejected())
	if rej := r.GetRejected(); len(rej) > 0 && c.first == "" {
		c.first = rej[0].GetIdempotencyKey() + ": " + rej[0].GetField() + ": " + rej[0].GetReason()
	}
}

func (c *counter) get() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *counter) firstRejection() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

// countingClient counts the acknowledgements of IngestUsage streams.
type countingClient struct {
	billingv1.UsageServiceClient
	c *counter
}

func (cc countingClient) IngestUsage(ctx context.Context, opts ...grpc.CallOption) (grpc.BidiStreamingClient[billingv1.IngestUsageRequest, billingv1.IngestUsageResponse], error) {
	s, err := cc.UsageServiceClient.IngestUsage(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return countingStream{BidiStreamingClient: s, c: cc.c}, nil
}

type countingStream struct {
	grpc.BidiStreamingClient[billingv1.IngestUsageRequest, billingv1.IngestUsageResponse]
	c *counter
}

func (s countingStream) Recv() (*billingv1.IngestUsageResponse, error) {
	r, err := s.BidiStreamingClient.Recv()
	if err == nil {
		s.c.add(r)
	} else {
		s.c.failed(err)
	}
	return r, err
}

// printer writes the demo's progress: numbered steps, the month's changes
// as they happen and, on a terminal, a progress bar redrawn in place.
type printer struct {
	w        io.Writer
	live     bool
	barShown bool
	lastDay  int
}

func (p *printer) say(format string, args ...any) {
	p.clearBar()
	fmt.Fprintf(p.w, format, args...)
}

func (p *printer) step(n int, what string) {
	p.say("[%d/5] %s ", n, what)
}

func (p *printer) event(at time.Time, vm, what string) {
	p.say("      %s  %-16s %s\n", at.Format("Mon 02 Jan 15:04"), vm, what)
}

const barWidth = 30

// progress redraws the bar once per simulated day, on a terminal only.
func (p *printer) progress(done, total time.Duration, n Counts) {
	d := int(done / (24 * time.Hour))
	if !p.live || (d == p.lastDay && done < total) {
		return
	}
	p.lastDay = d
	filled := int(int64(barWidth) * int64(done) / int64(total))
	fmt.Fprintf(p.w, "\r      day %2d/%d [%s%s] %s records", min(d+1, int(total/(24*time.Hour))+1), int((total+24*time.Hour-1)/(24*time.Hour)),
		strings.Repeat("█", filled), strings.Repeat("░", barWidth-filled), thousands(n.Accepted+n.Duplicates))
	p.barShown = true
}

func (p *printer) clearBar() {
	if p.barShown {
		fmt.Fprint(p.w, "\r\033[K")
		p.barShown = false
	}
}

func (p *printer) done(summary string) {
	p.say("      %s\n", summary)
}
