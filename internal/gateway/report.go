package gateway

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// reportDownload serves GET /v1/reports/billing: a plain file download of
// ReportService.ExportReport with Content-Type and Content-Disposition, for
// browsers and ERPs that cannot read a gRPC stream. It calls billingd's own
// gRPC API, forwarding the caller's Authorization header, so access rules
// are the same as on gRPC.
//
// Query parameters: customer (repeatable), month (YYYY-MM: each
// customer's own month in its billing time zone) or from and to (RFC 3339;
// to is exclusive), granularity (hour|day|month|period), group_by (repeatable:
// customer, organisation, vdc, site, resource, product_group, product,
// model), dimension (repeatable), format (csv|xlsx|pdf|json|xml) and
// delimiter ("," or ";", CSV only).
func reportDownload(conn *grpc.ClientConn, log *slog.Logger) http.HandlerFunc {
	client := billingv1.NewReportServiceClient(conn)
	return func(w http.ResponseWriter, r *http.Request) {
		req, field, msg := parseReportQuery(r)
		if field != "" {
			writeFieldError(w, field, msg)
			return
		}
		ctx := r.Context()
		if auth := r.Header.Get("Authorization"); auth != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", auth)
		}
		stream, err := client.ExportReport(ctx, req)
		if err != nil {
			writeStatus(w, err)
			return
		}
		first, err := stream.Recv()
		if err != nil {
			writeStatus(w, err)
			return
		}
		// The first chunk arrived, so the query ran; from here on an error
		// can only cut the body short, which the client sees as a broken
		// transfer rather than a complete wrong file.
		w.Header().Set("Content-Type", first.GetContentType())
		w.Header().Set("Content-Disposition", `attachment; filename="`+first.GetFileName()+`"`)
		w.WriteHeader(http.StatusOK)
		if _, err := w.Write(first.GetData()); err != nil {
			return
		}
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				log.WarnContext(ctx, "report download cut short", "err", err)
				panic(http.ErrAbortHandler) // abort the response so it is not taken as complete
			}
			if _, err := w.Write(chunk.GetData()); err != nil {
				return
			}
		}
	}
}

var reportFormats = map[string]billingv1.ReportFormat{
	"csv": billingv1.ReportFormat_REPORT_FORMAT_CSV, "xlsx": billingv1.ReportFormat_REPORT_FORMAT_XLSX,
	"pdf": billingv1.ReportFormat_REPORT_FORMAT_PDF, "json": billingv1.ReportFormat_REPORT_FORMAT_JSON,
	"xml": billingv1.ReportFormat_REPORT_FORMAT_XML,
}

var reportGranularities = map[string]billingv1.Granularity{
	"": billingv1.Granularity_GRANULARITY_PERIOD, "period": billingv1.Granularity_GRANULARITY_PERIOD,
	"hour": billingv1.Granularity_GRANULARITY_HOUR, "day": billingv1.Granularity_GRANULARITY_DAY,
	"month": billingv1.Granularity_GRANULARITY_MONTH,
}

// parseReportQuery reads the download's query string; the gRPC call then
// validates the rest (window, ids) with the same rules as every request.
func parseReportQuery(r *http.Request) (req *billingv1.ExportReportRequest, field, msg string) {
	v := r.URL.Query()
	q := &billingv1.BillingQuery{CustomerIds: v["customer"], GroupByDimensions: v["dimension"]}
	q.Month = v.Get("month")
	if q.Month != "" && (v.Has("from") || v.Has("to")) {
		return nil, "month", "give month or from and to, not both"
	}
	for _, name := range []string{"from", "to"} {
		if q.Month != "" {
			break
		}
		s := v.Get(name)
		if s == "" {
			return nil, name, "is required (RFC 3339, e.g. 2026-10-01T00:00:00Z), or give month (YYYY-MM)"
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, name, "must be an RFC 3339 time such as 2026-10-01T00:00:00Z"
		}
		if name == "from" {
			q.StartTime = timestamppb.New(t)
		} else {
			q.EndTime = timestamppb.New(t)
		}
	}
	g, ok := reportGranularities[v.Get("granularity")]
	if !ok {
		return nil, "granularity", "must be hour, day, month or period"
	}
	q.Granularity = g
	for _, k := range v["group_by"] {
		key, ok := billingv1.GroupBy_value["GROUP_BY_"+strings.ToUpper(k)]
		if !ok || key == 0 {
			return nil, "group_by", "must be customer, organisation, vdc, site, resource, product_group, product or model"
		}
		q.GroupBy = append(q.GroupBy, billingv1.GroupBy(key))
	}
	f, ok := reportFormats[strings.ToLower(v.Get("format"))]
	if !ok {
		return nil, "format", "must be csv, xlsx, pdf, json or xml"
	}
	return &billingv1.ExportReportRequest{Query: q, Format: f, CsvDelimiter: v.Get("delimiter")}, "", ""
}

// writeStatus answers with the gRPC status as the gateway would: the
// mapped HTTP code and the status as JSON.
func writeStatus(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	WriteStatus(w, runtime.HTTPStatusFromCode(st.Code()), st)
}

// WriteStatus writes st as the JSON body the gateway uses for errors
// ({"code", "message", "details"}), with the given HTTP code, so that
// handlers outside the gateway (downloads, body limits) answer in the same
// shape.
func WriteStatus(w http.ResponseWriter, httpCode int, st *status.Status) {
	body, _ := protojson.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCode)
	_, _ = w.Write(body)
}

// writeFieldError answers 400 with a BadRequest naming the query parameter.
func writeFieldError(w http.ResponseWriter, field, msg string) {
	st := status.New(codes.InvalidArgument, field+": "+msg)
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: msg}}}); err == nil {
		st = d
	}
	WriteStatus(w, http.StatusBadRequest, st)
}
