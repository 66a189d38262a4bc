package postgres

import (
	"slices"
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
