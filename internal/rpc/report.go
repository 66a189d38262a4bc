package rpc

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"time"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/catalog"
	"github.com/billingd/billingd/internal/customer"
	"github.com/billingd/billingd/internal/rating"
	"github.com/billingd/billingd/internal/report"
)

// ReportServer serves billing.v1.ReportService: the lines and totals of a
// billing query rendered as a file and streamed in chunks.
type ReportServer struct {
	billingv1.UnimplementedReportServiceServer
	billing  *billing.Service
	catalog  *catalog.Service // product groups' names
	provider string
	log      *slog.Logger
}

var _ billingv1.ReportServiceServer = (*ReportServer)(nil)

// NewReportServer returns the report server; provider is the name printed
// on PDF statements.
func NewReportServer(b *billing.Service, c *catalog.Service, provider string, log *slog.Logger) *ReportServer {
	return &ReportServer{billing: b, catalog: c, provider: provider, log: log}
}

// reportChunk is the most bytes one ExportReportResponse carries.
const reportChunk = 64 << 10

func (s *ReportServer) ExportReport(req *billingv1.ExportReportRequest, stream billingv1.ReportService_ExportReportServer) error {
	ctx := stream.Context()
	if req.GetQuery() == nil {
		return ToStatus(ctx, s.log, required("query"))
	}
	q := queryFromProto(req.GetQuery())
	// A report is per customer: its lines must come customer by customer.
	if !slices.Contains(q.GroupBy, rating.GroupCustomer) {
		q.GroupBy = append([]rating.GroupKey{rating.GroupCustomer}, q.GroupBy...)
	}
	if err := q.Validate(); err != nil {
		return ToStatus(ctx, s.log, within("query", err))
	}
	src, err := s.source(ctx, q)
	if err != nil {
		return ToStatus(ctx, s.log, err)
	}
	format := reportFormat(req.GetFormat())
	opts := report.Options{}
	if d := req.GetCsvDelimiter(); d != "" {
		opts.CSVDelimiter = rune(d[0])
	}
	w := &chunkWriter{send: stream.Send, first: &billingv1.ExportReportResponse{
		ContentType: report.ContentType(format), FileName: report.FileName(format, src.Statement()),
	}}
	if err := report.Write(ctx, w, format, src, opts); err != nil {
		return ToStatus(ctx, s.log, err)
	}
	return w.flush()
}

func reportFormat(f billingv1.ReportFormat) report.Format {
	switch f {
	case billingv1.ReportFormat_REPORT_FORMAT_XLSX:
		return report.XLSX
	case billingv1.ReportFormat_REPORT_FORMAT_PDF:
		return report.PDF
	case billingv1.ReportFormat_REPORT_FORMAT_JSON:
		return report.JSON
	case billingv1.ReportFormat_REPORT_FORMAT_XML:
		return report.XML
	default:
		return report.CSV
	}
}

