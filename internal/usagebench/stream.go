package usagebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/rpc/codec"
)

// StreamConfig says how Stream sends its records.
type StreamConfig struct {
	Records int // records [0, Records)
	Clients int // concurrent clients, each on its own connection and stream
	Batch   int // records per message, at most 10,000
	Window  int // unacknowledged messages per stream
}

func (c Config) stream() StreamConfig {
	return StreamConfig{Records: c.Records, Clients: c.Clients, Batch: c.Batch, Window: c.Window}
}

// Stream sends records [0, cfg.Records) through UsageService.IngestUsage
// from cfg.Clients clients, each with its own contiguous share, and returns
// the time from the first send to the last acknowledgement. fill makes a
// record i in place (reusing its timestamp and map fields, as a message is
// marshalled before the next is built). A client keeps up to cfg.Window
// messages unacknowledged, as a collector would to keep the pipe full; any
// rejected record, or an acknowledgement that does not count every record
// as accepted or duplicate, is an error.
func Stream(ctx context.Context, addr string, cfg StreamConfig, fill func(*billingv1.UsageRecord, int)) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conns := make([]*grpc.ClientConn, cfg.Clients)
	for c := range conns {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			codec.DialOption(), // as billingd-collect: vtprotobuf encodes the batches
			grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(16<<20)))
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		conns[c] = conn
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	start := time.Now()
	for c, conn := range conns {
		from, to := cfg.Records*c/cfg.Clients, cfg.Records*(c+1)/cfg.Clients
		wg.Go(func() {
			if err := client(ctx, billingv1.NewUsageServiceClient(conn), from, to, cfg, fill); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("client %d: %w", c, err))
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

func client(ctx context.Context, usage billingv1.UsageServiceClient, from, to int, cfg StreamConfig, fill func(*billingv1.UsageRecord, int)) error {
	s, err := usage.IngestUsage(ctx)
	if err != nil {
		return err
	}
	window := make(chan struct{}, cfg.Window)
	sendErr := make(chan error, 1)
	batches := (to - from + cfg.Batch - 1) / cfg.Batch
	go func() {
		defer close(sendErr)
		req := &billingv1.IngestUsageRequest{}
		for b := range batches {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			lo, hi := from+b*cfg.Batch, min(from+(b+1)*cfg.Batch, to)
			req.Sequence = uint64(b + 1)
			for len(req.Records) < hi-lo {
				req.Records = append(req.Records, &billingv1.UsageRecord{})
			}
			req.Records = req.Records[:hi-lo]
			for j, r := range req.Records {
				fill(r, lo+j)
			}
			// Send has marshalled req when it returns, so req is free again.
			if err := s.Send(req); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- s.CloseSend()
	}()
	accepted := 0
	for b := range batches {
		ack, err := s.Recv()
		if err != nil {
			return fmt.Errorf("ack %d: %w", b+1, err)
		}
		if ack.GetSequence() != uint64(b+1) || len(ack.GetRejected()) > 0 {
			return fmt.Errorf("ack %d: sequence %d, %d rejected (first: %v)", b+1, ack.GetSequence(), len(ack.GetRejected()), ack.GetRejected())
		}
		accepted += int(ack.GetAccepted() + ack.GetDuplicates())
		<-window
	}
	if err := <-sendErr; err != nil {
		return err
	}
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("end of stream: %v", err)
	}
	if accepted != to-from {
		return fmt.Errorf("acknowledged %d records, sent %d", accepted, to-from)
	}
	return nil
}
