// Package report renders a billing result — the lines and totals of
// QueryBilling, to the cent — as a file: CSV, XLSX, PDF, JSON or XML,
// written to an io.Writer while the lines stream in.
//
// It computes no money: amounts come rated and rounded from the billing
// service and are written as they are; totals are sums of the lines and are
// checked against the source's (ErrTotalsMismatch). It does no I/O besides
// the writer (and the temporary files of excelize and of a long PDF's
// lines) and imports no transport code:
// the gRPC and REST glue maps the query to a Source and calls
//
//	w.Header().Set("Content-Type", report.ContentType(f))
//	w.Header().Set("Content-Disposition", report.ContentDisposition(report.FileName(f, src.Statement())))
//	err := report.Write(ctx, w, f, src, report.Options{CSVDelimiter: ';'})
//
// Errors before the first byte are apperr kinds (invalid options); an
// error later means the output is incomplete and must not be delivered as a
// file. Every format starts writing at once.
//
// # Formats
//
//   - CSV: RFC 4180 (encoding/csv, CRLF), UTF-8 without BOM, a header row of
//     snake_case names (the proto's field names plus customer and product
//     names), one row per line; quantities and unit prices as exact plain
//     decimals, amounts with the currency's minor units ("0.80", "5" JPY),
//     times ISO 8601 in UTC, dimensions as one URL-encoded cell
//     ("policy=gold&site=hel1"). Delimiter ',' or ';'. Text is not
//     neutralised against spreadsheet formulas: it is data, kept exact.
//   - XLSX (excelize StreamWriter): a sheet per customer named after it, the
//     same columns with titles, the header row frozen and filtered, numbers
//     and times typed as numbers (times are the customer's wall clock in
//     its billing time zone, named in the Start and End headers;
//     quantities and unit prices formatted with
//     exactly their decimals, amounts with the currency's), a totals row
//     per currency (a SUMIFS formula with its value cached), and with
//     several customers a last "Totals" sheet. XLSX numbers are float64
//     (15 significant digits, what Excel keeps): amounts up to
//     9,999,999,999,999.99 and quantities and prices of up to 15 digits are
//     exact, longer ones are not — the CSV, JSON and XML always are. Column
//     widths come from the header and the first 200 rows of each sheet,
//     since the stream writer takes them before the first row.
//   - PDF (pdfw, a small streaming writer; Go fonts embedded): a statement
//     per customer, see pdfSink, and with several customers a summary of
//     their totals and the grand totals. Quantities are shown rounded to 3
//     decimals (quantityText; the statement says so), amounts exactly.
//   - JSON: the proto JSON of QueryBillingResponse as the REST gateway
//     writes it ({"lines":[…],"totals":[…]}, every field present, decimals,
//     enums and int64 as strings), one line encoded at a time. Names of
//     products and groups are not in the proto message and not in the JSON.
//   - XML: a billingReport document in namespace XMLNamespace, valid
//     against docs/schema/billing-report.xsd, written token by token.
//
// # Memory
//
// CSV, JSON and XML hold one line at a time plus small buffers; XLSX holds
// the first 200 rows of a sheet and up to 16 MiB of a sheet's XML before
// excelize spills it to a temporary file; all keep only per-customer and
// grand totals. The PDF writes each page as it is finished and holds one
// customer's lines to sort them into sections: up to 4,096 in memory, then
// in an unlinked temporary file with about 100 bytes a line kept in memory
// (100,000 lines: 8 MB of PDF, a process peak RSS of about 62 MiB).
//
// Not included: usage that no price covered (QueryBilling's
// unpriced_usage); it is not part of the Source yet.
package report
