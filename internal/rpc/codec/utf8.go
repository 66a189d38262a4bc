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
	for i := 0; i < len(b); {
		// Tags and lengths below 128, one byte, are the common case.
		tag, n := uint64(b[i]), 1
		if tag >= 0x80 {
			if tag, n = protowire.ConsumeVarint(b[i:]); n < 0 {
				return errMalformed
			}
		}
		i += n
		num, typ := protowire.DecodeTag(tag)
		f := p.field(num)
		// vtprotobuf reads a map entry's key and value as length-prefixed
		// whatever their wire type says, so this walk does too.
		if typ != protowire.BytesType && !(p.mapEntry && (f.text || f.sub != nil)) {
			if n = protowire.ConsumeFieldValue(num, typ, b[i:]); n < 0 {
				return errMalformed
			}
			i += n
			continue
		}
		if i >= len(b) {
			return errMalformed
		}
		size, n := uint64(b[i]), 1
		if size >= 0x80 {
			if size, n = protowire.ConsumeVarint(b[i:]); n < 0 {
				return errMalformed
			}
		}
		i += n
		if size > uint64(len(b)-i) {
			return errMalformed
		}
		v := b[i : i+int(size)]
		i += int(size)
		switch {
		case f.text:
			// Bytes that OR to below 0x80 are ASCII, as most fields are:
			// valid without utf8.Valid's call.
			var or byte
			for _, c := range v {
				or |= c
			}
			if or >= utf8.RuneSelf && !utf8.Valid(v) {
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

// plan says, per field number of one message type, what checkUTF8 does
// with a length-delimited field: check it as text, walk it as a message
// that can hold text, or skip it.
type plan struct {
	direct []fieldPlan // by field number, for the small numbers almost all fields have
	sparse map[protowire.Number]fieldPlan
	// hasText: the message, or a message inside it, has a string field
	// that must be UTF-8.
	hasText  bool
	mapEntry bool
}

type fieldPlan struct {
	text bool
	sub  *plan // nil: nothing inside needs checking
}

const maxDirectField = 64

func (p *plan) field(num protowire.Number) fieldPlan {
	if uint(num) < uint(len(p.direct)) { // a malformed tag can give a negative number
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
	p := &plan{mapEntry: md.IsMapEntry()}
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
