package static

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/billingd/billingd/internal/collector"
)

// readJSONArray reads a JSON array of usage records (protojson names, as
// billingd's API writes them).
func readJSONArray(path string, data []byte) ([]row, []collector.Skip) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, []collector.Skip{rowSkip(path, 1, "not_json", "a .json file holds an array of usage records (or use .jsonl, one per line)")}
	}
	var (
		rows  []row
		skips []collector.Skip
	)
	for dec.More() {
		line := lineAt(data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// Broken JSON: nothing after it can be trusted.
			return rows, append(skips, rowSkip(path, line, "not_json", err.Error()))
		}
		rows, skips = addJSON(rows, skips, path, line, raw)
	}
	return rows, skips
}

// readJSONLines reads one usage record per line; blank lines are ignored.
func readJSONLines(path string, data []byte) ([]row, []collector.Skip) {
	var (
		rows  []row
		skips []collector.Skip
	)
	for i, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		rows, skips = addJSON(rows, skips, path, i+1, l)
	}
	return rows, skips
}

func addJSON(rows []row, skips []collector.Skip, path string, line int, raw []byte) ([]row, []collector.Skip) {
	rec, err := collector.DecodeRecordJSON(raw)
	if err != nil {
		var fe *collector.FieldError
		if errors.As(err, &fe) {
			return rows, append(skips, rowSkip(path, line, "invalid_"+fe.Field, "field "+fe.Field+": "+fe.Reason))
		}
		return rows, append(skips, rowSkip(path, line, "not_json", err.Error()))
	}
	return append(rows, row{line: line, rec: rec}), skips
}

// lineAt returns the line of the first value after offset: the decoder's
// offset is just past the previous value, before the comma and spaces.
func lineAt(data []byte, offset int64) int {
	i := int(offset)
	for i < len(data) && (data[i] == ',' || data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		i++
	}
	return 1 + bytes.Count(data[:i], []byte("\n"))
}
