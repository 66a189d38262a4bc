package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

const ingestHelp = `The CSV file has a header row naming its columns, in any order:

  key           idempotency key, unique per record for all time (required),
                e.g. myscript:vm-42:vm.vcpu:2026-10-01T10
  customer      customer id (required)
  metric        metric key, e.g. vm.vcpu (required)
  quantity      decimal, e.g. 4 or 12.5 (required)
  time          RFC 3339 instant of a sample or event, or else
  start, end    RFC 3339 interval [start, end) the record covers
  resource      the measured resource, e.g. a VM's UUID
  organisation, vdc, site, source
  dim.NAME      a dimension products filter on, e.g. dim.policy = Gold

Long names (idempotency_key, customer_id, metric_key, start_time, end_time,
resource_id, organisation_id, vdc_id) work too. Example:

  key,customer,metric,quantity,start,end,resource,dim.policy
  csv:vm1:2026-10-01,acme,storage.gb,500,2026-10-01T00:00:00Z,2026-10-02T00:00:00Z,vm1,Gold

Records go in batches (BatchIngestUsage); each is validated on its own, so
a bad record is rejected alone and printed with its line. Sending a file
again is safe: records already stored come back as duplicates. The exit code
is 1 when any record was rejected.
`

func ingestCommand() command {
	return command{
		name: "ingest", args: "FILE.csv", summary: "Send usage records from a CSV file (- reads stdin) to UsageService.",
		help: ingestHelp,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			batch := fs.Int("batch", 1000, "records per request (at most 10000)")
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want one CSV file (or - for stdin)")
				}
				if *batch < 1 || *batch > 10000 {
					return usagef("--batch %d: want 1 to 10000", *batch)
				}
				in := e.stdin
				if args[0] != "-" {
					f, err := os.Open(args[0])
					if err != nil {
						return err
					}
					defer f.Close()
					in = f
				}
				recs, lines, err := readUsageCSV(args[0], in)
				if err != nil {
					return err
				}
				return withConn(e, func(conn *grpc.ClientConn) error { return ingest(e, conn, recs, lines, *batch) })
			}
		},
	}
}

func ingest(e *env, conn grpc.ClientConnInterface, recs []*billingv1.UsageRecord, lines []int, batch int) error {
	c := billingv1.NewUsageServiceClient(conn)
	var stored, dups, rejected int
	for i := 0; i < len(recs); i += batch {
		part := recs[i:min(i+batch, len(recs))]
		ctx, cancel := e.call()
		res, err := c.BatchIngestUsage(ctx, &billingv1.BatchIngestUsageRequest{Records: part})
		cancel()
		if err != nil {
			return fmt.Errorf("records of lines %d–%d (%d sent before them): %w", lines[i], lines[i+len(part)-1], i, err)
		}
		stored += int(res.GetAccepted())
		dups += int(res.GetDuplicates())
		for _, r := range res.GetRejected() {
			rejected++
			line := 0
			if k := i + int(r.GetIndex()); k >= 0 && k < len(lines) {
				line = lines[k]
			}
			field := r.GetField()
			if field != "" {
				field += ": "
			}
			fmt.Fprintf(e.stderr, "line %d (key %s): rejected: %s%s\n", line, r.GetIdempotencyKey(), field, r.GetReason())
		}
	}
	fmt.Fprintf(e.stdout, "%d records: %d stored, %d duplicates (stored before), %d rejected\n", len(recs), stored, dups, rejected)
	if rejected > 0 {
		return fmt.Errorf("%d of %d records rejected (lines above)", rejected, len(recs))
	}
	return nil
}

var usageColumns = map[string]string{
	"key": "key", "idempotency_key": "key", "customer": "customer", "customer_id": "customer",
	"metric": "metric", "metric_key": "metric", "quantity": "quantity", "time": "time",
	"start": "start", "start_time": "start", "end": "end", "end_time": "end",
	"resource": "resource", "resource_id": "resource", "organisation": "organisation", "organisation_id": "organisation",
	"vdc": "vdc", "vdc_id": "vdc", "site": "site", "source": "source",
}

// readUsageCSV parses the whole file first, so that a malformed file sends
// nothing; it returns each record's line number too.
func readUsageCSV(name string, in io.Reader) ([]*billingv1.UsageRecord, []int, error) {
	r := csv.NewReader(in)
	r.TrimLeadingSpace = true
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: empty file (want a header row, see billingctl ingest --help)", name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	cols := make([]string, len(head))
	seen := map[string]bool{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		switch c, ok := usageColumns[strings.ToLower(h)]; {
		case ok:
			cols[i] = c
		case strings.HasPrefix(h, "dim.") && len(h) > 4:
			cols[i] = h
		default:
			return nil, nil, fmt.Errorf("%s:1: unknown column %q (see billingctl ingest --help)", name, h)
		}
		if seen[cols[i]] {
			return nil, nil, fmt.Errorf("%s:1: column %q given twice", name, h)
		}
		seen[cols[i]] = true
	}
	for _, c := range []string{"key", "customer", "metric", "quantity"} {
		if !seen[c] {
			return nil, nil, fmt.Errorf("%s:1: column %q is required", name, c)
		}
	}
	if seen["time"] == (seen["start"] || seen["end"]) || seen["start"] != seen["end"] {
		return nil, nil, fmt.Errorf("%s:1: give a time column, or start and end columns", name)
	}
	var (
		recs  []*billingv1.UsageRecord
		lines []int
	)
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		rec := &billingv1.UsageRecord{}
		for i, v := range row {
			v = strings.TrimSpace(v)
			if err := setUsageField(rec, cols[i], v); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %s: %w", name, line, head[i], err)
			}
		}
		recs = append(recs, rec)
		lines = append(lines, line)
	}
	if len(recs) == 0 {
		return nil, nil, fmt.Errorf("%s: no records after the header", name)
	}
	return recs, lines, nil
}

func setUsageField(rec *billingv1.UsageRecord, col, v string) error {
	ts := func() (*timestamppb.Timestamp, error) {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fmt.Errorf("%q is not an RFC 3339 time such as 2026-10-01T00:00:00Z", v)
		}
		return timestamppb.New(t), nil
	}
	var err error
	switch col {
	case "key":
		rec.IdempotencyKey = v
	case "customer":
		rec.CustomerId = v
	case "metric":
		rec.MetricKey = v
	case "quantity":
		rec.Quantity = v
	case "time":
		rec.Time, err = ts()
	case "start":
		rec.StartTime, err = ts()
	case "end":
		rec.EndTime, err = ts()
	case "resource":
		rec.ResourceId = v
	case "organisation":
		rec.OrganisationId = v
	case "vdc":
		rec.VdcId = v
	case "site":
		rec.Site = v
	case "source":
		rec.Source = v
	default: // dim.NAME
		if v != "" {
			if rec.Dimensions == nil {
				rec.Dimensions = map[string]string{}
			}
			rec.Dimensions[strings.TrimPrefix(col, "dim.")] = v
		}
	}
	return err
}
