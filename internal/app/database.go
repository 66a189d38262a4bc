package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres"
	"github.com/billingd/billingd/internal/store/postgres/embedded"
)

// database is the opened store and, when billingd runs its own PostgreSQL,
// the cluster behind it.
type database struct {
	store   *postgres.Store
	cluster *embedded.Cluster
}

// openDatabase connects to cfg.DatabaseURL, or starts the embedded cluster
// in cfg.DataDir when no URL is given, and applies the migrations.
func openDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (*database, error) {
	db := &database{}
	url := cfg.DatabaseURL
	if url == "" {
		log.Info("no --database-url: starting the embedded PostgreSQL", "data_dir", cfg.DataDir)
		cl, err := embedded.Start(ctx, embedded.Config{DataDir: cfg.DataDir, BinDir: cfg.PGBinDir, Logger: log.With("component", "postgres")})
		if err != nil {
			return nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		db.cluster = cl
		url = cl.URL()
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		db.close(context.WithoutCancel(ctx))
		return nil, err
	}
	db.store = st
	if err := st.Migrate(ctx); err != nil {
		db.close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

func (db *database) close(ctx context.Context) error {
	if db.store != nil {
		db.store.Close()
	}
	if db.cluster != nil {
		return db.cluster.Stop(ctx)
	}
	return nil
}

// Migrate applies the migrations and exits: `billingd migrate`.
func Migrate(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("migrations applied")
	return db.close(context.WithoutCancel(ctx))
}
