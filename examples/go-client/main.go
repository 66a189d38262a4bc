// Command go-client shows billingd's generated Go client: it lists the
// products, then asks for a month's bill per customer and product.
//
// Against the demo (`make run`, which prints the admin key):
//
//	export BILLINGD_API_KEY=bk_...
//	go run ./examples/go-client --month 2026-10
//
// The generated packages are github.com/billingd/billingd/gen/go/billing/v1;
// in another module, `go get github.com/billingd/billingd` and import them
// the same way.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

func main() {
	addr := flag.String("addr", envOr("BILLINGD_ADDR", "localhost:9090"), "billingd's gRPC address")
	month := flag.String("month", "2026-10", "month to bill, YYYY-MM: each customer's own month in its billing time zone")
	flag.Parse()
	key := os.Getenv("BILLINGD_API_KEY")

	// Plaintext suits billingd on loopback; with --tls-cert on the server use
	// credentials.NewTLS. The key goes with every call as a bearer token.
	conn, err := grpc.NewClient(*addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(bearer(key)))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if err := listProducts(ctx, os.Stdout, billingv1.NewCatalogServiceClient(conn)); err != nil {
		log.Fatalf("list products: %v", err)
	}
	if err := bill(ctx, os.Stdout, billingv1.NewBillingServiceClient(conn), *month); err != nil {
		log.Fatalf("query billing: %v", err)
	}
}

// listProducts pages through every product.
func listProducts(ctx context.Context, out io.Writer, c billingv1.CatalogServiceClient) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "PRODUCT\tMETRIC\tUNIT\tNAME")
	req := &billingv1.ListProductsRequest{PageSize: 100}
	for {
		res, err := c.ListProducts(ctx, req)
		if err != nil {
			return err
		}
		for _, p := range res.GetProducts() {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.GetId(), p.GetMetricKey(), p.GetUnit(), p.GetDisplayName())
		}
		if req.PageToken = res.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	return w.Flush()
}

// bill rates month ("YYYY-MM") for every customer, one line per customer,
// product and price, and prints the lines and the totals per currency.
// A month by name is each customer's own month, from midnight on the 1st in
// its billing time zone; for a custom window set StartTime and EndTime
// instead.
func bill(ctx context.Context, out io.Writer, c billingv1.BillingServiceClient, month string) error {
	req := &billingv1.QueryBillingRequest{Query: &billingv1.BillingQuery{
		Month:       month,
		Granularity: billingv1.Granularity_GRANULARITY_PERIOD,
		GroupBy:     []billingv1.GroupBy{billingv1.GroupBy_GROUP_BY_CUSTOMER, billingv1.GroupBy_GROUP_BY_PRODUCT},
	}}
	fmt.Fprintf(out, "\nBill %s (each customer's month in its billing time zone)\n", month)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "CUSTOMER\tPRODUCT\tMODEL\tQUANTITY\tUNIT PRICE\tAMOUNT\t")
	for {
		res, err := c.QueryBilling(ctx, req)
		if err != nil {
			return err
		}
		for _, l := range res.GetLines() {
			// Quantities, prices and amounts are exact decimal strings:
			// parse them with a decimal package, never into a float.
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s %s\t\n", l.GetCustomerId(), l.GetProductId(), l.GetModel(),
				l.GetQuantity(), l.GetUnitPrice(), l.GetAmount(), l.GetCurrency())
		}
		if res.GetNextPageToken() == "" {
			// Totals cover the whole result, whatever the page.
			for _, t := range res.GetTotals() {
				fmt.Fprintf(w, "\t\t\t\tTOTAL\t%s %s\t\n", t.GetAmount(), t.GetCurrency())
			}
			return w.Flush()
		}
		req.PageToken = res.GetNextPageToken()
	}
}

// bearer sends the API key on every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	if b == "" {
		return nil, nil
	}
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false only so that the example works against
// a billingd on loopback; send keys over TLS anywhere else.
func (bearer) RequireTransportSecurity() bool { return false }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
