package access

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The policy names request fields by path ("customer_id",
// "query.customer_ids", "records.source") rather than by generated type, so
// this package needs no generated code; rpc's tests check every path
// against the request descriptors.

// values returns the strings at path in m: one per element when a step is a
// repeated message or the leaf a repeated string, empty strings included so
// that two paths through the same list stay aligned by index.
func values(m protoreflect.Message, path string) []string {
	name, rest, more := strings.Cut(path, ".")
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		return nil
	}
	switch {
	case more && fd.IsList() && fd.Kind() == protoreflect.MessageKind:
		var out []string
		l := m.Get(fd).List()
		for i := range l.Len() {
			out = append(out, values(l.Get(i).Message(), rest)...)
		}
		return out
	case more && fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
		if !m.Has(fd) {
			return nil
		}
		return values(m.Get(fd).Message(), rest)
	case !more && fd.IsList() && fd.Kind() == protoreflect.StringKind:
		var out []string
		l := m.Get(fd).List()
		for i := range l.Len() {
			out = append(out, l.Get(i).String())
		}
		return out
	case !more && !fd.IsList() && fd.Kind() == protoreflect.StringKind:
		return []string{m.Get(fd).String()}
	}
	return nil
}

// setOne makes the string or repeated string field at path hold only v,
// creating the messages on the way.
func setOne(m protoreflect.Message, path, v string) {
	name, rest, more := strings.Cut(path, ".")
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	switch {
	case fd == nil:
	case more && fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
		setOne(m.Mutable(fd).Message(), rest, v)
	case !more && fd.IsList() && fd.Kind() == protoreflect.StringKind:
		l := m.NewField(fd).List()
		l.Append(protoreflect.ValueOfString(v))
		m.Set(fd, protoreflect.ValueOfList(l))
	case !more && !fd.IsList() && fd.Kind() == protoreflect.StringKind:
		m.Set(fd, protoreflect.ValueOfString(v))
	}
}

// boolAt reads a top-level bool field.
func boolAt(m protoreflect.Message, name string) bool {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	return fd != nil && fd.Kind() == protoreflect.BoolKind && m.Get(fd).Bool()
}

// checkPath reports whether path leads through singular or repeated
// messages to a string or repeated string field of d.
func checkPath(d protoreflect.MessageDescriptor, path string) error {
	name, rest, more := strings.Cut(path, ".")
	fd := d.Fields().ByName(protoreflect.Name(name))
	switch {
	case fd == nil:
		return fmt.Errorf("%s has no field %q", d.FullName(), name)
	case fd.IsMap():
		return fmt.Errorf("%s.%s is a map", d.FullName(), name)
	case more && fd.Kind() == protoreflect.MessageKind:
		return checkPath(fd.Message(), rest)
	case more:
		return fmt.Errorf("%s.%s is not a message", d.FullName(), name)
	case fd.Kind() != protoreflect.StringKind:
		return fmt.Errorf("%s.%s is not a string", d.FullName(), name)
	}
	return nil
}

func reflectOf(req proto.Message) protoreflect.Message {
	if req == nil {
		return nil
	}
	return req.ProtoReflect()
}
