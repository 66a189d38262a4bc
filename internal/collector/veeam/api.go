package veeam

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/billingd/billingd/internal/collector/restapi"
)

// Shapes of VSPC REST API v3 answers, only the fields the source reads.
// Sizes are pointers so that a missing one is told from zero.

type page[T any] struct {
	Meta struct {
		PagingInfo struct {
			Total  int `json:"total"`
			Count  int `json:"count"`
			Offset int `json:"offset"`
		} `json:"pagingInfo"`
	} `json:"meta"`
	Data []T `json:"data"`
}

type company struct {
	InstanceUID string `json:"instanceUid"`
	Name        string `json:"name"`
	Status      string `json:"status"`
}

type protectedVM struct {
	InstanceUID     string `json:"instanceUid"`
	OrganizationUID string `json:"organizationUid"`
	Name            string `json:"name"`
}

type backupResourceUsage struct {
	CompanyUID        string `json:"companyUid"`
	BackupResourceUID string `json:"backupResourceUid"`
	UsedStorageQuota  *int64 `json:"usedStorageQuota"`
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
}

const (
	pathToken     = "/api/v3/token"
	pathCompanies = "/api/v3/organizations/companies"
	pathVMs       = "/api/v3/protectedWorkloads/virtualMachines"
	pathUsage     = "/api/v3/organizations/companies/sites/backupResources/usage"
)

// login returns the bearer token: the API key as it is, or an access token
// from the password grant.
func (s *Source) login(ctx context.Context, c *restapi.Client) (string, error) {
	if !s.cfg.APIKey.IsZero() {
		return s.cfg.APIKey.Reveal(), nil
	}
	form := url.Values{"grant_type": {"password"}, "username": {s.cfg.Username}, "password": {s.cfg.Password.Reveal()}}
	var tok tokenAnswer
	if err := c.PostLogin(ctx, pathToken, form, &tok); err != nil {
		return "", fmt.Errorf("as %s: %w", s.cfg.Username, err)
	}
	return tok.AccessToken, nil
}

// maxPages bounds the pages of one collection, so that a server that
// keeps answering full pages cannot hold a poll forever.
const maxPages = 10000

// list reads every page of a collection.
func list[T any](ctx context.Context, c *restapi.Client, path string, pageSize int) ([]T, error) {
	var out []T
	offset := 0
	for range maxPages {
		var p page[T]
		q := url.Values{"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(offset)}}
		if err := c.Get(ctx, path, q, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Data...)
		offset += len(p.Data)
		total := p.Meta.PagingInfo.Total
		// The last page: offset reached the total, or, without a total, a
		// short page. An empty page ends it too, so that a collection that
		// shrinks while it is read cannot loop.
		if len(p.Data) == 0 || (total > 0 && offset >= total) || (total == 0 && len(p.Data) < pageSize) {
			return out, nil
		}
	}
	return nil, fmt.Errorf("GET %s: more than %d pages", path, maxPages)
}
