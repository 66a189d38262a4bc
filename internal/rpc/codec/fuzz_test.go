package codec_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/rpc/codec"
)

// FuzzUnmarshalAsStrictAsProto: every string the codec reads is UTF-8;
// what protobuf refuses as invalid UTF-8, the codec refuses. (Otherwise
// vtprotobuf is laxer than protobuf in ways that change nothing billingd
// reads: it keeps a field number above 2^29-1 as an unknown field, reads a
// map entry's key or value of the wrong wire type, and its Timestamp drops
// unknown fields.)
func FuzzUnmarshalAsStrictAsProto(f *testing.F) {
	for _, m := range usageMessages() {
		wire, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(wire)
	}
	bad, err := (&billingv1.IngestUsageRequest{Records: []*billingv1.UsageRecord{{Dimensions: map[string]string{"k": "\xc3("}}}}).MarshalVT()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bad)
	// A map value "\x80\x08\x00" whose tag says varint: vtprotobuf reads
	// it as text, protobuf as the number 3 and a field 128.
	f.Add([]byte{0x12, 10, 0x6a, 8, 0x0a, 1, '0', 0x10, 3, 0x80, 0x08, 0x00})
	f.Fuzz(func(t *testing.T, wire []byte) {
		viaCodec := &billingv1.IngestUsageRequest{}
		codecErr := codec.Codec{}.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, viaCodec)
		protoErr := proto.Unmarshal(wire, &billingv1.IngestUsageRequest{})
		if codecErr != nil {
			return
		}
		if protoErr != nil && strings.Contains(protoErr.Error(), "invalid UTF-8") {
			t.Fatal("the codec accepted what protobuf refuses as invalid UTF-8")
		}
		if s, ok := invalidString(viaCodec.ProtoReflect()); ok {
			t.Fatalf("the codec read the invalid UTF-8 %q", s)
		}
	})
}

// invalidString returns a string of m, of its sub-messages or of their
// maps that is not UTF-8.
func invalidString(m protoreflect.Message) (bad string, found bool) {
	check := func(v protoreflect.Value) bool {
		switch x := v.Interface().(type) {
		case string:
			if !utf8.ValidString(x) {
				bad, found = x, true
			}
		case protoreflect.Message:
			bad, found = invalidString(x)
		}
		return !found
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			for i := range v.List().Len() {
				if !check(v.List().Get(i)) {
					return false
				}
			}
			return true
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool { return check(k.Value()) && check(v) })
			return !found
		default:
			return check(v)
		}
	})
	return bad, found
}
