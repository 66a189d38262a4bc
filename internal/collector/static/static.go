package static

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
)

// Type is the source type of static files in the collector configuration.
const Type = "static"

// Config is a static source's settings.
type Config struct {
	// Paths are files, or directories whose *.csv, *.json, *.jsonl and
	// *.ndjson files (not sub-directories) are read.
	Paths []string `yaml:"paths"`
	// KeyColumn names the CSV column holding each row's idempotency key;
	// default idempotency_key. Rows without one get a deterministic key.
	KeyColumn string `yaml:"key_column"`
	// Source and Site fill in a record's empty source (default
	// static:<source name>) and site.
	Source string `yaml:"source"`
	Site   string `yaml:"site"`
	// The API key's limits: rows beyond them are skipped (not_allowed)
	// rather than having billingd refuse their whole window.
	collector.Limits `yaml:",inline"`
}

// Build makes a static source from its settings (a collector.Builder).
func Build(name string, spec *yaml.Node) (collector.Source, error) {
	var c Config
	if err := collector.DecodeStrict(spec, &c); err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	return New(name, c)
}

// New checks c and returns the source.
func New(name string, c Config) (*Source, error) {
	if len(c.Paths) == 0 {
		return nil, errors.New("static: paths: at least one file or directory is required")
	}
	if c.KeyColumn == "" {
		c.KeyColumn = "idempotency_key"
	}
	if c.Source == "" {
		c.Source = "static:" + name
	}
	return &Source{name: name, cfg: c}, nil
}

// Source reads the configured files.
type Source struct {
	name string
	cfg  Config
}

// Name returns the source name.
func (s *Source) Name() string { return s.name }

// cursor is the persisted position: the SHA-256 of every file imported.
type cursor struct {
	Files map[string]string `json:"files"`
}

// Collect reads the files whose content differs from the cursor's.
func (s *Source) Collect(ctx context.Context, c collector.Cursor, _ time.Time) (collector.Batch, error) {
	prev := cursor{Files: map[string]string{}}
	if c != "" {
		if err := json.Unmarshal([]byte(c), &prev); err != nil {
			return collector.Batch{}, fmt.Errorf("cursor: %w", err)
		}
	}
	files, err := s.files()
	if err != nil {
		return collector.Batch{}, err
	}
	next := cursor{Files: map[string]string{}}
	var b collector.Batch
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return collector.Batch{}, err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			// Try again next time: keep what was imported of it, if anything.
			if h, ok := prev.Files[path]; ok {
				next.Files[path] = h
			}
			b.Skipped = append(b.Skipped, collector.Skip{Resource: path, Reason: "unreadable", Detail: err.Error()})
			continue
		}
		sum := sha256.Sum256(data)
		hash := hex.EncodeToString(sum[:])
		next.Files[path] = hash
		if prev.Files[path] == hash {
			continue
		}
		recs, skips := s.parse(path, data)
		b.Records = append(b.Records, recs...)
		b.Skipped = append(b.Skipped, skips...)
	}
	out, err := json.Marshal(next)
	if err != nil {
		return collector.Batch{}, err
	}
	b.Next = collector.Cursor(out)
	return b, nil
}

// extensions the source reads from a directory.
var extensions = []string{".csv", ".json", ".jsonl", ".ndjson"}

// files lists the configured files, sorted; a missing path is an error.
func (s *Source) files() ([]string, error) {
	var out []string
	for _, p := range s.cfg.Paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, filepath.Clean(p))
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type()&fs.ModeType == 0 && slices.Contains(extensions, strings.ToLower(filepath.Ext(e.Name()))) {
				out = append(out, filepath.Join(p, e.Name()))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parse turns one file into records; every row that cannot become one is a
// Skip naming the file and line.
func (s *Source) parse(path string, data []byte) ([]collector.Record, []collector.Skip) {
	var rows []row
	var skips []collector.Skip
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		rows, skips = readCSV(path, data, s.cfg.KeyColumn)
	case ".json":
		rows, skips = readJSONArray(path, data)
	default:
		rows, skips = readJSONLines(path, data)
	}
	var recs []collector.Record
	seen := map[string]int{} // content hash → occurrences so far in the file
	for _, r := range rows {
		rec := r.rec
		if rec.Source == "" {
			rec.Source = s.cfg.Source
		}
		if rec.Site == "" {
			rec.Site = s.cfg.Site
		}
		if rec.Key == "" {
			h := contentHash(rec)
			seen[h]++
			rec.Key = collector.Key(Type, s.name, filepath.Base(path), h, fmt.Sprint(seen[h]))
		}
		if err := rec.Check(); err != nil {
			skips = append(skips, rowSkip(path, r.line, collector.ReasonInvalidRecord, err.Error()))
			continue
		}
		if err := s.cfg.Limits.Check(rec); err != nil {
			skips = append(skips, rowSkip(path, r.line, collector.ReasonNotAllowed, err.Error()))
			continue
		}
		recs = append(recs, rec)
	}
	slices.SortStableFunc(skips, func(a, b collector.Skip) int { return skipLine(a) - skipLine(b) })
	return recs, skips
}

// skipLine is the line number a row's Skip names ("file:line").
func skipLine(s collector.Skip) int {
	n, _ := strconv.Atoi(s.Resource[strings.LastIndexByte(s.Resource, ':')+1:])
	return n
}

// row is a parsed row and the line it starts on.
type row struct {
	line int
	rec  collector.Record
}

func rowSkip(path string, line int, reason, detail string) collector.Skip {
	return collector.Skip{Resource: fmt.Sprintf("%s:%d", path, line), Reason: reason, Detail: detail}
}

// contentHash identifies a row by what it bills, whatever its formatting
// (column order, "1.50" or "1.5", time zone): rows can be reordered or
// inserted without changing the others' keys.
func contentHash(r collector.Record) string {
	var b bytes.Buffer
	for _, s := range []string{r.CustomerID, r.Metric, r.Quantity.String(), stamp(r.Time), stamp(r.Start), stamp(r.End),
		r.ResourceID, r.OrganisationID, r.VdcID, r.Site, r.Source} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	keys := make([]string, 0, len(r.Dimensions))
	for k := range r.Dimensions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k + "=" + r.Dimensions[k])
		b.WriteByte(0)
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:12])
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
