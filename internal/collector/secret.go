package collector

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

const redacted = "[redacted]"

// Secret is a credential read from an environment variable or a file. Every
// way of printing it (fmt, slog, JSON, YAML) shows "[redacted]"; only Reveal
// returns the value, to hand it to a client library.
//
// In YAML a Secret is written as {env: NAME} or {file: /path}; a literal
// value is refused so that credentials never sit in the config file.
//
// The value sits behind a *string: fmt cannot call the redacting methods of
// a Secret inside an unexported field (a source's private settings) and
// prints such a field raw, which for a pointer to a string is only its
// address, whatever the verb.
type Secret struct {
	value *string
	from  string // "env NAME" or "file /path", safe to show in errors
}

// NewSecret wraps a value obtained elsewhere (tests, flags).
func NewSecret(value, from string) Secret { return Secret{value: &value, from: from} }

// Reveal returns the credential.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsZero reports whether no secret was configured.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// From says where the secret came from, without its value.
func (s Secret) From() string { return s.from }

func (s Secret) String() string                { return redacted }
func (s Secret) GoString() string              { return redacted }
func (s Secret) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (s Secret) MarshalJSON() ([]byte, error)  { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalYAML() (any, error)     { return redacted, nil }
func (s Secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

var _ slog.LogValuer = Secret{}

// UnmarshalYAML reads {env: NAME} or {file: PATH} and resolves it at once,
// so that a missing variable or unreadable file fails at startup.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return fmt.Errorf("line %d: write credentials as {env: NAME} or {file: /path}, not inline", n.Line)
	}
	var ref struct {
		Env  string `yaml:"env"`
		File string `yaml:"file"`
	}
	if err := n.Decode(&ref); err != nil {
		return err
	}
	switch {
	case (ref.Env == "") == (ref.File == ""):
		return fmt.Errorf("line %d: a secret needs exactly one of env or file", n.Line)
	case ref.Env != "":
		v, ok := os.LookupEnv(ref.Env)
		if !ok || v == "" {
			return fmt.Errorf("line %d: environment variable %s is not set", n.Line, ref.Env)
		}
		*s = NewSecret(v, "env "+ref.Env)
	default:
		b, err := os.ReadFile(ref.File)
		if err != nil {
			return fmt.Errorf("line %d: secret: %w", n.Line, err) // names the path, never content
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return fmt.Errorf("line %d: secret file %s is empty", n.Line, ref.File)
		}
		*s = NewSecret(v, "file "+ref.File)
	}
	return nil
}