// chunkWriter turns the report's bytes into stream messages of at most
// reportChunk bytes; the first message also carries the content type and
// file name.
type chunkWriter struct {
	send  func(*billingv1.ExportReportResponse) error
	first *billingv1.ExportReportResponse
	buf   []byte
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(reportChunk-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == reportChunk {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 && w.first == nil {
		return nil
	}
	msg := &billingv1.ExportReportResponse{Data: w.buf}
	if w.first != nil {
		msg.ContentType, msg.FileName = w.first.ContentType, w.first.FileName
		w.first = nil
	}
	err := w.send(msg)
	w.buf = make([]byte, 0, reportChunk)
	return err
}

// source builds the report's input: the statement with the customers' and
// products' names, and the lines streamed from the billing query. The
// customers, products and closed months come from the query's own read of
// them (billing.Prepare); only the product groups' names are listed here.
func (s *ReportServer) source(ctx context.Context, q billing.Query) (*querySource, error) {
	prep, err := s.billing.Prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	groups, err := s.groupNames(ctx)
	if err != nil {
		return nil, err
	}
	// A result of closed months only is as of their closing: printing that
	// keeps their reports the same bytes whenever they are made.
	generated, frozen := prep.FrozenAsOf()
	if !frozen {
		generated = time.Now()
	}
	st := report.Statement{
		Provider: s.provider, GeneratedAt: generated.UTC(), Month: q.Month, From: q.From, To: q.To,
		Granularity: granularityName(q.Granularity), Customers: reportCustomers(prep.Customers()),
	}
	if q.Month != "" {
		st.From, st.To = monthSpan(&st)
	}
	for _, k := range q.GroupBy {
		st.GroupBy = append(st.GroupBy, groupKeyName(k))
	}
	return &querySource{ctx: ctx, prep: prep, q: q, st: st, groups: groups}, nil
}

// monthSpan is the window of st.Month over every customer of st, each in
// its billing time zone: from the first customer's 1st to the last's.
func monthSpan(st *report.Statement) (from, to time.Time) {
	from, to = st.Period(time.UTC)
	for i, c := range st.Customers {
		loc, err := time.LoadLocation(cmp.Or(c.TimeZone, "UTC"))
		if err != nil {
			continue // the billing query fails on it first
		}
		f, t := st.Period(loc)
		if i == 0 || f.Before(from) {
			from = f
		}
		if i == 0 || t.After(to) {
			to = t
		}
	}
	return from.UTC(), to.UTC()
}

// reportCustomers names the customers in id order (the order in which the
// billing query hands over their lines).
func reportCustomers(cs []customer.Customer) []report.CustomerInfo {
	slices.SortFunc(cs, func(a, b customer.Customer) int { return strings.Compare(a.ID, b.ID) })
	out := make([]report.CustomerInfo, len(cs))
	for i, c := range cs {
		out[i] = report.CustomerInfo{ID: c.ID, Name: c.DisplayName, ExternalID: c.ExternalID, TimeZone: c.BillingTimeZone}
	}
	return out
}

func (s *ReportServer) groupNames(ctx context.Context) (map[string]string, error) {
	groups := map[string]string{}
	for g, err := range pages(func(tok string) ([]catalog.ProductGroup, string, error) {
		return s.catalog.ListProductGroups(ctx, catalog.ListProductGroupsParams{PageSize: 1000, PageToken: tok})
	}) {
		if err != nil {
			return nil, err
		}
		groups[g.ID] = g.DisplayName
	}
	return groups, nil
}

// pages walks a paginated list to its end.
func pages[T any](list func(token string) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		tok := ""
		for {
			items, next, err := list(tok)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			tok = next
		}
	}
}

// querySource streams a billing query's lines into a report. Totals are
// known once the lines have been read.
type querySource struct {
	ctx    context.Context
	prep   *billing.Prepared
	q      billing.Query
	st     report.Statement
	groups map[string]string
	totals []report.Total
}

func (s *querySource) Statement() report.Statement { return s.st }
func (s *querySource) Totals() []report.Total      { return s.totals }

var errStopLines = errors.New("report stopped reading lines")

func (s *querySource) Lines() iter.Seq2[report.Line, error] {
	return func(yield func(report.Line, error) bool) {
		sum, err := s.prep.Run(s.ctx, func(ls []billing.Line) error {
			for i := range ls {
				if !yield(s.line(&ls[i]), nil) {
					return errStopLines
				}
			}
			return nil
		})
		if errors.Is(err, errStopLines) {
			return
		}
		if err != nil {
			yield(report.Line{}, err)
			return
		}
		for _, t := range sum.Totals {
			s.totals = append(s.totals, report.Total{Currency: t.Currency, Amount: t.Amount, Lines: int64(t.Lines)})
		}
	}
}

func (s *querySource) line(l *billing.Line) report.Line {
	return report.Line{
		CustomerID: l.CustomerID, OrganisationID: l.Organisation(), VdcID: l.VDC(), Site: l.Site(), ResourceID: l.ResourceID,
		ProductGroupID: l.GroupID, ProductGroupName: s.groups[l.GroupID], ProductID: l.ProductID, ProductName: s.productName(l.ProductID),
		MetricKey: l.MetricKey, Dimensions: selectDims(l.Dimensions, s.q.GroupByDimensions),
		Model: modelName(l.Model), Granularity: granularityName(l.Granularity), Start: l.Start, End: l.End,
		Quantity: l.Quantity, Unit: l.Unit, UnitPrice: l.UnitPrice, Amount: l.Amount, Currency: l.Currency,
		PriceListID: l.PriceListID, PriceID: l.PriceID, CampaignID: l.CampaignID, ContractID: l.ContractID,
		Description: l.Description, AdjustedMonth: l.AdjustedMonth, AdjustmentCause: causeName(l.AdjustmentCause),
	}
}

func (s *querySource) productName(id string) string {
	if p := s.prep.Product(id); p != nil {
		return p.DisplayName
	}
	return ""
}

func causeName(c billing.AdjustmentCause) string {
	switch c {
	case billing.CauseLateUsage:
		return report.CauseLateUsage
	case billing.CausePriceChange:
		return report.CausePriceChange
	}
	return ""
}

func selectDims(all map[string]string, keys []string) map[string]string {
	var out map[string]string
	for _, k := range keys {
		if v, ok := all[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

func modelName(m rating.Model) string {
	switch m {
	case rating.ModelCommitted:
		return report.ModelCommitted
	case rating.ModelOverage:
		return report.ModelOverage
	case rating.ModelAdjustment:
		return report.ModelAdjustment
	case rating.ModelMinimum:
		return report.ModelMinimum
	default:
		return report.ModelPAYG
	}
}

func granularityName(g rating.Granularity) string {
	switch g {
	case rating.GranularityHour:
		return report.GranularityHour
	case rating.GranularityDay:
		return report.GranularityDay
	case rating.GranularityMonth:
		return report.GranularityMonth
	default:
		return report.GranularityPeriod
	}
}

func groupKeyName(k rating.GroupKey) string {
	return strings.ToLower(strings.TrimPrefix(billingv1.GroupBy(k).String(), "GROUP_BY_"))
}
