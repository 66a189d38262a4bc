package postgres_test

import (
	"context"
	"testing"

	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
	"github.com/billingd/billingd/internal/store/storetest"
)

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		s := pgtest.NewStore(t)
		return storetest.Stores{Catalog: s.Catalog(), Customers: s.Customers(), Pricing: s.Pricing()}
	})
}

// TestMigrateTwice: a second Migrate, as by another replica, finds nothing to do.
func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := context.Background()
	before, err := s.SchemaVersion(ctx)
	if err != nil || before < 1 {
		t.Fatalf("SchemaVersion = %d, %v; want ≥ 1", before, err)
	}
	done := make(chan error, 3)
	for range 3 { // concurrent, as replicas starting at once
		go func() { done <- s.Migrate(ctx) }()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	after, _ := s.SchemaVersion(ctx)
	if after != before {
		t.Fatalf("version changed from %d to %d", before, after)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateFresh runs every migration on an empty database.
func TestMigrateFresh(t *testing.T) {
	t.Parallel()
	_ = postgres.MigrationsDigest()
	s := pgtest.NewEmptyStore(t)
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
}
