package static_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
	"github.com/billingd/billingd/internal/collector/static"
)

func build(t *testing.T, spec string) *static.Source {
	t.Helper()
	src, err := static.Build("contracts", collectortest.YAMLNode(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	return src.(*static.Source)
}

var hashKey = regexp.MustCompile(`^static:contracts:([a-z.]+):([0-9a-f]{24}):(\d+)$`)

// describe prints a record on one line, a deterministic key as
// <file>:<hash>:<n> with the hash elided.
func describe(r collector.Record) string {
	key := r.Key
	if m := hashKey.FindStringSubmatch(key); m != nil {
		key = "static:contracts:" + m[1] + ":<hash>:" + m[3]
	}
	when := r.Time.UTC().Format(time.RFC3339)
	if r.Time.IsZero() {
		when = r.Start.UTC().Format(time.RFC3339) + "/" + r.End.UTC().Format(time.RFC3339)
	}
	var dims []string
	for k, v := range r.Dimensions {
		dims = append(dims, k+"="+v)
	}
	slices.Sort(dims)
	return fmt.Sprintf("%s %s %s=%s %s %s site=%s source=%s %v", key, r.CustomerID, r.Metric, r.Quantity, when, r.ResourceID, r.Site, r.Source, dims)
}

// TestCollectReadsEveryFormatAndReportsBadRows reads testdata/contracts (a
// CSV, a JSON array, a JSON Lines file and a README that is not read): the
// good rows become exact records, each bad row a Skip naming file, line,
// field and reason.
func TestCollectReadsEveryFormatAndReportsBadRows(t *testing.T) {
	t.Parallel()
	src := build(t, `{paths: [testdata/contracts], site: ams}`)
	b, err := src.Collect(context.Background(), "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range b.Records {
		if err := r.Check(); err != nil {
			t.Errorf("record %s fails the format rules: %v", r.Key, err)
		}
		got = append(got, describe(r))
	}
	const jan = "2026-01-01T00:00:00Z/2026-02-01T00:00:00Z"
	want := []string{
		"backup-acme-1 acme backup.gb=100 2026-01-31T23:00:00Z  site=ams source=static:contracts []",
		"static:contracts:extra.jsonl:<hash>:1 acme backup.gb=50 2026-01-31T23:00:00Z  site=ams source=static:contracts []",
		"static:contracts:licences.csv:<hash>:1 acme licence.sql=4 " + jan + " sql-01 site=ams source=static:contracts [edition=standard]",
		"static:contracts:licences.csv:<hash>:2 acme licence.sql=4 " + jan + " sql-01 site=ams source=static:contracts [edition=standard]",
		"static:contracts:licences.csv:<hash>:1 acme licence.rhel=2.5 " + jan + " rhel-07 site=ams source=static:contracts []",
		"static:contracts:licences.csv:<hash>:1 globex licence.sql=2 " + jan + " sql-07 site=ams source=static:contracts [edition=enterprise]",
		"support-acme-2026-01 acme support.hours=12.75 2026-01-15T10:00:00Z  site=ams source=static:contracts [tier=gold]",
		"static:contracts:support.json:<hash>:1 initech support.hours=5 2026-01-02T00:00:00Z  site=ams source=static:contracts []",
	}
	if !slices.Equal(got, want) {
		t.Errorf("records:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	// Two identical rows: the same content hash, told apart by occurrence.
	if len(b.Records) == len(want) {
		h1, h2 := hashKey.FindStringSubmatch(b.Records[2].Key), hashKey.FindStringSubmatch(b.Records[3].Key)
		if h1 == nil || h2 == nil || h1[2] != h2[2] || b.Records[4].Key == b.Records[2].Key {
			t.Errorf("keys of the identical rows %q, %q; want one hash, occurrences 1 and 2", b.Records[2].Key, b.Records[3].Key)
		}
	}

	var skips []string
	for _, s := range b.Skipped {
		skips = append(skips, strings.TrimPrefix(s.Resource, "testdata/contracts/")+" "+s.Reason+" "+s.Detail)
	}
	wantSkips := []string{
		"extra.jsonl:3 not_json not a usage record: ",
		"licences.csv:6 invalid_quantity field quantity: \"abc\" is not a decimal number like 4 or 12.5",
		"licences.csv:7 missing_field field customer_id: is empty",
		"licences.csv:8 invalid_record end 2026-01-01 00:00:00 +0000 UTC must be after start 2026-01-31 00:00:00 +0000 UTC",
		"licences.csv:9 invalid_row record on line 9: wrong number of fields",
		"licences.csv:10 invalid_time field start_time: \"yesterday\" is neither RFC 3339 (2026-01-01T00:00:00Z) nor a date (2026-01-01)",
		"licences.csv:11 invalid_record metric \"Licence SQL\" must match",
		"support.json:4 not_json not a usage record: ",
		"support.json:6 not_json not a usage record: ",
		"support.json:8 invalid_quantity field quantity: \"1e3\" is not a decimal number like 4 or 12.5",
	}
	if len(skips) != len(wantSkips) {
		t.Fatalf("skips:\n %s\nwant %d", strings.Join(skips, "\n "), len(wantSkips))
	}
	for i := range wantSkips {
		if !strings.HasPrefix(skips[i], wantSkips[i]) {
			t.Errorf("skip %d = %q, want it to start with %q", i, skips[i], wantSkips[i])
		}
	}
	if !strings.Contains(skips[7], "quantity") || !strings.Contains(skips[8], "priority") {
		t.Errorf("the JSON skips do not name the field: %q, %q", skips[7], skips[8])
	}
}

// TestCursorSkipsUnchangedFiles: a second Collect from the first's cursor
// reads nothing; after rows are appended to one file and the others are
// reordered, only the changed files are read again, their old rows with
// their old keys (duplicates for billingd) and the new row with a new one.
func TestCursorSkipsUnchangedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/contracts")); err != nil {
		t.Fatal(err)
	}
	src := build(t, fmt.Sprintf(`{paths: [%s]}`, dir))
	ctx := context.Background()
	first, err := src.Collect(ctx, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var cur struct{ Files map[string]string }
	if err := json.Unmarshal([]byte(first.Next), &cur); err != nil || len(cur.Files) != 3 {
		t.Fatalf("cursor %s (%v); want the hashes of 3 files", first.Next, err)
	}
	again, err := src.Collect(ctx, first.Next, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Records) != 0 || len(again.Skipped) != 0 || again.Next != first.Next {
		t.Errorf("unchanged files: %d records, %d skips, cursor moved %v; want nothing", len(again.Records), len(again.Skipped), again.Next != first.Next)
	}

	// Append a row to licences.csv; reverse the lines of extra.jsonl.
	appendTo(t, filepath.Join(dir, "licences.csv"), "initech,licence.sql,1,2026-01-01,2026-02-01,sql-09,standard\n")
	lines := strings.Split(strings.TrimSpace(read(t, filepath.Join(dir, "extra.jsonl"))), "\n")
	slices.Reverse(lines)
	if err := os.WriteFile(filepath.Join(dir, "extra.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	third, err := src.Collect(ctx, first.Next, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys := func(b collector.Batch, file string) []string {
		var out []string
		for _, r := range b.Records {
			if strings.Contains(r.Key, file) || (file == "extra.jsonl" && r.Metric == "backup.gb") || (file == "licences.csv" && strings.HasPrefix(r.Metric, "licence.")) {
				out = append(out, r.Key)
			}
		}
		slices.Sort(out)
		return out
	}
	oldCSV, newCSV := keys(first, "licences.csv"), keys(third, "licences.csv")
	if len(newCSV) != len(oldCSV)+1 || !isSubset(oldCSV, newCSV) {
		t.Errorf("licences.csv again: keys\n %q\nwant the old\n %q\nand one more", newCSV, oldCSV)
	}
	if old, now := keys(first, "extra.jsonl"), keys(third, "extra.jsonl"); !slices.Equal(old, now) || len(now) != 2 {
		t.Errorf("extra.jsonl reordered: keys %q, want the same %q", now, old)
	}
	for _, r := range third.Records {
		if r.Metric == "support.hours" {
			t.Errorf("support.json is unchanged but was read again: %s", r.Key)
		}
	}
}

func TestBadHeaderSkipsTheFile(t *testing.T) {
	t.Parallel()
	b, err := build(t, `{paths: [testdata/badheader/typo.csv]}`).Collect(context.Background(), "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 0 || len(b.Skipped) != 1 || b.Skipped[0].Resource != "testdata/badheader/typo.csv:1" ||
		b.Skipped[0].Reason != "bad_header" || !strings.Contains(b.Skipped[0].Detail, `unknown column "metric"`) {
		t.Errorf("got %d records and skips %+v; want one bad_header skip naming the column", len(b.Records), b.Skipped)
	}
}

func TestMissingPathFailsTheCollect(t *testing.T) {
	t.Parallel()
	_, err := build(t, `{paths: [testdata/nowhere]}`).Collect(context.Background(), "", time.Now())
	if err == nil || !strings.Contains(err.Error(), "testdata/nowhere") {
		t.Errorf("error %v, want one naming the missing path", err)
	}
	if _, err := static.Build("x", nil); err == nil {
		t.Error("a static source without settings was accepted")
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func isSubset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}

// TestRowsBeyondTheKeysLimitsAreSkipped: with allowed_sources, a row of
// another source is skipped (billingd would refuse its whole window).
func TestRowsBeyondTheKeysLimitsAreSkipped(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mixed.csv")
	if err := os.WriteFile(path, []byte("customer_id,metric_key,quantity,time,source\n"+
		"acme,licence.sql,1,2026-01-01,\nacme,licence.sql,2,2026-01-01,crm:eu\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := build(t, fmt.Sprintf(`{paths: [%s], allowed_sources: [static:contracts]}`, path)).Collect(context.Background(), "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 1 || b.Records[0].Quantity.String() != "1" || b.Records[0].Source != "static:contracts" ||
		len(b.Skipped) != 1 || b.Skipped[0].Resource != path+":3" || b.Skipped[0].Reason != collector.ReasonNotAllowed ||
		!strings.Contains(b.Skipped[0].Detail, `source "crm:eu" is not in allowed_sources`) {
		t.Errorf("records %+v, skips %+v; want the default-source row, and line 3 skipped as not_allowed", b.Records, b.Skipped)
	}
}

func TestConfigFileBuildsStaticSource(t *testing.T) {
	t.Parallel()
	cfg, err := collector.Parse([]byte(`
billingd: {address: "billingd.internal:9090"}
state_dir: /var/lib/billingd-collect
sources:
  - name: contracts
    interval: 1h
    static: {paths: [testdata/contracts], key_column: contract_id, site: ams, allowed_sources: [static:contracts]}
`))
	if err != nil {
		t.Fatal(err)
	}
	scheds, err := cfg.Build(map[string]collector.Builder{static.Type: static.Build})
	if err != nil || len(scheds) != 1 || scheds[0].Source.Name() != "contracts" {
		t.Fatalf("schedules %+v, %v", scheds, err)
	}
	if _, err := static.Build("x", collectortest.YAMLNode(t, `{paths: [a], colour: blue}`)); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown key: %v", err)
	}
}
