package codec

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// serverCodec is Codec for a server. grpc turns any error of a codec's
// Unmarshal into Internal, but a request that is not protobuf (a bad wire
// type, a truncated field, invalid UTF-8, groups nested too deep) is the
// client's mistake. So serverCodec does not fail: it leaves the message
// empty with the error recorded in it, and the interceptors of
// ServerOptions answer InvalidArgument before any other code sees it.
type serverCodec struct{ Codec }

// ServerOptions make a server use Codec for every service and answer
// InvalidArgument to a request that does not decode. Give them before any
// other interceptor, so that they run first.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(serverCodec{}),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
			if err := decodeStatus(req); err != nil {
				return nil, err
			}
			return next(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
			return next(srv, decodeCheckedStream{ss})
		}),
	}
}

type decodeCheckedStream struct{ grpc.ServerStream }

func (s decodeCheckedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return decodeStatus(m)
}

// decodeStatus is InvalidArgument when m did not decode, else nil.
func decodeStatus(m any) error {
	pm, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	if err := decodeError(pm); err != nil {
		return status.Errorf(codes.InvalidArgument, "the request is not a valid protobuf %s: %v", pm.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

// decodeErrorField is the unknown field that carries a decoding error: the
// highest field number, tagged so a client's own field of that number is
// not taken for one.
const decodeErrorField = protowire.MaxValidNumber

var decodeErrorTag = []byte("billingd decode error: ")

// maxDecodeErrorLen bounds the recorded text.
const maxDecodeErrorLen = 200

func (c serverCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.Codec.Unmarshal(data, v)
	m, ok := v.(proto.Message)
	if err == nil || !ok {
		return err
	}
	proto.Reset(m)
	text := strings.ToValidUTF8(err.Error(), "?")
	if len(text) > maxDecodeErrorLen {
		text = text[:maxDecodeErrorLen]
	}
	b := protowire.AppendTag(nil, decodeErrorField, protowire.BytesType)
	b = protowire.AppendBytes(b, append(bytes.Clone(decodeErrorTag), text...))
	m.ProtoReflect().SetUnknown(b)
	return nil
}

// decodeError returns the error serverCodec recorded in m, or nil when m
// was decoded.
func decodeError(m proto.Message) error {
	b := m.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		if num == decodeErrorField && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n >= 0 && bytes.HasPrefix(v, decodeErrorTag) && utf8.Valid(v) {
				return errors.New(string(v[len(decodeErrorTag):]))
			}
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return nil
		}
		b = b[n:]
	}
	return nil
}
