package rubrik

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/billingd/billingd/internal/collector/restapi"
)

const (
	pathToken   = "/api/client_token"
	pathGraphQL = "/api/graphql"
)

// vmQuery reads one page of VM workloads with what billing needs.
const vmQuery = `query BillingdVMs($first: Int!, $after: String, $filter: SnappableFilterInput) {
  snappableConnection(first: $first, after: $after, filter: $filter) {
    nodes {
      id
      fid
      name
      objectType
      protectionStatus
      physicalBytes
      slaDomain { id name }
      workloadOrg { id name fullName }
    }
    pageInfo { hasNextPage endCursor }
  }
}`

type graphqlAnswer[T any] struct {
	Data   *T `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

type snappablePage struct {
	SnappableConnection struct {
		Nodes    []snappable `json:"nodes"`
		PageInfo struct {
			HasNextPage bool   `json:"hasNextPage"`
			EndCursor   string `json:"endCursor"`
		} `json:"pageInfo"`
	} `json:"snappableConnection"`
}

type snappable struct {
	ID               string `json:"id"`
	FID              string `json:"fid"`
	Name             string `json:"name"`
	ObjectType       string `json:"objectType"`
	ProtectionStatus string `json:"protectionStatus"`
	PhysicalBytes    *long  `json:"physicalBytes"`
	SLADomain        *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"slaDomain"`
	WorkloadOrg *struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		FullName string `json:"fullName"`
	} `json:"workloadOrg"`
}

// long is GraphQL's Long: a JSON number, or a string of one (some
// gateways quote 64-bit integers).
type long int64

func (l *long) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("long %s: %w", b, err)
	}
	*l = long(n)
	return nil
}

// login exchanges the service account's client credentials for an access token.
func (s *Source) login(ctx context.Context, c *restapi.Client) (string, error) {
	body := map[string]string{
		"client_id": s.cfg.ClientID, "client_secret": s.cfg.ClientSecret.Reveal(), "grant_type": "client_credentials",
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.PostLogin(ctx, pathToken, body, &tok); err != nil {
		return "", fmt.Errorf("as %s: %w", s.cfg.ClientID, err)
	}
	return tok.AccessToken, nil
}

// vms reads every page of VM workloads.
func (s *Source) vms(ctx context.Context) ([]snappable, error) {
	var out []snappable
	seen := map[string]bool{}
	var after *string
	for {
		vars := map[string]any{"first": s.cfg.PageSize, "after": after, "filter": map[string]any{"objectType": s.cfg.ObjectTypes}}
		var ans graphqlAnswer[snappablePage]
		if err := s.Client.Post(ctx, pathGraphQL, map[string]any{"query": vmQuery, "variables": vars}, &ans); err != nil {
			return nil, err
		}
		if len(ans.Errors) > 0 || ans.Data == nil {
			// A partial answer is not billed: the window is collected again.
			msgs := make([]string, 0, len(ans.Errors))
			for _, e := range ans.Errors {
				msgs = append(msgs, e.Message)
			}
			return nil, fmt.Errorf("graphql snappableConnection: %s", cmp.Or(strings.Join(msgs, "; "), "no data"))
		}
		conn := ans.Data.SnappableConnection
		out = append(out, conn.Nodes...)
		if !conn.PageInfo.HasNextPage {
			return out, nil
		}
		cur := conn.PageInfo.EndCursor
		switch {
		case cur == "":
			return nil, errors.New("graphql snappableConnection: hasNextPage without endCursor")
		case seen[cur]:
			return nil, fmt.Errorf("graphql snappableConnection: endCursor %q came back twice", cur)
		}
		seen[cur], after = true, &cur
	}
}
