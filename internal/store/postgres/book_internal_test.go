package postgres

import (
	"regexp"
	"strings"
	"testing"
)

// TestMigrationsRaiseBookVersion: a migration after 0015_book_version that
// changes rows of a price book table raises book_version too, or billingd
// replicas still running would keep rating with the book they cached.
func TestMigrationsRaiseBookVersion(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version <= bookVersionMigration {
			continue
		}
		if table := bookRowsChanged(m.stmts); table != "" {
			t.Errorf("%s changes rows of %s without raising book_version (%s)", m.name, table, sqlRaiseBookVersion)
		}
	}
}

// TestBookRowsChangedCatchesEveryWrite feeds the checker statements that
// change a book table's rows, and some that do not.
func TestBookRowsChangedCatchesEveryWrite(t *testing.T) {
	for _, sql := range []string{
		`UPDATE prices SET unit_price = unit_price * 2`,
		`UPDATE ONLY metrics SET unit = 'GB' WHERE key = 'storage.gb'`,
		`INSERT INTO campaign_entries (campaign_id, position, product_id) VALUES ('c', 0, 'p')`,
		`DELETE FROM contracts WHERE end_time < now()`,
		`TRUNCATE price_lists CASCADE`,
		`COPY products FROM STDIN`,
		`WITH x AS (SELECT 1) UPDATE campaigns SET priority = 1`,
	} {
		stmts, err := splitStatements(sql)
		if err != nil {
			t.Fatal(err)
		}
		if bookRowsChanged(stmts) == "" {
			t.Errorf("not reported: %s", sql)
		}
		if bookRowsChanged(append(stmts, sqlRaiseBookVersion)) != "" {
			t.Errorf("reported although the version is raised: %s", sql)
		}
	}
	for _, sql := range []string{
		`ALTER TABLE prices ADD COLUMN note text`,
		`UPDATE customers SET labels = '{}'`,
		`INSERT INTO usage_late SELECT * FROM pricesx`,
		`CREATE INDEX ON products (metric_key)`,
	} {
		stmts, err := splitStatements(sql)
		if err != nil {
			t.Fatal(err)
		}
		if table := bookRowsChanged(stmts); table != "" {
			t.Errorf("reported %s for %s", table, sql)
		}
	}
}

var reRowWrite = regexp.MustCompile(`(?is)\b(?:UPDATE(?:\s+ONLY)?|INSERT\s+INTO|DELETE\s+FROM(?:\s+ONLY)?|TRUNCATE(?:\s+TABLE)?(?:\s+ONLY)?|COPY)\s+(\w+)\b`)

// bookRowsChanged returns a book table whose rows the statements change
// when none of them raises book_version, else "".
func bookRowsChanged(stmts []string) string {
	changed := ""
	for _, raw := range stmts {
		s := stripComments(raw)
		if strings.Contains(s, "UPDATE book_version") {
			return ""
		}
		for _, m := range reRowWrite.FindAllStringSubmatch(s, -1) {
			for _, b := range bookTables {
				if strings.EqualFold(m[1], b) && changed == "" {
					changed = b
				}
			}
		}
	}
	return changed
}
