package cohesity

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/billingd/billingd/internal/collector/restapi"
)

// Shapes of the Cohesity answers, only the fields the source reads.

type tenant struct {
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
}

type protectedObjects struct {
	Objects []protectedObject `json:"objects"`
}

type protectedObject struct {
	ID          *int64 `json:"id"`
	Name        string `json:"name"`
	Environment string `json:"environment"`
	ObjectType  string `json:"objectType"`
}

type tenantStatsPage struct {
	Cookie    string        `json:"cookie"`
	StatsList []tenantStats `json:"statsList"`
}

type tenantStats struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	GroupList []struct {
		ID          int64  `json:"id"`
		ViewBoxID   int64  `json:"viewBoxId"`
		ViewBoxName string `json:"viewBoxName"`
	} `json:"groupList"`
	Stats *struct {
		StorageConsumedBytes *int64 `json:"storageConsumedBytes"`
	} `json:"stats"`
}

const (
	pathToken       = "/irisservices/api/v1/public/accessTokens"
	pathTenants     = "/irisservices/api/v1/public/tenants"
	pathProtected   = "/v2/data-protect/search/protected-objects"
	pathTenantStats = "/irisservices/api/v1/public/stats/tenants"
)

// login returns the API key as it is, or an access token for the user.
func (s *Source) login(ctx context.Context, c *restapi.Client) (string, error) {
	if !s.cfg.APIKey.IsZero() {
		return s.cfg.APIKey.Reveal(), nil
	}
	var tok struct {
		AccessToken string `json:"accessToken"`
	}
	body := map[string]string{"domain": s.cfg.Domain, "username": s.cfg.Username, "password": s.cfg.Password.Reveal()}
	if err := c.PostLogin(ctx, pathToken, body, &tok); err != nil {
		return "", fmt.Errorf("as %s\\%s: %w", s.cfg.Domain, s.cfg.Username, err)
	}
	return tok.AccessToken, nil
}

// tenantStats reads every page of stats/tenants for protection runs.
func (s *Source) tenantStats(ctx context.Context) ([]tenantStats, error) {
	var out []tenantStats
	seen := map[string]bool{}
	cookie := ""
	for {
		q := url.Values{"consumerType": {"kProtectionRuns"}, "maxCount": {strconv.Itoa(s.cfg.PageSize)}}
		if cookie != "" {
			q.Set("cookie", cookie)
		}
		var p tenantStatsPage
		if err := s.Client.Get(ctx, pathTenantStats, q, &p); err != nil {
			return nil, err
		}
		out = append(out, p.StatsList...)
		if p.Cookie == "" {
			return out, nil
		}
		if seen[p.Cookie] {
			return nil, fmt.Errorf("stats/tenants: cookie %q came back twice", p.Cookie)
		}
		seen[p.Cookie], cookie = true, p.Cookie
	}
}

// protectedObjects reads one tenant's protected objects in the configured
// environments (the search is not paged).
func (s *Source) protectedObjects(ctx context.Context, tenantID string) ([]protectedObject, error) {
	q := url.Values{"tenantIds": {tenantID}, "environments": {strings.Join(s.cfg.Environments, ",")}}
	var p protectedObjects
	if err := s.Client.Get(ctx, pathProtected, q, &p); err != nil {
		return nil, err
	}
	return p.Objects, nil
}
