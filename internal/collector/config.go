package collector

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/billingd/billingd/internal/rpc/codec"
)

// Config is the collector's YAML configuration file:
//
//	billingd:
//	  address: billingd.internal:9090
//	  ca_file: /etc/billingd/ca.pem     # or plaintext: true on loopback
//	  token: {env: BILLINGD_TOKEN}      # optional bearer token
//	state_dir: /var/lib/billingd-collect
//	metrics_addr: 127.0.0.1:9464       # optional /metrics listener
//	sources:
//	  - name: vc01
//	    interval: 15m
//	    vcenter: {…}                    # one block named after the source type
//
// Credentials are Secrets ({env: NAME} or {file: /path}); they are resolved
// when the file is loaded and never printed.
type Config struct {
	Billingd    BillingdConfig `yaml:"billingd"`
	StateDir    string         `yaml:"state_dir"`
	MetricsAddr string         `yaml:"metrics_addr"`
	BatchSize   int            `yaml:"batch_size"`
	InFlight    int            `yaml:"in_flight"`
	MaxPending  int            `yaml:"max_pending"`
	AckTimeout  time.Duration  `yaml:"ack_timeout"`
	Retry       Backoff        `yaml:"retry"`
	Sources     []SourceConfig `yaml:"sources"`
}

// BillingdConfig says how to reach billingd's gRPC API.
type BillingdConfig struct {
	Address    string `yaml:"address"`
	Plaintext  bool   `yaml:"plaintext"`   // no TLS: loopback or a TLS-terminating sidecar only
	CAFile     string `yaml:"ca_file"`     // PEM roots; default the system's
	ServerName string `yaml:"server_name"` // TLS name when it differs from the address
	Token      Secret `yaml:"token"`       // sent as "authorization: Bearer …"
	// CertFile and KeyFile are a client certificate (PEM) that billingd
	// started with --client-ca accepts instead of a token: it authenticates
	// as an unscoped collector.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// SourceConfig is one entry of sources: the schedule, and the type-specific
// settings under a key named after the type (e.g. vcenter).
type SourceConfig struct {
	Name     string
	Interval time.Duration
	Timeout  time.Duration
	Type     string
	Spec     *yaml.Node
}

// UnmarshalYAML reads name, interval and timeout, and takes the one other
// key as the source type with its settings.
func (s *SourceConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a source is a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "name":
			err = v.Decode(&s.Name)
		case "interval":
			err = v.Decode(&s.Interval)
		case "timeout":
			err = v.Decode(&s.Timeout)
		default:
			if s.Type != "" {
				return fmt.Errorf("line %d: source has two types, %s and %s", k.Line, s.Type, k.Value)
			}
			s.Type, s.Spec = k.Value, v
		}
		if err != nil {
			return fmt.Errorf("line %d: %s: %w", k.Line, k.Value, err)
		}
	}
	return nil
}

// Builder makes a Source of one type from its settings (see DecodeStrict).
type Builder func(name string, spec *yaml.Node) (Source, error)

// Load reads and validates a configuration file.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return Parse(b)
}

// Parse reads and validates a configuration; unknown keys are errors.
func Parse(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("collector config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Billingd.Address); err != nil {
		errs = append(errs, fmt.Errorf("billingd.address %q: %w", c.Billingd.Address, err))
	}
	if c.Billingd.Plaintext && c.Billingd.CAFile != "" {
		errs = append(errs, errors.New("billingd: plaintext and ca_file exclude each other"))
	}
	if (c.Billingd.CertFile == "") != (c.Billingd.KeyFile == "") {
		errs = append(errs, errors.New("billingd: cert_file and key_file go together"))
	}
	if c.Billingd.Plaintext && c.Billingd.CertFile != "" {
		errs = append(errs, errors.New("billingd: a client certificate needs TLS, not plaintext"))
	}
	if c.StateDir == "" {
		errs = append(errs, errors.New("state_dir is required"))
	}
	if c.BatchSize < 0 || c.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("batch_size %d must be in 1..10000 (0: default)", c.BatchSize))
	}
	if c.Retry != (Backoff{}) && (c.Retry.Initial <= 0 || c.Retry.Max < c.Retry.Initial) {
		errs = append(errs, fmt.Errorf("retry needs 0 < initial <= max"))
	}
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("sources: at least one is required"))
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		where := fmt.Sprintf("sources[%d] %q", i, s.Name)
		switch {
		case !SourceNamePattern.MatchString(s.Name):
			errs = append(errs, fmt.Errorf("%s: name must match %s", where, SourceNamePattern))
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("%s: name is used twice", where))
		}
		seen[s.Name] = true
		if s.Interval <= 0 {
			errs = append(errs, fmt.Errorf("%s: interval must be positive", where))
		}
		if s.Timeout < 0 {
			errs = append(errs, fmt.Errorf("%s: timeout must not be negative", where))
		}
		if s.Type == "" {
			errs = append(errs, fmt.Errorf("%s: needs a block named after its type (e.g. vcenter)", where))
		}
	}
	return errors.Join(errs...)
}

// Build makes every source with the builder of its type.
func (c Config) Build(builders map[string]Builder) ([]Schedule, error) {
	var (
		out  []Schedule
		errs []error
	)
	for _, s := range c.Sources {
		b, ok := builders[s.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("source %q: unknown type %q", s.Name, s.Type))
			continue
		}
		src, err := b(s.Name, s.Spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %q: %w", s.Name, err))
			continue
		}
		out = append(out, Schedule{Source: src, Interval: s.Interval, Timeout: s.Timeout})
	}
	return out, errors.Join(errs...)
}

// Options returns the Runner options the file sets.
func (c Config) Options() Options {
	return Options{StateDir: c.StateDir, BatchSize: c.BatchSize, InFlight: c.InFlight, MaxPending: c.MaxPending,
		AckTimeout: c.AckTimeout, Retry: c.Retry}
}

// DecodeStrict decodes a source's settings into dst, refusing unknown keys.
func DecodeStrict(n *yaml.Node, dst any) error {
	if n == nil {
		return errors.New("settings are missing")
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(dst)
}

// Dial returns a client connection to billingd (connecting lazily).
func (b BillingdConfig) Dial() (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if !b.Plaintext {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: b.ServerName}
		if b.CertFile != "" {
			pair, err := tls.LoadX509KeyPair(b.CertFile, b.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("billingd client certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		if b.CAFile != "" {
			pem, err := os.ReadFile(b.CAFile)
			if err != nil {
				return nil, err
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate", b.CAFile)
			}
		}
		creds = credentials.NewTLS(cfg)
	}
	// vtprotobuf encodes the usage batches (codec falls back to protobuf for the rest).
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds), codec.DialOption()}
	if !b.Token.IsZero() {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: b.Token, tls: !b.Plaintext}))
	}
	return grpc.NewClient(b.Address, opts...)
}

// bearer sends the token on every call.
type bearer struct {
	token Secret
	tls   bool
}

func (t bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + t.token.Reveal()}, nil
}

func (t bearer) RequireTransportSecurity() bool { return t.tls }
