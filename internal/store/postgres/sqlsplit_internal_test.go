package postgres

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	sql := `-- a comment; with a semicolon
CREATE TABLE a (x text DEFAULT 'a;b''c'); /* block; /* nested; */ still */
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$;
SELECT $1::int, E'\';', "we;ird", $$x;y$$;
-- only a comment;
`
	got, err := splitStatements(sql)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-- a comment; with a semicolon\nCREATE TABLE a (x text DEFAULT 'a;b''c')",
		`/* block; /* nested; */ still */
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$`,
		`SELECT $1::int, E'\';', "we;ird", $$x;y$$`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"SELECT 'open", "SELECT $x$ body", "/* open", `SELECT "open`} {
		if _, err := splitStatements(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestScanFrozenLeavesLateOutOfEveryBranch: each of sqlScanUsage's three
// branches reads usage_records through the anti-join with usage_late.
func TestScanFrozenLeavesLateOutOfEveryBranch(t *testing.T) {
	if n := strings.Count(sqlScanFrozen, "LEFT JOIN usage_late"); n != 3 {
		t.Errorf("%d branches leave late records out, want 3:\n%s", n, sqlScanFrozen)
	}
}
