package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// rawCodec sends bytes as they are, so a test can put any bytes on the
// wire where a protobuf message belongs.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return nil, fmt.Errorf("rawCodec: %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}

// rawMethods are methods of every decoding path: unary with vtprotobuf's
// decoder, unary with protobuf's (health), and a client stream.
var rawMethods = []string{
	"/billing.v1.CatalogService/CreateMetric",
	"/billing.v1.CustomerService/GetCustomer",
	"/billing.v1.UsageService/BatchIngestUsage",
	"/billing.v1.BillingService/QueryBilling",
	"/grpc.health.v1.Health/Check",
	"/billing.v1.UsageService/IngestUsage",
}

// callRaw sends body to method and returns the call's error.
func callRaw(ctx context.Context, conn *grpc.ClientConn, method string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if !strings.HasSuffix(method, "/IngestUsage") {
		var out []byte
		return conn.Invoke(ctx, method, body, &out, grpc.ForceCodec(rawCodec{}))
	}
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, method, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		return err
	}
	if err := st.SendMsg(body); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	var out []byte
	return st.RecvMsg(&out)
}

// malformedProtobuf are bodies no protobuf decoder accepts.
var malformedProtobuf = map[string][]byte{
	"wire type 7":          {0x0f},
	"field number 0":       {0x00},
	"truncated length":     {0x0a, 0x0a, 'a', 'b'},
	"truncated varint":     {0x10, 0xff, 0xff},
	"invalid UTF-8":        {0x0a, 0x01, 0xff},
	"unterminated group":   {0x0b},
	"mismatched end group": {0x0b, 0x14},
	"deep groups":          []byte(strings.Repeat("\x0b", 20000)),
}

// TestMalformedProtobufIsInvalidArgument: a body that is not protobuf is
// the client's mistake, InvalidArgument, on every decoding path.
func TestMalformedProtobufIsInvalidArgument(t *testing.T) {
	t.Parallel()
	s := startOnTestDB(t)
	for name, body := range malformedProtobuf {
		for _, m := range rawMethods {
			if err := callRaw(t.Context(), s.conn, m, body); status.Code(err) != codes.InvalidArgument {
				t.Errorf("%s to %s: %v, want InvalidArgument", name, m, err)
			}
		}
	}
}

// FuzzGRPCRawBytes sends arbitrary bytes as the request of methods of
// every decoding path: the answer may be anything but a server error.
func FuzzGRPCRawBytes(f *testing.F) {
	for _, body := range malformedProtobuf {
		f.Add(uint8(0), body)
	}
	f.Add(uint8(0), []byte("\x0a\x06vm.new\x12\x01x\x18\x01"))
	f.Add(uint8(2), []byte("\x0a\x04\x0a\x02k1"))
	conn := dial(f, fuzzApp(f))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		m := rawMethods[int(which)%len(rawMethods)]
		switch code := status.Code(callRaw(context.Background(), conn, m, body)); code {
		case codes.Internal, codes.Unknown, codes.Unavailable, codes.DataLoss, codes.Unimplemented:
			t.Fatalf("%s %q: %v", m, body, code)
		}
	})
}
