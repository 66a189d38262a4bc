package codec_test

import (
	"bufio"
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/rpc/codec"
	"github.com/billingd/billingd/internal/usagebench"
)

// usageMessages has a filled value of every message UsageService sends or
// receives, records and rejections included.
func usageMessages() []proto.Message {
	ts := timestamppb.New(time.Date(2025, 6, 1, 12, 30, 0, 5000, time.UTC))
	interval := &billingv1.UsageRecord{
		IdempotencyKey: "k-2", CustomerId: "cust-1", MetricKey: "net.egress_gb", Quantity: "-12.5",
		StartTime: ts, EndTime: timestamppb.New(ts.AsTime().Add(time.Hour)), ResourceId: "vm-1",
		OrganisationId: "org", VdcId: "vdc", Site: "fra1", Source: "vcenter:vc01",
		Dimensions: map[string]string{"policy": "Gold", "tier": "ünïcode ✓"}, ReceiveTime: ts,
	}
	rejected := []*billingv1.RecordRejection{{Index: 3, IdempotencyKey: "k-3", Field: "quantity", Reason: "is not a decimal"}}
	return []proto.Message{
		&billingv1.IngestUsageRequest{Sequence: 1 << 40, Records: []*billingv1.UsageRecord{usagebench.Record(0), interval}},
		&billingv1.IngestUsageResponse{Sequence: 7, Accepted: 2, Duplicates: 1, Rejected: rejected},
		&billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{interval, usagebench.Record(1)}},
		&billingv1.BatchIngestUsageResponse{Accepted: -1, Duplicates: 2, Rejected: rejected},
		&billingv1.ListUsageRequest{CustomerId: "cust-1", MetricKey: "vm.vcpu", ResourceId: "vm-1", StartTime: ts, EndTime: ts, PageSize: 10, PageToken: "tok"},
		&billingv1.ListUsageResponse{UsageRecords: []*billingv1.UsageRecord{interval, usagebench.Record(2)}, NextPageToken: "next"},
		interval,
		rejected[0],
		&billingv1.IngestUsageRequest{}, // empty: zero bytes
	}
}

func TestMessagesOfUsageServiceUseVTProto(t *testing.T) {
	for _, m := range usageMessages() {
		if _, ok := m.(interface{ UnmarshalVT([]byte) error }); !ok {
			t.Errorf("%T has no UnmarshalVT: regenerate gen/ (make generate)", m)
		}
	}
}

// TestRoundTrip checks the codec against protobuf both ways, so either side
// of a connection may use either codec.
func TestRoundTrip(t *testing.T) {
	c := codec.Codec{}
	for _, m := range usageMessages() {
		data, err := c.Marshal(m)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		got := m.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(data.Materialize(), got); err != nil {
			t.Fatalf("%T: proto.Unmarshal of the codec's bytes: %v", m, err)
		}
		if !proto.Equal(m, got) {
			t.Errorf("%T: codec → proto: got %v, want %v", m, got, m)
		}
		wire, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got = m.ProtoReflect().New().Interface()
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, got); err != nil {
			t.Fatalf("%T: codec.Unmarshal of proto's bytes: %v", m, err)
		}
		if !proto.Equal(m, got) {
			t.Errorf("%T: proto → codec: got %v, want %v", m, got, m)
		}
		data.Free()
	}
}

