package queue_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/queue"
)

// TestSourcesDoNotPrintSecrets formats configured sources with fmt: their
// settings are unexported, so fmt cannot call the Secrets' redacting
// methods, and must still not find the credentials.
func TestSourcesDoNotPrintSecrets(t *testing.T) {
	t.Parallel()
	const pw, tok = "nats-pa55word", "nats-t0ken"
	nats, err := queue.NewNATS("usage-nats", queue.NATSConfig{URL: "nats://127.0.0.1:4222", Stream: "USAGE",
		DeadLetterSubject: "usage.dead", User: "billingd",
		Password: collector.NewSecret(pw, "test"), Token: collector.NewSecret(tok, "test")})
	if err != nil {
		t.Fatal(err)
	}
	const rpw = "amqp-pa55word"
	rabbit, err := queue.NewRabbitMQ("usage-amqp", queue.RabbitMQConfig{URL: "amqp://127.0.0.1:5672/",
		Username: "billingd", Password: collector.NewSecret(rpw, "test"), Queue: "usage", DeadLetterRoutingKey: "usage.dead"})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []collector.Source{nats, rabbit} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, src)
			for _, secret := range []string{pw, tok, rpw} {
				if strings.Contains(out, secret) {
					t.Errorf("%s printed with %s shows a credential: %s", src.Name(), verb, out)
				}
			}
		}
	}
}
