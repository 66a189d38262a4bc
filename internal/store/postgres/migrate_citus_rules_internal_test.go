package postgres

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// citusLayoutVersion is the migration that lays the schema out on Citus
// (0013_citus_layout): later migrations run on distributed tables.
const citusLayoutVersion = 13

// TestMigrationsKeepCitusRules checks, without Citus, the rules a
// migration must keep to run on a Citus database (docs/operations.md,
// "What is not supported"). Functions of migrations from 0011 on stay in
// use; migrations after 0013 also run on tables that are distributed.
func TestMigrationsKeepCitusRules(t *testing.T) {
	ms, err := loadMigrations() // fails on a statement splitStatements cannot cut
	if err != nil {
		t.Fatal(err)
	}
	layout := map[string]string{}
	for _, m := range ms {
		for _, s := range m.stmts {
			recordLayout(s, layout)
		}
	}
	for _, m := range ms {
		if m.version < 11 {
			continue
		}
		for _, v := range citusViolations(m.version, m.stmts, layout) {
			t.Errorf("%s: %s", m.name, v)
		}
	}
	// every table a migration creates is laid out
	for _, m := range ms {
		for _, s := range m.stmts {
			if name := createdTable(s); name != "" && layout[name] == "" && !droppedLater(ms, name) {
				t.Errorf("%s: table %s has no layout (call billingd_distribute)", m.name, name)
			}
		}
	}
}

