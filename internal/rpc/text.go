package rpc

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/apperr"
)

// perRecord names the messages whose text the domain checks itself, one
// record at a time, so that a bad record is rejected without failing its
// batch (see internal/usage).
var perRecord = (&billingv1.UsageRecord{}).ProtoReflect().Descriptor().FullName()

// addNULs adds a violation for every string in m (fields, list items, map
// keys and values, at any depth) that holds U+0000: PostgreSQL text cannot
// store it, and any text a client sends may be stored or compared with
// stored text. Paths read like protovalidate's: customer.labels["k"].
func addNULs(inv *apperr.Invalid, m protoreflect.Message, prefix string) {
	if m.Descriptor().FullName() == perRecord {
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		path := prefix + string(fd.Name())
		switch {
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				at := fmt.Sprintf("%s[%q]", path, k.String())
				if hasNUL(k.Value(), fd.MapKey()) {
					inv.Add(at, "key must not contain NUL characters")
				}
				checkValue(inv, mv, fd.MapValue(), at)
				return true
			})
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				checkValue(inv, l.Get(i), fd, fmt.Sprintf("%s[%d]", path, i))
			}
		default:
			checkValue(inv, v, fd, path)
		}
		return true
	})
}

func checkValue(inv *apperr.Invalid, v protoreflect.Value, fd protoreflect.FieldDescriptor, path string) {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		addNULs(inv, v.Message(), path+".")
	case protoreflect.StringKind:
		if hasNUL(v, fd) {
			inv.Add(path, "must not contain NUL characters")
		}
	}
}

func hasNUL(v protoreflect.Value, fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.StringKind && strings.IndexByte(v.String(), 0) >= 0
}
