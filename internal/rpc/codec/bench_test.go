package codec_test

import (
	"testing"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/rpc/codec"
)

const benchRecords = 5000 // usagebench's batch

// BenchmarkIngestRequest encodes and decodes one IngestUsageRequest of
// 5000 usagebench records, side by side: protobuf (reflection) against the
// vtprotobuf methods alone, and grpc's codec against this one (which adds
// the UTF-8 check and buffer handling). ns/record is ns/op over 5000.
func BenchmarkIngestRequest(b *testing.B) {
	req := batch(benchRecords)
	wire, err := proto.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	grpcCodec := encoding.GetCodecV2(grpcproto.Name)
	ours := codec.Codec{}

	b.Run("marshal/proto", func(b *testing.B) {
		for b.Loop() {
			if _, err := proto.Marshal(req); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b)
	})
	b.Run("marshal/vtproto", func(b *testing.B) {
		for b.Loop() {
			if _, err := req.MarshalVT(); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b)
	})
	b.Run("marshal/grpc-codec", func(b *testing.B) { benchMarshal(b, grpcCodec, req) })
	b.Run("marshal/codec", func(b *testing.B) { benchMarshal(b, ours, req) })

	b.Run("unmarshal/proto", func(b *testing.B) {
		for b.Loop() {
			if err := proto.Unmarshal(wire, &billingv1.IngestUsageRequest{}); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b)
	})
	b.Run("unmarshal/vtproto", func(b *testing.B) {
		for b.Loop() {
			if err := (&billingv1.IngestUsageRequest{}).UnmarshalVT(wire); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b)
	})
	b.Run("unmarshal/grpc-codec", func(b *testing.B) { benchUnmarshal(b, grpcCodec, wire) })
	b.Run("unmarshal/codec", func(b *testing.B) { benchUnmarshal(b, ours, wire) })
}

// BenchmarkCheckUTF8 is the part of "codec" above that "vtproto" skips.
func BenchmarkCheckUTF8(b *testing.B) {
	req := batch(benchRecords)
	wire, err := proto.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	md := req.ProtoReflect().Descriptor()
	for b.Loop() {
		if err := codec.CheckUTF8(wire, md); err != nil {
			b.Fatal(err)
		}
	}
	perRecord(b)
}

func benchMarshal(b *testing.B, c encoding.CodecV2, req *billingv1.IngestUsageRequest) {
	for b.Loop() {
		data, err := c.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		data.Free() // as grpc does once the bytes are written
	}
	perRecord(b)
}

func benchUnmarshal(b *testing.B, c encoding.CodecV2, wire []byte) {
	data := mem.BufferSlice{mem.SliceBuffer(wire)}
	for b.Loop() {
		if err := c.Unmarshal(data, &billingv1.IngestUsageRequest{}); err != nil {
			b.Fatal(err)
		}
	}
	perRecord(b)
}

func perRecord(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRecords, "ns/record")
}
