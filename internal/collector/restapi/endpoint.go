package restapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Endpoint is where an API is and how to trust it; sources inline it in
// their YAML settings:
//
//	url: https://vspc.example.net:1280
//	ca_file: /etc/billingd/vspc-ca.pem   # or insecure: true (lab only)
//	request_timeout: 60s                 # of one HTTP request; default 60s
type Endpoint struct {
	URL            string        `yaml:"url"`
	CAFile         string        `yaml:"ca_file"`
	Insecure       bool          `yaml:"insecure"` // skip TLS verification
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// Validate reports every problem at once.
func (e Endpoint) Validate() error {
	var errs []error
	u, err := url.Parse(e.URL)
	switch {
	case e.URL == "":
		errs = append(errs, errors.New("url is required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("url: %w", err))
	case u.Scheme != "https" && u.Scheme != "http":
		errs = append(errs, fmt.Errorf("url %q: scheme must be https (or http)", e.URL))
	case u.Host == "":
		errs = append(errs, fmt.Errorf("url %q: no host", e.URL))
	case u.User != nil:
		errs = append(errs, errors.New("url: credentials go in their own settings, not in the url"))
	case u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, fmt.Errorf("url %q: no query or fragment", e.URL))
	}
	if e.Insecure && e.CAFile != "" {
		errs = append(errs, errors.New("insecure and ca_file exclude each other"))
	}
	if e.RequestTimeout < 0 {
		errs = append(errs, errors.New("request_timeout must not be negative"))
	}
	return errors.Join(errs...)
}

// HTTPClient returns a client that trusts what the endpoint says.
func (e Endpoint) HTTPClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: e.Insecure} //nolint:gosec // an explicit lab-only setting
	if e.CAFile != "" {
		pem, err := os.ReadFile(e.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate", e.CAFile)
		}
	}
	tr.TLSClientConfig = cfg
	timeout := e.RequestTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// Base returns the URL without a trailing slash.
func (e Endpoint) Base() string { return strings.TrimRight(e.URL, "/") }
