package codec

import (
	"errors"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// errInvalidUTF8 reads like protobuf's own error, which grpc's codec
// returned for the same input.
var errInvalidUTF8 = errors.New("proto: string field contains invalid UTF-8")

var errMalformed = errors.New("proto: cannot parse invalid wire-format data")

// checkUTF8 reports whether every string field of the encoded message b
// (of type md) that protobuf requires to be UTF-8 is UTF-8. It walks the
// wire format once, going into only the sub-messages that can hold such
// strings; what it looks up per field is precomputed per message type.
// Strings inside groups are not checked (proto2 does not require UTF-8).
func checkUTF8(b []byte, md protoreflect.MessageDescriptor) error {
	return planOf(md).check(b)
}

func (p *plan) check(b []byte) error {
	for len(b) > 0 {
		tag, n := varint(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		num, typ := protowire.DecodeTag(tag)
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return errMalformed
			}
			b = b[n:]
			continue
		}
		size, n := varint(b)
		if n < 0 || size > uint64(len(b)-n) {
			return errMalformed
		}
		v := b[n : n+int(size)]
		b = b[n+int(size):]
		f := p.field(num)
		switch {
		case f.text:
			if !validUTF8(v) {
				return errInvalidUTF8
			}
		case f.sub != nil:
			if err := f.sub.check(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// varint is protowire.ConsumeVarint with the one-byte case, almost every
// tag and string length, inlined.
func varint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

// validUTF8 is utf8.Valid with the short ASCII strings of most fields
// checked inline.
func validUTF8(v []byte) bool {
	if len(v) <= 32 {
		var or byte
		for _, c := range v {
			or |= c
		}
		if or < utf8.RuneSelf {
			return true
		}
	}
	return utf8.Valid(v)
}

// plan says, per field number of one message type, what checkUTF8 does
// with a length-delimited field: check it as text, walk it as a message
// that can hold text, or skip it.
type plan struct {
	direct []fieldPlan // by field number, for the small numbers almost all fields have
	sparse map[protowire.Number]fieldPlan
	// hasText: the message, or a message inside it, has a string field
	// that must be UTF-8.
	hasText bool
}

type fieldPlan struct {
	text bool
	sub  *plan // nil: nothing inside needs checking
}

const maxDirectField = 64

func (p *plan) field(num protowire.Number) fieldPlan {
	if int(num) < len(p.direct) {
		return p.direct[num]
	}
	return p.sparse[num]
}

var plans sync.Map // protoreflect.MessageDescriptor → *plan

func planOf(md protoreflect.MessageDescriptor) *plan {
	if p, ok := plans.Load(md); ok {
		return p.(*plan)
	}
	p := buildPlan(md, map[protoreflect.MessageDescriptor]*plan{})
	actual, _ := plans.LoadOrStore(md, p)
	return actual.(*plan)
}

// buildPlan makes md's plan; building holds the plans under construction,
// so a recursive type refers to itself (and is taken to hold text).
func buildPlan(md protoreflect.MessageDescriptor, building map[protoreflect.MessageDescriptor]*plan) *plan {
	if p, ok := building[md]; ok {
		p.hasText = true
		return p
	}
	p := &plan{}
	building[md] = p
	defer delete(building, md)
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		var f fieldPlan
		switch fd.Kind() {
		case protoreflect.StringKind:
			f.text = enforceUTF8(fd)
		case protoreflect.MessageKind:
			if sub := buildPlan(fd.Message(), building); sub.hasText {
				f.sub = sub
			}
		}
		if !f.text && f.sub == nil {
			continue
		}
		p.hasText = true
		if fd.Number() < maxDirectField {
			if len(p.direct) <= int(fd.Number()) {
				p.direct = append(p.direct, make([]fieldPlan, int(fd.Number())+1-len(p.direct))...)
			}
			p.direct[fd.Number()] = f
		} else {
			if p.sparse == nil {
				p.sparse = map[protowire.Number]fieldPlan{}
			}
			p.sparse[fd.Number()] = f
		}
	}
	return p
}

// enforceUTF8 is protobuf's rule: proto3 strings must be UTF-8, proto2
// strings need not, editions say per field.
func enforceUTF8(fd protoreflect.FieldDescriptor) bool {
	if fd.Syntax() == protoreflect.Editions {
		if e, ok := fd.(interface{ EnforceUTF8() bool }); ok {
			return e.EnforceUTF8()
		}
		return true
	}
	return fd.Syntax() == protoreflect.Proto3
}
