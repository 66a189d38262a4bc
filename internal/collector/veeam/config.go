package veeam

import (
	"github.com/billingd/billingd/internal/collector/restapi"
)

// Config is a VSPC source's settings (the veeam block of a source in the
// collector's YAML file):
//
//	veeam:
//	  url: https://vspc.example.net:1280
//	  username: billing               # with password: the password grant of POST /api/v3/token
//	  password: {env: VSPC_PASSWORD}
//	  # api_key: {env: VSPC_API_KEY}  # instead: a VSPC API key, sent as the bearer token
//	  ca_file: /etc/billingd/vspc-ca.pem
//	  site: vspc01                    # default: the source name
//	  page_size: 500                  # limit of each collection request
//	  per_vm: false                   # also one backup.protected_vm record per VM
//	  customers:
//	    ignore: [Provider]
//	    map: {Acme Corp: acme}
//	    pattern: '^cust-([a-z0-9-]+)$'
type Config struct {
	restapi.Common      `yaml:",inline"`
	restapi.Credentials `yaml:",inline"`
}

// MaxPageSize is the largest limit VSPC accepts on a collection.
const MaxPageSize = 500

// kind is what the shared backup source code needs to know of VSPC.
var kind = restapi.Kind{Type: Type, Dimension: DimensionBackupResource, Pages: restapi.Pages{Max: MaxPageSize, Default: MaxPageSize}}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	return c.Common.Validate(kind.Pages, c.Credentials.Validate())
}
