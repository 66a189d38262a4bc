package config

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"unicode"
)

// minBootstrapKeyLen matches access.MinBootstrapSecretLen: the key is
// stored as a fast hash, safe only for a long, random secret.
const minBootstrapKeyLen = 32

func (c *Config) bindSecurity(fs *flag.FlagSet) {
	fs.Var((*onOff)(&c.Auth), "auth", "on: every call needs an API key (authorization: Bearer …) or a client certificate; off: anyone is admin (development only)")
	fs.StringVar(&c.BootstrapAdminKey, "bootstrap-admin-key", c.BootstrapAdminKey,
		"make this secret (at least 32 random characters) an admin key at start; without it, the first start prints a new admin key once to stderr")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM certificate (chain) of the server; with --tls-key serves gRPC and REST over TLS")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM private key of --tls-cert")
	fs.StringVar(&c.ClientCA, "client-ca", c.ClientCA, "PEM CA bundle; a gRPC client certificate it signed authenticates as an unscoped collector (needs --tls-cert)")
	fs.Float64Var(&c.RateLimit, "rate-limit", c.RateLimit, "calls per second each API key may make (ResourceExhausted / HTTP 429 beyond); 0 disables")
	fs.IntVar(&c.RateBurst, "rate-burst", c.RateBurst, "calls an API key may make at once before --rate-limit applies")
	fs.DurationVar(&c.RPCTimeout, "rpc-timeout", c.RPCTimeout, "deadline of a unary call that sets none (DeadlineExceeded / HTTP 504 beyond); 0 disables")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest REST request body (HTTP 413 beyond); gRPC messages are limited to 16 MiB")
}

func (c Config) validateSecurity() []error {
	var errs []error
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.ClientCA != "" && c.TLSCert == "" {
		errs = append(errs, errors.New("--client-ca needs --tls-cert and --tls-key"))
	}
	if k := c.BootstrapAdminKey; k != "" && (len(k) < minBootstrapKeyLen || strings.IndexFunc(k, unicode.IsSpace) >= 0) {
		errs = append(errs, fmt.Errorf("--bootstrap-admin-key must be at least %d characters without spaces (e.g. openssl rand -hex 32)", minBootstrapKeyLen))
	}
	if c.RateLimit < 0 {
		errs = append(errs, errors.New("--rate-limit must not be negative"))
	}
	if c.RateLimit > 0 && c.RateBurst < 1 {
		errs = append(errs, errors.New("--rate-burst must be at least 1"))
	}
	if c.RPCTimeout < 0 {
		errs = append(errs, errors.New("--rpc-timeout must not be negative"))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("--max-body-bytes must be positive"))
	}
	return errs
}

// onOff is a bool flag spelled on/off (true/false and 1/0 work too);
// "--auth" alone means on.
type onOff bool

func (b *onOff) String() string {
	if b != nil && bool(*b) {
		return "on"
	}
	return "off"
}

func (b *onOff) Set(s string) error {
	switch strings.ToLower(s) {
	case "on", "true", "1", "yes":
		*b = true
	case "off", "false", "0", "no":
		*b = false
	default:
		return fmt.Errorf("%q: want on or off", s)
	}
	return nil
}

func (b *onOff) IsBoolFlag() bool { return true }
