package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

func billCommand() command {
	return command{
		name: "bill", summary: "Rate a period with BillingService.QueryBilling and print its lines and totals.",
		help: `Columns follow --group-by: CUSTOMER when grouped by customer (or one
--customer), then the other keys, PRODUCT, MODEL (payg, committed,
overage, adjustment), START with an hour, day or month --granularity,
QUANTITY, UNIT, UNIT PRICE, AMOUNT, CURRENCY and what priced the line
(a price list, campaign or contract). Totals are per currency, the sums of
the line amounts. --format csv prints the same columns with a header row;
--format json prints the QueryBillingResponse as protobuf JSON.

--month bills each customer's own month, from midnight on the 1st in its
billing time zone (as the demo and GetBillingStats do); --from and --to
are a custom window, the same instants for every customer.

Examples:
  billingctl bill --month 2026-10 --customer acme --group-by product
  billingctl bill --month 2026-10 --group-by customer,product --format csv > 2026-10.csv
  billingctl bill --from 2026-10-01T00:00:00Z --to 2026-10-08T00:00:00Z --granularity day --group-by product
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			var q queryFlags
			q.bind(fs)
			format := fs.String("format", "table", "table, csv or json")
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *format != "table" && *format != "csv" && *format != "json" {
					return usagef("--format %q: want table, csv or json", *format)
				}
				return withConn(e, func(conn *grpc.ClientConn) error {
					query, err := q.query()
					if err != nil {
						return err
					}
					res, err := queryAll(e, conn, query)
					if err != nil {
						return err
					}
					switch *format {
					case "json":
						b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(res)
						if err != nil {
							return err
						}
						_, err = fmt.Fprintln(e.stdout, string(b))
						return err
					case "csv":
						return writeLinesCSV(e.stdout, query, res)
					}
					writeLinesTable(e.stdout, query, res)
					return nil
				})
			}
		},
	}
}

// queryAll gathers every page of a QueryBilling.
func queryAll(e *env, conn grpc.ClientConnInterface, q *billingv1.BillingQuery) (*billingv1.QueryBillingResponse, error) {
	c := billingv1.NewBillingServiceClient(conn)
	req := &billingv1.QueryBillingRequest{Query: q, PageSize: 10000}
	var all *billingv1.QueryBillingResponse
	for {
		ctx, cancel := e.call()
		res, err := c.QueryBilling(ctx, req)
		cancel()
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = res
		} else {
			all.Lines = append(all.Lines, res.GetLines()...)
		}
		if res.GetNextPageToken() == "" {
			all.NextPageToken = ""
			return all, nil
		}
		req.PageToken = res.GetNextPageToken()
	}
}

// column is one column of the bill: shown when its condition holds.
type column struct {
	head  string
	right bool
	value func(l *billingv1.BillingLine) string
}

func lineColumns(q *billingv1.BillingQuery) []column {
	by := map[billingv1.GroupBy]bool{}
	for _, g := range q.GetGroupBy() {
		by[g] = true
	}
	var cols []column
	add := func(on bool, head string, right bool, v func(*billingv1.BillingLine) string) {
		if on {
			cols = append(cols, column{head, right, v})
		}
	}
	add(by[billingv1.GroupBy_GROUP_BY_CUSTOMER] || len(q.GetCustomerIds()) == 1, "CUSTOMER", false, (*billingv1.BillingLine).GetCustomerId)
	add(by[billingv1.GroupBy_GROUP_BY_ORGANISATION], "ORGANISATION", false, (*billingv1.BillingLine).GetOrganisationId)
	add(by[billingv1.GroupBy_GROUP_BY_VDC], "VDC", false, (*billingv1.BillingLine).GetVdcId)
	add(by[billingv1.GroupBy_GROUP_BY_SITE], "SITE", false, (*billingv1.BillingLine).GetSite)
	add(by[billingv1.GroupBy_GROUP_BY_RESOURCE], "RESOURCE", false, (*billingv1.BillingLine).GetResourceId)
	add(by[billingv1.GroupBy_GROUP_BY_PRODUCT_GROUP], "GROUP", false, (*billingv1.BillingLine).GetProductGroupId)
	for _, d := range q.GetGroupByDimensions() {
		add(true, strings.ToUpper(d), false, func(l *billingv1.BillingLine) string { return l.GetDimensions()[d] })
	}
	add(true, "PRODUCT", false, (*billingv1.BillingLine).GetProductId)
	add(true, "MODEL", false, func(l *billingv1.BillingLine) string {
		return strings.ToLower(strings.TrimPrefix(l.GetModel().String(), "BILLING_MODEL_"))
	})
	g := q.GetGranularity()
	add(g != billingv1.Granularity_GRANULARITY_PERIOD && g != billingv1.Granularity_GRANULARITY_UNSPECIFIED, "START", false,
		func(l *billingv1.BillingLine) string { return l.GetStartTime().AsTime().Format(time.RFC3339) })
	add(true, "QUANTITY", true, (*billingv1.BillingLine).GetQuantity)
	add(true, "UNIT", false, (*billingv1.BillingLine).GetUnit)
	add(true, "UNIT PRICE", true, (*billingv1.BillingLine).GetUnitPrice)
	add(true, "AMOUNT", true, (*billingv1.BillingLine).GetAmount)
	add(true, "CURRENCY", false, (*billingv1.BillingLine).GetCurrency)
	add(true, "PRICED BY", false, pricedBy)
	return cols
}

func pricedBy(l *billingv1.BillingLine) string {
	switch {
	case l.GetContractId() != "":
		return "contract " + l.GetContractId()
	case l.GetCampaignId() != "":
		return "campaign " + l.GetCampaignId()
	case l.GetPriceListId() != "":
		return "list " + l.GetPriceListId()
	}
	return ""
}

func writeLinesTable(w io.Writer, q *billingv1.BillingQuery, res *billingv1.QueryBillingResponse) {
	cols := lineColumns(q)
	t := table{}
	amount := 0
	for i, c := range cols {
		t.head = append(t.head, c.head)
		if c.right {
			t.right = append(t.right, i)
		}
		if c.head == "AMOUNT" {
			amount = i
		}
	}
	for _, l := range res.GetLines() {
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = c.value(l)
		}
		t.rows = append(t.rows, row)
	}
	for _, tot := range res.GetTotals() {
		row := make([]string, len(cols))
		row[max(amount-1, 0)] = "TOTAL"
		row[amount], row[amount+1] = tot.GetAmount(), tot.GetCurrency()
		row[len(cols)-1] = fmt.Sprintf("%d lines", tot.GetLineCount())
		t.foot = append(t.foot, row)
	}
	t.write(w)
	if len(res.GetLines()) == 0 {
		fmt.Fprintln(w, "(no billing lines in this period)")
	}
	writeUnpriced(w, res.GetUnpricedUsage())
}

// writeUnpriced lists the usage that is not billed, series by series, and
// why: a finance reader must see what was measured but not charged.
func writeUnpriced(w io.Writer, us []*billingv1.UnpricedUsage) {
	if len(us) == 0 {
		return
	}
	fmt.Fprintf(w, "\nNot billed: %d unpriced usage series\n", len(us))
	t := table{head: []string{"CUSTOMER", "METRIC", "RESOURCE", "DIMENSIONS", "QUANTITY", "WHY"}, right: []int{4}}
	for _, u := range us {
		t.rows = append(t.rows, []string{u.GetCustomerId(), u.GetMetricKey(), u.GetResourceId(), dimensions(u.GetDimensions()), u.GetQuantity(), u.GetDescription()})
	}
	t.write(w)
}

// dimensions renders a series' dimensions as "k=v,k=v" in key order.
func dimensions(d map[string]string) string {
	parts := make([]string, 0, len(d))
	for _, k := range slices.Sorted(maps.Keys(d)) {
		parts = append(parts, k+"="+d[k])
	}
	return strings.Join(parts, ",")
}

func writeLinesCSV(w io.Writer, q *billingv1.BillingQuery, res *billingv1.QueryBillingResponse) error {
	cols := lineColumns(q)
	cw := csv.NewWriter(w)
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = strings.ToLower(strings.ReplaceAll(c.head, " ", "_"))
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, l := range res.GetLines() {
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = c.value(l)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func reportCommand() command {
	return command{
		name: "report", summary: "Download a billing report with ReportService.ExportReport: the same lines and totals as bill, as a file.",
		help: `Without -o the file is saved in the current directory under the name
billingd gives it (e.g. billing-acme-2026-10.pdf); -o - writes to stdout.

Examples:
  billingctl report --month 2026-10 --customer acme --group-by product --format pdf -o acme.pdf
  billingctl report --month 2026-10 --group-by customer,product --format xlsx
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			var q queryFlags
			q.bind(fs)
			format := fs.String("format", "pdf", "pdf, xlsx, csv, json or xml")
			out := fs.String("o", "", "file to write; - for stdout (default: billingd's file name, in the current directory)")
			delim := fs.String("delimiter", "", `CSV only: "," (default) or ";"`)
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				f, ok := billingv1.ReportFormat_value["REPORT_FORMAT_"+strings.ToUpper(*format)]
				if !ok || f == 0 {
					return usagef("--format %q: want pdf, xlsx, csv, json or xml", *format)
				}
				return withConn(e, func(conn *grpc.ClientConn) error {
					query, err := q.query()
					if err != nil {
						return err
					}
					return download(e, conn, &billingv1.ExportReportRequest{Query: query, Format: billingv1.ReportFormat(f), CsvDelimiter: *delim}, *out)
				})
			}
		},
	}
}

