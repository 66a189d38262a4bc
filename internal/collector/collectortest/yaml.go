package collectortest

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

// YAMLNode parses text as a source's configuration node.
func YAMLNode(t *testing.T, text string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		t.Fatal(err)
	}
	return n.Content[0]
}
