package codec_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/rpc/codec"
)

// echoUsage acknowledges each batch with its sequence, its record count and
// its first record's key as a rejection, so the client sees what arrived.
type echoUsage struct {
	billingv1.UnimplementedUsageServiceServer
}

func (echoUsage) IngestUsage(s grpc.BidiStreamingServer[billingv1.IngestUsageRequest, billingv1.IngestUsageResponse]) error {
	for {
		req, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		ack := &billingv1.IngestUsageResponse{Sequence: req.GetSequence(), Accepted: int32(len(req.GetRecords())),
			Rejected: []*billingv1.RecordRejection{{IdempotencyKey: req.GetRecords()[0].GetIdempotencyKey() + " ✓"}}}
		if err := s.Send(ack); err != nil {
			return err
		}
	}
}

// serveEcho serves echoUsage and health with the codec and opts over an
// in-memory listener until the test ends, and returns how to connect to it:
// plaintext, with opts, closed when the (sub)test that dials ends.
func serveEcho(t *testing.T, opts ...grpc.ServerOption) (dial func(*testing.T, ...grpc.DialOption) *grpc.ClientConn) {
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(append(codec.ServerOptions(), opts...)...)
	billingv1.RegisterUsageServiceServer(srv, echoUsage{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return func(t *testing.T, opts ...grpc.DialOption) *grpc.ClientConn {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
		conn, err := grpc.NewClient("passthrough:///bufconn", opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
}

// TestOverGRPC: a server with the codec talks to clients with and without
// it, vtprotobuf messages and others (health) alike.
func TestOverGRPC(t *testing.T) {
	dial := serveEcho(t, grpc.MaxRecvMsgSize(16<<20))
	for name, opts := range map[string][]grpc.DialOption{
		"client with the codec": {codec.DialOption()},
		"plain grpc client":     nil,
	} {
		t.Run(name, func(t *testing.T) {
			conn := dial(t, append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(16<<20)))...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatalf("health (no vtprotobuf methods): %v", err)
			}
			stream, err := billingv1.NewUsageServiceClient(conn).IngestUsage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for seq, n := range []int{1, 5000} {
				req := batch(n)
				req.Sequence = uint64(seq + 1)
				if err := stream.Send(req); err != nil {
					t.Fatal(err)
				}
				ack, err := stream.Recv()
				if err != nil {
					t.Fatal(err)
				}
				want := &billingv1.IngestUsageResponse{Sequence: req.Sequence, Accepted: int32(n),
					Rejected: []*billingv1.RecordRejection{{IdempotencyKey: req.Records[0].IdempotencyKey + " ✓"}}}
				if !proto.Equal(ack, want) {
					t.Errorf("ack %v, want %v", ack, want)
				}
			}
			if err := stream.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
				t.Errorf("end of stream: %v", err)
			}
		})
	}
}

// TestServerRefusesInvalidUTF8 as grpc's codec did, but as the client's
// mistake: InvalidArgument, and the stream ends. The client's encoding skips the check (MarshalVT alone),
// as a client in another language might send anything.
func TestServerRefusesInvalidUTF8(t *testing.T) {
	conn := serveEcho(t)(t, grpc.WithDefaultCallOptions(grpc.ForceCodecV2(uncheckedCodec{})))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := billingv1.NewUsageServiceClient(conn).IngestUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := batch(2)
	req.Records[1].Dimensions["policy"] = "\xffGold"
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "invalid UTF-8") {
		t.Errorf("got %v, want InvalidArgument: … invalid UTF-8", err)
	}
}

// uncheckedCodec encodes with MarshalVT, which does not check UTF-8.
type uncheckedCodec struct{ codec.Codec }

func (uncheckedCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := v.(interface{ MarshalVT() ([]byte, error) }).MarshalVT()
	return mem.BufferSlice{mem.SliceBuffer(b)}, err
}