// download streams a report into path (or stdout), through a temporary
// file so that a failed download leaves no partial file behind.
func download(e *env, conn grpc.ClientConnInterface, req *billingv1.ExportReportRequest, path string) error {
	ctx, cancel := e.call()
	defer cancel()
	stream, err := billingv1.NewReportServiceClient(conn).ExportReport(ctx, req)
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	if path == "-" {
		return copyReport(e.stdout, first, stream.Recv)
	}
	if path == "" {
		path = filepath.Base(first.GetFileName())
		if path == "." || path == "/" || path == "" {
			path = "billing-report"
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-")
	if err != nil {
		return err
	}
	err = copyReport(tmp, first, stream.Recv)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	fi, _ := os.Stat(path)
	fmt.Fprintf(e.stderr, "wrote %s (%s, %d bytes)\n", path, first.GetContentType(), fi.Size())
	return nil
}

func copyReport(w io.Writer, first *billingv1.ExportReportResponse, recv func() (*billingv1.ExportReportResponse, error)) error {
	if _, err := w.Write(first.GetData()); err != nil {
		return err
	}
	for {
		chunk, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := w.Write(chunk.GetData()); err != nil {
			return err
		}
	}
}

// table prints aligned columns: a header, rows and a footer.
type table struct {
	head  []string
	right []int
	rows  [][]string
	foot  [][]string
}

func (t table) write(w io.Writer) {
	width := make([]int, len(t.head))
	all := append(append([][]string{t.head}, t.rows...), t.foot...)
	for _, r := range all {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if slices.Contains(t.right, i) {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			if i < len(r)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.head)
	for _, r := range t.rows {
		line(r)
	}
	if len(t.foot) > 0 {
		total := 0
		for _, n := range width {
			total += n + 2
		}
		fmt.Fprintln(w, strings.Repeat("-", max(total-2, 0)))
		for _, r := range t.foot {
			line(r)
		}
	}
}
