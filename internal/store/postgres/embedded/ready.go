package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// waitReady polls until postgres answers SELECT 1, the child exits, or ctx
// (or defaultReadyTimeout, if ctx has no deadline) ends.
func (c *Cluster) waitReady(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReadyTimeout)
		defer cancel()
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		select {
		case <-c.done:
			return fmt.Errorf("embedded postgres: postgres exited during startup (%v); last log lines:\n%s", c.waitErr, c.sink.Tail())
		case <-ctx.Done():
			return fmt.Errorf("embedded postgres: not accepting connections on %s: %w (last error: %v); last log lines:\n%s",
				addr, ctx.Err(), last, c.sink.Tail())
		case <-tick.C:
		}
		if last = c.ping(ctx, addr); last == nil {
			return nil
		}
	}
}

func (c *Cluster) ping(ctx context.Context, addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	_ = conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pc, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		return err
	}
	defer pc.Close(context.Background())
	var one int
	return pc.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// createDatabase creates c.database unless it exists.
func (c *Cluster) createDatabase(ctx context.Context) error {
	pc, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	defer pc.Close(context.Background())
	var found bool
	if err := pc.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.database).Scan(&found); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if found {
		return nil
	}
	_, err = pc.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.database}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database
		err = nil
	}
	if err != nil {
		return fmt.Errorf("embedded postgres: creating database %q: %w", c.database, err)
	}
	c.log.Info("embedded postgres: created database", "name", c.database)
	return nil
}