// TestCitusViolationsCatchBrokenMigrations feeds the checker migrations
// that break each rule: each must be reported.
func TestCitusViolationsCatchBrokenMigrations(t *testing.T) {
	layout := map[string]string{"usage_records": "customer", "customers": "reference", "usage_late": "reference", "audit_events": "local"}
	for _, tc := range []struct{ name, sql string }{
		{"transition table", `CREATE TRIGGER t AFTER INSERT ON usage_records REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION f()`},
		{"trigger on a distributed table", `CREATE TRIGGER t BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION f()`},
		{"table without layout", `CREATE TABLE usage_daily (customer_id text, n int)`},
		{"ADD CONSTRAINT with another subcommand", `ALTER TABLE usage_late ADD COLUMN x int, ADD CONSTRAINT x_pos CHECK (x > 0)`},
		{"ctid", `DELETE FROM usage_records WHERE ctid = ANY (ARRAY(SELECT ctid FROM usage_records LIMIT 5))`},
		{"OFFSET 0", `SELECT * FROM customers c, LATERAL (SELECT * FROM usage_records r WHERE r.customer_id = c.id OFFSET 0) r`},
		{"SQL function on a distributed table", `CREATE FUNCTION f(c text) RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM usage_records WHERE customer_id = c $$`},
		{"unique index without the distribution column", `CREATE UNIQUE INDEX ON usage_records (idempotency_key, start_time)`},
		{"reference table updated from a distributed one", `UPDATE usage_late l SET metric_key = r.metric_key FROM usage_records r WHERE r.idempotency_key = l.idempotency_key`},
	} {
		stmts, err := splitStatements(tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if v := citusViolations(citusLayoutVersion+1, stmts, layout); len(v) == 0 {
			t.Errorf("%s: not reported", tc.name)
		}
	}
	ok := `CREATE TABLE usage_daily (customer_id text COLLATE "C" NOT NULL, day date NOT NULL, PRIMARY KEY (customer_id, day));
		SELECT billingd_distribute('usage_daily', 'customer');
		ALTER TABLE usage_late ADD COLUMN x int;
		ALTER TABLE usage_late ADD CONSTRAINT x_pos CHECK (x > 0);
		CREATE TRIGGER t BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION f();`
	stmts, err := splitStatements(ok)
	if err != nil {
		t.Fatal(err)
	}
	l := map[string]string{}
	for k, v := range layout {
		l[k] = v
	}
	for _, s := range stmts {
		recordLayout(s, l)
	}
	if v := citusViolations(citusLayoutVersion+1, stmts, l); len(v) > 0 {
		t.Errorf("a Citus-safe migration reported: %v", v)
	}
}

var (
	reLayoutRow    = regexp.MustCompile(`\(\s*\d+\s*,\s*'(\w+)'\s*,\s*'(customer|reference|local)'\s*\)`)
	reDistribute   = regexp.MustCompile(`(?i)billingd_distribute\(\s*'(\w+)'\s*,\s*'(\w+)'\s*\)`)
	reCreateTable  = regexp.MustCompile(`(?is)^CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)`)
	reTransition   = regexp.MustCompile(`(?i)REFERENCING\s+(NEW|OLD)\s+TABLE`)
	reTrigger      = regexp.MustCompile(`(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+\w+\s+.*?\bON\s+(\w+)`)
	reCtid         = regexp.MustCompile(`(?i)\bctid\b`)
	reOffset0      = regexp.MustCompile(`(?i)\bOFFSET\s+0\b`)
	reSQLFunction  = regexp.MustCompile(`(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\b.*\bLANGUAGE\s+sql\b`)
	reAlterTable   = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?\w+\s+(.*)$`)
	reAddConstr    = regexp.MustCompile(`(?i)^ADD\s+(CONSTRAINT|PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY|EXCLUDE)\b`)
	reUniqueIndex  = regexp.MustCompile(`(?is)^CREATE\s+UNIQUE\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:\w+\s+)?ON\s+(?:ONLY\s+)?(\w+)\s*(?:USING\s+\w+\s*)?\((.*?)\)`)
	reUniqueInline = regexp.MustCompile(`(?i)\b(PRIMARY\s+KEY|UNIQUE)\s*\(([^)]*)\)`)
	reUpdateFrom   = regexp.MustCompile(`(?is)^(?:UPDATE\s+(?:ONLY\s+)?(\w+)\b.*?\bFROM\b(.*)|DELETE\s+FROM\s+(?:ONLY\s+)?(\w+)\b.*?\bUSING\b(.*))$`)
	reWord         = regexp.MustCompile(`\w+`)
)

// recordLayout notes the tables a statement lays out (0013's rows and
// billingd_distribute calls).
func recordLayout(stmt string, layout map[string]string) {
	if strings.Contains(stmt, "INSERT INTO schema_layout") {
		for _, m := range reLayoutRow.FindAllStringSubmatch(stmt, -1) {
			layout[m[1]] = m[2]
		}
	}
	for _, m := range reDistribute.FindAllStringSubmatch(stmt, -1) {
		layout[m[1]] = m[2]
	}
}

func createdTable(stmt string) string {
	if m := reCreateTable.FindStringSubmatch(stripComments(stmt)); m != nil {
		return m[1]
	}
	return ""
}

// droppedLater reports whether a later migration drops the table.
func droppedLater(ms []migration, name string) bool {
	re := regexp.MustCompile(`(?i)\bDROP\s+TABLE\s+(IF\s+EXISTS\s+)?` + name + `\b`)
	for _, m := range ms {
		if re.MatchString(m.sql) {
			return true
		}
	}
	return false
}

// citusViolations returns the Citus rules the statements of migration
// version break; layout says how each table is held.
func citusViolations(version int, stmts []string, layout map[string]string) []string {
	var out []string
	report := func(i int, format string, args ...any) {
		out = append(out, fmt.Sprintf("statement %d: ", i+1)+fmt.Sprintf(format, args...))
	}
	distributed := func(table string) bool { return layout[table] == "customer" }
	laidOut := map[string]bool{}
	for _, s := range stmts {
		for _, m := range reDistribute.FindAllStringSubmatch(s, -1) {
			laidOut[m[1]] = true
		}
	}
	for i, raw := range stmts {
		s := stripComments(raw)
		if reTransition.MatchString(s) {
			report(i, "a trigger with a transition table cannot run on Citus shards")
		}
		if reCtid.MatchString(s) {
			report(i, "ctid is not supported on distributed tables (and differs per shard)")
		}
		if reOffset0.MatchString(s) {
			report(i, "OFFSET 0 subqueries cannot be pushed down by Citus")
		}
		if reSQLFunction.MatchString(s) {
			for _, w := range reWord.FindAllString(s, -1) {
				if distributed(w) {
					report(i, "LANGUAGE sql function reads %s: Citus cannot plan parameters in SQL functions; use PL/pgSQL", w)
					break
				}
			}
		}
		if version <= citusLayoutVersion {
			continue // the rest concerns tables already distributed
		}
		if name := createdTable(s); name != "" && !laidOut[name] {
			report(i, "table %s is created without billingd_distribute in the same migration", name)
		}
		if m := reTrigger.FindStringSubmatch(s); m != nil && layout[m[1]] != "local" {
			report(i, "trigger on %s: a distributed or reference table with triggers needs citus.enable_unsafe_triggers", m[1])
		}
		if m := reAlterTable.FindStringSubmatch(s); m != nil {
			cmds := splitTopLevel(m[1], ',')
			if len(cmds) > 1 && slices.ContainsFunc(cmds, func(c string) bool { return reAddConstr.MatchString(strings.TrimSpace(c)) }) {
				report(i, "ALTER TABLE adds a constraint beside other subcommands: Citus wants ADD CONSTRAINT alone")
			}
		}
		if m := reUniqueIndex.FindStringSubmatch(s); m != nil && distributed(m[1]) && !strings.Contains(m[2], "customer_id") {
			report(i, "unique index on %s without customer_id: Citus enforces uniqueness per shard only", m[1])
		}
		if m := reAlterTable.FindStringSubmatch(s); m != nil || createdTable(s) != "" {
			table := createdTable(s)
			if table == "" {
				table = reWord.FindString(strings.TrimSpace(s[len("ALTER TABLE"):]))
			}
			for _, u := range reUniqueInline.FindAllStringSubmatch(s, -1) {
				if (distributed(table) || layout[table] == "" && laidOutAs(stmts, table) == "customer") && !strings.Contains(u[2], "customer_id") {
					report(i, "%s on %s without customer_id", u[1], table)
				}
			}
		}
		if m := reUpdateFrom.FindStringSubmatch(s); m != nil {
			target, from := m[1]+m[3], m[2]+m[4]
			for _, w := range reWord.FindAllString(from, -1) {
				if distributed(w) && !distributed(target) {
					report(i, "%s is changed from distributed %s: Citus cannot join them in a modification", target, w)
					break
				}
			}
		}
	}
	return out
}

func laidOutAs(stmts []string, table string) string {
	l := map[string]string{}
	for _, s := range stmts {
		recordLayout(s, l)
	}
	return l[table]
}

// stripComments drops -- comments (the statements come from
// splitStatements, so a "--" inside a constant is rare enough to ignore).
func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return strings.TrimSpace(b.String())
}

// splitTopLevel cuts s at sep outside parentheses.
func splitTopLevel(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
