// Package codec is billingd's gRPC codec: the protobuf wire format, as
// grpc's default codec, but encoded and decoded by the methods vtprotobuf
// generates (SizeVT, MarshalToSizedBufferVT, UnmarshalVT) when a message has
// them, and by reflection-based protobuf otherwise. Usage ingestion encodes
// and decodes every record, where reflection cost a fifth of billingd's CPU.
//
// Its name is "proto", so peers see the usual content type
// application/grpc+proto. Pass it explicitly (ServerOption, DialOption)
// rather than registering it: registration would replace grpc's codec in
// every package of the process.
package codec

import (
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// Name is the codec's name and content-subtype, the same as grpc's protobuf
// codec.
const Name = grpcproto.Name

// fallback is grpc's own protobuf codec, taken before anyone could register
// this one under the same name.
var fallback = encoding.GetCodecV2(grpcproto.Name)

// vtMessage is a message with vtprotobuf's generated methods.
type vtMessage interface {
	proto.Message
	SizeVT() int
	MarshalToSizedBufferVT(dst []byte) (int, error)
	UnmarshalVT(src []byte) error
}

// Codec implements encoding.CodecV2.
type Codec struct{}

var _ encoding.CodecV2 = Codec{}

// DialOption makes every call of a client connection use Codec.
func DialOption() grpc.DialOption {
	return grpc.WithDefaultCallOptions(grpc.ForceCodecV2(Codec{}))
}

// Name returns "proto".
func (Codec) Name() string { return Name }

// Marshal encodes v into one buffer, from grpc's pool when it is large, as
// grpc's codec does.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(vtMessage)
	if !ok {
		return fallback.Marshal(v)
	}
	size := m.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(size) {
		buf := make([]byte, size)
		if err := marshalTo(m, buf); err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(size)
	if err := marshalTo(m, *buf); err != nil {
		pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// marshalTo fills buf, exactly m.SizeVT() bytes long, and refuses strings
// that are not UTF-8, as proto.Marshal does (vtprotobuf does not check).
func marshalTo(m vtMessage, buf []byte) error {
	n, err := m.MarshalToSizedBufferVT(buf)
	if err != nil {
		return err
	}
	if n != len(buf) {
		return errors.New("proto: message changed while it was marshalled")
	}
	return checkUTF8(buf, m.ProtoReflect().Descriptor())
}

// Unmarshal decodes data into v. The message's strings are copies, so the
// (pooled) data may be reused once this returns.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(vtMessage)
	if !ok {
		return fallback.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	b := buf.ReadOnlyData()
	// proto.Unmarshal replaces the message; UnmarshalVT merges into it.
	proto.Reset(m)
	if err := m.UnmarshalVT(b); err != nil {
		return err
	}
	return checkUTF8(b, m.ProtoReflect().Descriptor())
}
