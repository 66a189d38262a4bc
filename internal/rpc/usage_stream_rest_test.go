package rpc_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestIngestUsageStreamOverREST sends IngestUsage's batches as
// newline-delimited JSON to POST /v1/usage:stream and reads one ack per
// batch, in order, as the gateway streams them back ({"result": …} lines).
func TestIngestUsageStreamOverREST(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	db := usageConnect(t, url)
	usageSeed(t, db)
	r := startUsageReplica(t, url)
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	batch := func(seq int, qty string, keys ...string) string {
		var recs []string
		for _, k := range keys {
			recs = append(recs, fmt.Sprintf(`{"idempotencyKey": %q, "customerId": "acme", "metricKey": "vm.vcpu", "quantity": %q, "time": %q}`, k, qty, at))
		}
		return fmt.Sprintf(`{"sequence": "%d", "records": [%s]}`, seq, strings.Join(recs, ","))
	}
	// Batch 3 holds a bad quantity (rejected, with its index); the line
	// after it is not JSON: the gateway ends the stream there, after the
	// acks of the batches before it, and batch 5 is never read.
	body := strings.Join([]string{batch(1, "2", "s1", "s2"), batch(2, "2", "s2", "s3"), batch(3, "two", "s4"),
		`{"sequence": "4", "records": [`, batch(5, "2", "s5")}, "\n") + "\n"
	resp, err := http.Post(r.http+"/v1/usage:stream", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/usage:stream = %d", resp.StatusCode)
	}
	var acks []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var line struct {
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("response line %q: %v", sc.Text(), err)
		}
		if line.Error != nil {
			acks = append(acks, "error "+string(line.Error))
			continue
		}
		var ack billingv1.IngestUsageResponse
		if err := protojson.Unmarshal(line.Result, &ack); err != nil {
			t.Fatal(err)
		}
		acks = append(acks, fmt.Sprintf("seq %d: %d accepted, %d duplicates, %d rejected",
			ack.GetSequence(), ack.GetAccepted(), ack.GetDuplicates(), len(ack.GetRejected())))
	}
	want := []string{"seq 1: 2 accepted, 0 duplicates, 0 rejected", "seq 2: 1 accepted, 1 duplicates, 0 rejected",
		"seq 3: 0 accepted, 0 duplicates, 1 rejected"}
	if fmt.Sprint(acks) != fmt.Sprint(want) {
		t.Errorf("acks:\n%s\nwant\n%s", strings.Join(acks, "\n"), strings.Join(want, "\n"))
	}
	var stored int
	if err := db.QueryRow(context.Background(), "SELECT count(*) FROM usage_records").Scan(&stored); err != nil || stored != 3 {
		t.Errorf("%d records stored, %v; want 3 (s1, s2, s3)", stored, err)
	}
}