// TestLargeMessageFromPoolAndSplit covers the pooled marshal buffer and a
// received message split over several buffers, as grpc hands it over.
func TestLargeMessageFromPoolAndSplit(t *testing.T) {
	req := batch(5000)
	c := codec.Codec{}
	data, err := c.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	wire := data.Materialize()
	data.Free()
	if want := proto.Size(req); len(wire) != want {
		t.Fatalf("marshalled %d bytes, proto.Size says %d", len(wire), want)
	}
	var split mem.BufferSlice
	for chunk := range slices.Chunk(wire, 16<<10) {
		split = append(split, mem.SliceBuffer(chunk))
	}
	got := &billingv1.IngestUsageRequest{}
	if err := c.Unmarshal(split, got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(req, got) {
		t.Error("the 5000-record request came back different")
	}
}

// TestUnmarshalDoesNotAliasItsInput: grpc reuses the buffer once Unmarshal
// returns, so no string may point into it.
func TestUnmarshalDoesNotAliasItsInput(t *testing.T) {
	want := usagebench.Record(42)
	wire, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got := &billingv1.UsageRecord{}
	if err := (codec.Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, got); err != nil {
		t.Fatal(err)
	}
	clear(wire)
	if !proto.Equal(want, got) {
		t.Errorf("the message changed with its input buffer: got %v, want %v", got, want)
	}
}

// TestUnmarshalReplaces: like proto.Unmarshal, fields absent from the input
// are not left over from before (UnmarshalVT alone merges).
func TestUnmarshalReplaces(t *testing.T) {
	wire, err := proto.Marshal(&billingv1.IngestUsageResponse{Sequence: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := &billingv1.IngestUsageResponse{Sequence: 1, Accepted: 5, Rejected: []*billingv1.RecordRejection{{Index: 1}}}
	if err := (codec.Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, got); err != nil {
		t.Fatal(err)
	}
	if want := (&billingv1.IngestUsageResponse{Sequence: 2}); !proto.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestUnknownFieldsSurvive(t *testing.T) {
	wire, err := proto.Marshal(&billingv1.IngestUsageResponse{Sequence: 3})
	if err != nil {
		t.Fatal(err)
	}
	wire = protowire.AppendTag(wire, 99, protowire.BytesType)
	wire = protowire.AppendString(wire, "from a newer peer")
	c := codec.Codec{}
	got := &billingv1.IngestUsageResponse{}
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, got); err != nil {
		t.Fatal(err)
	}
	again, err := c.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Materialize(), wire) {
		t.Errorf("re-marshalled %x, want %x", again.Materialize(), wire)
	}
}

// TestInvalidUTF8IsRefusedAsByProto: vtprotobuf does not check UTF-8, the
// codec does, wherever protobuf does (proto3 strings, map keys and values).
func TestInvalidUTF8IsRefusedAsByProto(t *testing.T) {
	const bad = "bad \xff"
	cases := map[string]proto.Message{
		"record field":     &billingv1.IngestUsageRequest{Records: []*billingv1.UsageRecord{usagebench.Record(0), {IdempotencyKey: bad}}},
		"map key":          &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{{Dimensions: map[string]string{bad: "x"}}}},
		"map value":        &billingv1.BatchIngestUsageRequest{Records: []*billingv1.UsageRecord{{Dimensions: map[string]string{"x": bad}}}},
		"top-level string": &billingv1.ListUsageRequest{PageToken: bad},
		"nested response":  &billingv1.IngestUsageResponse{Rejected: []*billingv1.RecordRejection{{Reason: bad}}},
	}
	c := codec.Codec{}
	for name, m := range cases {
		if _, err := proto.Marshal(m); err == nil {
			t.Fatalf("%s: proto.Marshal accepted it; the case tests nothing", name)
		}
		if _, err := c.Marshal(m); err == nil || !strings.Contains(err.Error(), "invalid UTF-8") {
			t.Errorf("%s: Marshal: %v, want an invalid UTF-8 error", name, err)
		}
		wire, err := m.(interface{ MarshalVT() ([]byte, error) }).MarshalVT() // does not check UTF-8
		if err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(wire, m.ProtoReflect().New().Interface()); err == nil {
			t.Fatalf("%s: proto.Unmarshal accepted it; the case tests nothing", name)
		}
		err = c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, m.ProtoReflect().New().Interface())
		if err == nil || !strings.Contains(err.Error(), "invalid UTF-8") {
			t.Errorf("%s: Unmarshal: %v, want an invalid UTF-8 error", name, err)
		}
	}
}

func TestMessageWithoutVTProtoFallsBack(t *testing.T) {
	c := codec.Codec{}
	m := &billingv1.Customer{Id: "cust-1", DisplayName: "Acme"}
	if _, ok := any(m).(interface{ UnmarshalVT([]byte) error }); ok {
		t.Fatal("billingv1.Customer has vtprotobuf methods; pick a message without them")
	}
	data, err := c.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got := &billingv1.Customer{}
	if err := c.Unmarshal(data, got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, m) {
		t.Errorf("got %v, want %v", got, m)
	}
	if _, err := c.Marshal(&billingv1.Customer{DisplayName: "\xff"}); err == nil {
		t.Error("the fallback marshalled invalid UTF-8")
	}
	if _, err := c.Marshal("not a message"); err == nil {
		t.Error("marshalled a string")
	}
}

func TestNameIsProto(t *testing.T) {
	if got := (codec.Codec{}).Name(); got != grpcproto.Name {
		t.Errorf("Name() = %q, want %q: peers would see another content type", got, grpcproto.Name)
	}
	if _, ok := encoding.GetCodecV2(grpcproto.Name).(codec.Codec); ok {
		t.Error("the codec is registered globally; it is meant to be passed as an option")
	}
}

// TestGeneratedCodeMatchesRuntime: the generated code calls the runtime
// of its own vtprotobuf version, so the plugin in tools/go.mod and the
// module in go.mod must be the same version.
func TestGeneratedCodeMatchesRuntime(t *testing.T) {
	plugin := valueAfter(t, "../../../gen/go/billing/v1/usage_vtproto.pb.go", "// protoc-gen-go-vtproto version:")
	runtime := valueAfter(t, "../../../go.mod", "github.com/planetscale/vtprotobuf")
	if plugin != runtime {
		t.Errorf("gen/ was made by protoc-gen-go-vtproto %s, go.mod requires the runtime %s: align tools/go.mod and go.mod, then make generate", plugin, runtime)
	}
}

// valueAfter returns the first word after prefix on the first line of file
// that starts with it, leading tabs aside.
func valueAfter(t *testing.T, file, prefix string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for s := bufio.NewScanner(f); s.Scan(); {
		if rest, ok := strings.CutPrefix(strings.TrimLeft(s.Text(), "\t"), prefix+" "); ok {
			if fields := strings.Fields(rest); len(fields) > 0 {
				return fields[0]
			}
		}
	}
	t.Fatalf("%s: no line starts with %q", file, prefix)
	return ""
}

func batch(n int) *billingv1.IngestUsageRequest {
	req := &billingv1.IngestUsageRequest{Sequence: 1, Records: make([]*billingv1.UsageRecord, n)}
	for i := range req.Records {
		req.Records[i] = usagebench.Record(i)
	}
	return req
}
