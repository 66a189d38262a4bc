package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.NewStore(t)
	c := clock.NewFake(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
	svc := access.New(s.Access(), c)

	// The first start makes one admin key; the second finds it.
	boot, secret, err := svc.EnsureAdmin(ctx)
	if err != nil || secret == "" || boot.Role != access.RoleAdmin {
		t.Fatalf("EnsureAdmin = %+v, %q, %v", boot, secret, err)
	}
	if _, again, err := svc.EnsureAdmin(ctx); err != nil || again != "" {
		t.Fatalf("second EnsureAdmin made another key (%q, %v)", again, err)
	}
	p, err := svc.Authenticate(ctx, secret)
	if err != nil || p.ID != boot.ID || p.Role != access.RoleAdmin {
		t.Fatalf("Authenticate(bootstrap) = %+v, %v", p, err)
	}

	k, secret2, err := svc.CreateKey(ctx, access.CreateKeyInput{Key: access.Key{
		ID: "vc-collector", DisplayName: "vCenter AMS", Role: access.RoleCollector,
		Sources: []string{"vc01"}, Sites: []string{"ams"}, ExpireTime: c.Now().Add(time.Hour),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetKey(ctx, "vc-collector")
	if err != nil || got.SecretPrefix != secret2[:11] || got.Sources[0] != "vc01" || !got.ExpireTime.Equal(k.ExpireTime) {
		t.Fatalf("GetKey = %+v, %v", got, err)
	}
	if string(got.SecretHash) != string(access.HashSecret(secret2)) {
		t.Error("the stored hash is not the secret's SHA-256")
	}
	p, err = svc.Authenticate(ctx, secret2)
	if err != nil || p.ID != "vc-collector" || p.Sources[0] != "vc01" || p.Sites[0] != "ams" {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	// A scoped key needs an existing customer; an unknown one is NotFound.
	if _, _, err := svc.CreateKey(ctx, access.CreateKeyInput{Key: access.Key{DisplayName: "r", Role: access.RoleReader, CustomerID: "nobody"}}); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("key for an unknown customer: %v", err)
	}

	// Expiry and revocation end authentication at once.
	c.Advance(time.Hour)
	if _, err := svc.Authenticate(ctx, secret2); apperr.KindOf(err) != apperr.KindUnauthenticated {
		t.Errorf("expired key: %v", err)
	}
	revoked, err := svc.RevokeKey(ctx, boot.ID)
	if err != nil || revoked.RevokeTime.IsZero() {
		t.Fatalf("RevokeKey = %+v, %v", revoked, err)
	}
	if _, err := svc.Authenticate(ctx, secret); apperr.KindOf(err) != apperr.KindUnauthenticated {
		t.Errorf("revoked key: %v", err)
	}
	if again, err := svc.RevokeKey(ctx, boot.ID); err != nil || !again.RevokeTime.Equal(revoked.RevokeTime) {
		t.Errorf("revoking twice = %+v, %v; want the first revocation kept", again, err)
	}
	// With no usable admin left, the next start makes a new one.
	if _, again, err := svc.EnsureAdmin(ctx); err != nil || again == "" {
		t.Errorf("EnsureAdmin after revoking every admin = %q, %v", again, err)
	}

	active, _, err := svc.ListKeys(ctx, access.ListKeysParams{})
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := svc.ListKeys(ctx, access.ListKeysParams{IncludeRevoked: true})
	if err != nil || len(all) != len(active)+1 {
		t.Errorf("listed %d active and %d in all, want one revoked more (%v)", len(active), len(all), err)
	}
	page, next, err := svc.ListKeys(ctx, access.ListKeysParams{IncludeRevoked: true, PageSize: 2})
	if err != nil || len(page) != 2 || next == "" {
		t.Errorf("first page of 2: %d keys, token %q, %v", len(page), next, err)
	}

	if _, err := svc.Authenticate(ctx, "bk_unknown"); apperr.KindOf(err) != apperr.KindUnauthenticated {
		t.Errorf("unknown secret: %v", err)
	}
}

func TestBootstrapKeyFromFlag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.NewStore(t)
	svc := access.New(s.Access(), nil)
	const secret = "0123456789abcdef0123456789abcdef-operator"
	k, created, err := svc.EnsureKey(ctx, secret)
	if err != nil || !created || k.Role != access.RoleAdmin || k.SecretPrefix != "" {
		t.Fatalf("EnsureKey = %+v, %v, %v", k, created, err)
	}
	k2, created, err := svc.EnsureKey(ctx, secret)
	if err != nil || created || k2.ID != k.ID {
		t.Fatalf("second EnsureKey = %+v, %v, %v; want the same key", k2, created, err)
	}
	if _, secret, err := svc.EnsureAdmin(ctx); err != nil || secret != "" {
		t.Errorf("EnsureAdmin with the flag's key present = %q, %v", secret, err)
	}
	if _, _, err := svc.EnsureKey(ctx, "short"); apperr.KindOf(err) != apperr.KindInvalid {
		t.Errorf("short bootstrap secret: %v", err)
	}
}

func TestAuditTrail(t *testing.T) {
	t.Parallel()
	ctx := access.WithRequestID(access.WithPrincipal(context.Background(), access.Principal{ID: "k1", Role: access.RoleAdmin}), "req-1")
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c := clock.NewFake(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
	cat := catalog.New(s.Catalog(), c)
	keys := access.New(s.Access(), c)

	m := catalog.Metric{Key: "vm.vcpu", Unit: "vCPU", Aggregation: catalog.AggregationMax}
	if _, err := cat.CreateMetric(ctx, catalog.CreateMetricInput{Metric: m}); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if _, err := cat.UpdateMetric(ctx, catalog.UpdateMetricInput{Metric: catalog.Metric{Key: "vm.vcpu", Unit: "core"}, UpdateMask: []string{"unit"}}); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := cat.DeleteMetric(ctx, "vm.vcpu"); err != nil {
		t.Fatal(err)
	}

	es, next, err := keys.ListAuditEvents(ctx, access.ListAuditEventsParams{ResourceType: "metric"})
	if err != nil || next != "" || len(es) != 3 {
		t.Fatalf("ListAuditEvents = %d events, %q, %v", len(es), next, err)
	}
	for i, want := range []string{"delete", "update", "create"} { // newest first
		e := es[i]
		if e.Action != want || e.Actor != "k1" || e.RequestID != "req-1" || e.ResourceID != "vm.vcpu" {
			t.Errorf("event %d = %+v, want %s by k1", i, e, want)
		}
	}
	if es[2].Before != nil || es[0].After != nil || es[1].Before == nil || es[1].After == nil {
		t.Error("a create has no before, a delete no after, an update both")
	}

	// Paging: one event a page, newest first, through all three.
	var ids []string
	token := ""
	for range 4 {
		page, next, err := keys.ListAuditEvents(ctx, access.ListAuditEventsParams{PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			ids = append(ids, e.Action)
		}
		if token = next; token == "" {
			break
		}
	}
	if len(ids) != 3 || ids[0] != "delete" || ids[2] != "create" {
		t.Errorf("paged actions = %v", ids)
	}
	if _, _, err := keys.ListAuditEvents(ctx, access.ListAuditEventsParams{PageToken: "bm9wZQ"}); apperr.KindOf(err) != apperr.KindInvalid {
		t.Errorf("bad token: %v", err)
	}
	window, _, err := keys.ListAuditEvents(ctx, access.ListAuditEventsParams{Start: c.Now().Add(-time.Minute), End: c.Now()})
	if err != nil || len(window) != 1 || window[0].Action != "update" {
		t.Errorf("events in [update, delete) = %v, %v", window, err)
	}

	// The trail is append-only.
	conn, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec(ctx, "DELETE FROM audit_events"); err == nil {
		t.Error("DELETE FROM audit_events succeeded")
	}
	if _, err := conn.Exec(ctx, "UPDATE audit_events SET actor = 'x'"); err == nil {
		t.Error("UPDATE audit_events succeeded")
	}
}

// TestAuditFailureRollsTheChangeBack: the audit row is written in the
// change's transaction, so when it cannot be written nothing changes.
func TestAuditFailureRollsTheChangeBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := pgtest.NewStore(t)
	s.SetAuditEncoder(func(any) ([]byte, error) { return nil, errors.New("encoder broken") })
	cat := catalog.New(s.Catalog(), nil)
	_, err := cat.CreateMetric(ctx, catalog.CreateMetricInput{Metric: catalog.Metric{Key: "vm.vcpu", Unit: "vCPU", Aggregation: catalog.AggregationMax}})
	if err == nil {
		t.Fatal("create succeeded without its audit event")
	}
	if _, err := cat.GetMetric(ctx, "vm.vcpu"); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("the metric was stored although its audit event failed: %v", err)
	}
}
