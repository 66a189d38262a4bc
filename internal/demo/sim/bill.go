package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// writeBill prints the lines as a table: one block per customer with its
// subtotal, then the totals QueryBilling returned. It returns the printed
// subtotals (customer → currency → amount) and the customers in order.
func writeBill(w io.Writer, bill *billingv1.QueryBillingResponse) (map[string]map[string]string, []string) {
	header := []string{"CUSTOMER", "PRODUCT", "MODEL", "QUANTITY", "UNIT", "UNIT PRICE", "AMOUNT", "", "PRICED BY"}
	right := map[int]bool{3: true, 5: true, 6: true}
	rows := [][]string{header}
	subtotals := map[string]map[string]decimal.Decimal{}
	var order []string
	var blank []int // rows after which a blank line goes
	flush := func(cust string) {
		for _, cur := range sortedKeys(subtotals[cust]) {
			rows = append(rows, []string{"", "", "", "", "", cust + " total", subtotals[cust][cur].StringFixed(2), cur, ""})
		}
		blank = append(blank, len(rows)-1)
	}
	for _, l := range bill.GetLines() {
		c := l.GetCustomerId()
		if len(order) == 0 || order[len(order)-1] != c {
			if len(order) > 0 {
				flush(order[len(order)-1])
			}
			order = append(order, c)
			subtotals[c] = map[string]decimal.Decimal{}
		}
		amt, _ := decimal.NewFromString(l.GetAmount())
		subtotals[c][l.GetCurrency()] = subtotals[c][l.GetCurrency()].Add(amt)
		rows = append(rows, []string{c, l.GetProductId(), model(l.GetModel()), l.GetQuantity(), l.GetUnit(),
			l.GetUnitPrice(), l.GetAmount(), l.GetCurrency(), pricedBy(l)})
	}
	if len(order) > 0 {
		flush(order[len(order)-1])
	}
	for _, t := range bill.GetTotals() {
		rows = append(rows, []string{"", "", "", "", "", "TOTAL", t.GetAmount(), t.GetCurrency(), fmt.Sprintf("%d lines", t.GetLineCount())})
	}
	writeTable(w, rows, right, blank)
	writeUnpriced(w, bill.GetUnpricedUsage())

	out := map[string]map[string]string{}
	for c, m := range subtotals {
		out[c] = map[string]string{}
		for cur, a := range m {
			out[c][cur] = a.StringFixed(2)
		}
	}
	return out, order
}

// writeUnpriced says what was measured but not billed, one row per metric
// and reason with its series per customer. In the demo that is the
// collector's vm.powered_on and storage.used_gb, which no product sells.
func writeUnpriced(w io.Writer, us []*billingv1.UnpricedUsage) {
	if len(us) == 0 {
		return
	}
	type key struct{ metric, why string }
	series := map[key]map[string]int{}
	var order []key
	for _, u := range us {
		k := key{u.GetMetricKey(), u.GetDescription()}
		if series[k] == nil {
			series[k] = map[string]int{}
			order = append(order, k)
		}
		series[k][u.GetCustomerId()]++
	}
	fmt.Fprintf(w, "\n  Not billed: %d usage series measured but not rated\n", len(us))
	rows := [][]string{{"METRIC", "SERIES PER CUSTOMER", "WHY"}}
	for _, k := range order {
		var per []string
		for _, c := range sortedKeys(series[k]) {
			per = append(per, fmt.Sprintf("%s %d", c, series[k][c]))
		}
		rows = append(rows, []string{k.metric, strings.Join(per, ", "), k.why})
	}
	writeTable(w, rows, nil, nil)
}

func model(m billingv1.BillingModel) string {
	return strings.ToLower(strings.TrimPrefix(m.String(), "BILLING_MODEL_"))
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

// writeTable aligns columns; right-aligned ones are numbers. A separator
// follows the header and every row listed in blank.
func writeTable(w io.Writer, rows [][]string, right map[int]bool, blank []int) {
	width := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	after := map[int]bool{0: true}
	for _, b := range blank {
		after[b] = true
	}
	for n, r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			if i < len(r)-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if after[n] && n < len(rows)-1 {
			total := 2
			for i := range r {
				total += width[i] + 2
			}
			fmt.Fprintln(w, "  "+strings.Repeat("─", total-4))
		}
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// reportFormats are written in this order.
var reportFormats = []billingv1.ReportFormat{
	billingv1.ReportFormat_REPORT_FORMAT_CSV, billingv1.ReportFormat_REPORT_FORMAT_XLSX, billingv1.ReportFormat_REPORT_FORMAT_PDF,
	billingv1.ReportFormat_REPORT_FORMAT_JSON, billingv1.ReportFormat_REPORT_FORMAT_XML,
}

// writeReports exports the query in every format into dir, under the
// file names billingd gives them.
func writeReports(ctx context.Context, c billingv1.ReportServiceClient, q *billingv1.BillingQuery, dir string, p *printer) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range reportFormats {
		path, size, err := exportReport(ctx, c, q, f, dir)
		if err != nil {
			return paths, fmt.Errorf("demo: %s report: %w", f, err)
		}
		paths = append(paths, path)
		p.say("      %-28s %8s\n", path, humanBytes(size))
	}
	return paths, nil
}

func exportReport(ctx context.Context, c billingv1.ReportServiceClient, q *billingv1.BillingQuery, f billingv1.ReportFormat, dir string) (string, int64, error) {
	stream, err := c.ExportReport(ctx, &billingv1.ExportReportRequest{Query: q, Format: f})
	if err != nil {
		return "", 0, err
	}
	first, err := stream.Recv()
	if err != nil {
		return "", 0, err
	}
	name := filepath.Base(first.GetFileName())
	if name == "." || name == "/" || name == "" {
		name = "billing." + strings.ToLower(strings.TrimPrefix(f.String(), "REPORT_FORMAT_"))
	}
	path := filepath.Join(dir, name)
	tmp := path + ".part"
	file, err := os.Create(tmp)
	if err != nil {
		return "", 0, err
	}
	n, err := copyChunks(file, first.GetData(), stream.Recv)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", 0, err
	}
	return path, n, nil
}

// copyChunks writes the first chunk and every later one until io.EOF.
func copyChunks(w io.Writer, first []byte, recv func() (*billingv1.ExportReportResponse, error)) (int64, error) {
	n, err := w.Write(first)
	total := int64(n)
	for err == nil {
		var chunk *billingv1.ExportReportResponse
		if chunk, err = recv(); err != nil {
			break
		}
		n, err = w.Write(chunk.GetData())
		total += int64(n)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return total, err
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
