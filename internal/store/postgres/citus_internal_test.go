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

// TestCitusSessionSQLLeavesURLSettingsAlone: billingd's Citus settings
// apply to every session unless the database URL sets them itself.
func TestCitusSessionSQLLeavesURLSettingsAlone(t *testing.T) {
	all := citusSessionSQL(map[string]string{})
	for _, kv := range citusSettings {
		if !strings.Contains(all, "'"+kv[0]+"', '"+kv[1]+"'") {
			t.Errorf("%s is not set: %s", kv[0], all)
		}
	}
	if !strings.Contains(all, "WHERE extname = 'citus'") {
		t.Errorf("the settings are not limited to databases with Citus: %s", all)
	}
	some := citusSessionSQL(map[string]string{"citus.max_adaptive_executor_pool_size": "4"})
	if strings.Contains(some, "max_adaptive_executor_pool_size") || !strings.Contains(some, "max_cached_conns_per_worker") {
		t.Errorf("with the pool size in the URL: %s", some)
	}
	none := map[string]string{}
	for _, kv := range citusSettings {
		none[kv[0]] = "x"
	}
	if got := citusSessionSQL(none); got != "" {
		t.Errorf("with every setting in the URL: %q, want none", got)
	}
}
