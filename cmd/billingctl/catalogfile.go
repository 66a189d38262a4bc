package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// entry is one resource read from a catalog file, with where it was.
type entry struct {
	kind *kind
	msg  proto.Message
	line int
}

// parseCatalog reads a YAML or JSON catalog file (JSON is YAML too) into
// entries, in the order they must be applied: metrics, product groups,
// products, customers, price lists with their prices, campaigns,
// contracts. Fields are named as in the API's JSON (displayName) or its
// protos (display_name); enum values may be written in full
// (GRANULARITY_HOUR) or short (hour); numbers may be written bare (0.0125)
// and keep their exact digits.
func parseCatalog(name string, data []byte) ([]entry, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping with sections such as metrics, products, priceLists", name, root.Line)
	}
	sections := map[*kind]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		kd := kindBySection(k.Value)
		if kd == nil {
			return nil, fmt.Errorf("%s:%d: unknown section %q (want %s)", name, k.Line, k.Value, sectionNames())
		}
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s:%d: %s: want a list", name, v.Line, k.Value)
		}
		sections[kd] = v
	}
	var out []entry
	for _, kd := range kinds {
		seq, ok := sections[kd]
		if !ok {
			continue
		}
		for i, item := range seq.Content {
			where := fmt.Sprintf("%s:%d: %s[%d]", name, item.Line, kd.section, i)
			var prices *yaml.Node
			if kd == priceListKind {
				prices = takeKey(item, "prices")
			}
			m, err := decode(item, kd.newMsg())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			out = append(out, entry{kind: kd, msg: m, line: item.Line})
			if prices == nil {
				continue
			}
			if prices.Kind != yaml.SequenceNode {
				return nil, fmt.Errorf("%s: prices: want a list", where)
			}
			for j, p := range prices.Content {
				pm, err := decode(p, priceKind.newMsg())
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %s[%d].prices[%d]: %w", name, p.Line, kd.section, i, j, err)
				}
				setString(pm, "price_list_id", kd.id(m))
				out = append(out, entry{kind: priceKind, msg: pm, line: p.Line})
			}
		}
	}
	return out, nil
}

// takeKey removes key from a mapping node and returns its value.
func takeKey(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			n.Content = append(n.Content[:i:i], n.Content[i+2:]...)
			return v
		}
	}
	return nil
}

// decode fills m from a YAML mapping through protojson, so the API's JSON
// rules (and its error messages) apply.
func decode(n *yaml.Node, m proto.Message) (proto.Message, error) {
	v, err := toJSON(n, m.ProtoReflect().Descriptor(), nil)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if err := protojson.Unmarshal(b, m); err != nil {
		return nil, err
	}
	return m, nil
}

// toJSON converts a YAML node to a JSON value for field fd of message md
// (md alone at the top): numbers keep their text, enums may be short.
func toJSON(n *yaml.Node, md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return toJSON(n.Alias, md, fd)
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			if fd != nil && fd.IsMap() {
				val, err := toJSON(v, nil, fd.MapValue())
				if err != nil {
					return nil, err
				}
				out[k] = val
				continue
			}
			sub := md
			if fd != nil && fd.Message() != nil {
				sub = fd.Message()
			}
			if sub == nil {
				return nil, fmt.Errorf("line %d: a mapping is not allowed here", v.Line)
			}
			f := sub.Fields().ByJSONName(k)
			if f == nil {
				f = sub.Fields().ByName(protoreflect.Name(k))
			}
			if f == nil {
				return nil, fmt.Errorf("line %d: unknown field %q of %s", n.Content[i].Line, k, sub.Name())
			}
			val, err := toJSON(v, sub, f)
			if err != nil {
				return nil, err
			}
			out[k] = val
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			var err error
			if out[i], err = toJSON(c, md, fd); err != nil {
				return nil, err
			}
		}
		return out, nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		if fd == nil {
			return n.Value, nil
		}
		switch fd.Kind() {
		case protoreflect.BoolKind:
			return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", nil
		case protoreflect.EnumKind:
			return enumName(fd.Enum(), n.Value), nil
		case protoreflect.StringKind, protoreflect.MessageKind, protoreflect.BytesKind:
			return n.Value, nil
		default:
			return json.Number(n.Value), nil
		}
	}
	return nil, fmt.Errorf("line %d: unexpected YAML", n.Line)
}

// enumName accepts GRANULARITY_HOUR, granularity_hour or hour.
func enumName(ed protoreflect.EnumDescriptor, v string) string {
	up := strings.ToUpper(strings.ReplaceAll(v, "-", "_"))
	vals := ed.Values()
	for i := range vals.Len() {
		name := string(vals.Get(i).Name())
		if name == up || strings.HasSuffix(name, "_"+up) {
			return name
		}
	}
	return v // protojson names the bad value
}

func setString(m proto.Message, field, v string) {
	r := m.ProtoReflect()
	r.Set(r.Descriptor().Fields().ByName(protoreflect.Name(field)), protoreflect.ValueOfString(v))
}
