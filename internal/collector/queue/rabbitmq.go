package queue

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
)

// RabbitMQType is the source type of a RabbitMQ queue in the collector
// configuration.
const RabbitMQType = "rabbitmq"

// RabbitMQConfig is a rabbitmq source's settings. Written against
// github.com/rabbitmq/amqp091-go v1.16.0 (AMQP 0-9-1).
type RabbitMQConfig struct {
	// URL is amqp://host:5672/vhost or amqps://…, without credentials.
	URL      string           `yaml:"url"`
	Username string           `yaml:"username"`
	Password collector.Secret `yaml:"password"`
	CAFile   string           `yaml:"ca_file"` // TLS roots for amqps://
	// Queue must exist; it is consumed with manual acks.
	Queue string `yaml:"queue"`
	// Prefetch bounds delivered, unacknowledged messages; default 1000.
	// Give at least the collector's batch_size for full batches.
	Prefetch int `yaml:"prefetch"`
	// Dead letters are published, persistent and confirmed, to this
	// exchange (default "", the default exchange) with this routing key
	// (with the default exchange: the dead-letter queue's name). An
	// unroutable dead letter is an error: the original is not acked.
	DeadLetterExchange   string `yaml:"dead_letter_exchange"`
	DeadLetterRoutingKey string `yaml:"dead_letter_routing_key"`
	// Source fills in a record's empty source; default rabbitmq:<source name>.
	Source           string           `yaml:"source"`
	collector.Limits `yaml:",inline"` // the API key's limits: records beyond are dead-lettered
}

// BuildRabbitMQ makes a rabbitmq source from its settings (a collector.Builder).
func BuildRabbitMQ(name string, spec *yaml.Node) (collector.Source, error) {
	var c RabbitMQConfig
	if err := collector.DecodeStrict(spec, &c); err != nil {
		return nil, fmt.Errorf("rabbitmq: %w", err)
	}
	return NewRabbitMQ(name, c)
}

// NewRabbitMQ checks c and returns the feed; it connects at the first Receive.
func NewRabbitMQ(name string, c RabbitMQConfig) (*RabbitMQ, error) {
	if c.Prefetch == 0 {
		c.Prefetch = 1000
	}
	if c.Source == "" {
		c.Source = "rabbitmq:" + name
	}
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") {
		errs = append(errs, fmt.Errorf("url %q must be amqp:// or amqps://", c.URL))
	} else if u.User != nil {
		errs = append(errs, errors.New("url must not hold credentials: use username and password"))
	}
	if c.Queue == "" {
		errs = append(errs, errors.New("queue is required"))
	}
	if c.DeadLetterRoutingKey == "" {
		errs = append(errs, errors.New("dead_letter_routing_key is required"))
	}
	if c.DeadLetterExchange == "" && c.DeadLetterRoutingKey == c.Queue {
		errs = append(errs, errors.New("dead letters must not go to the consumed queue"))
	}
	if c.Prefetch < 0 || c.Prefetch > 65535 {
		errs = append(errs, fmt.Errorf("prefetch %d must be in 1..65535", c.Prefetch))
	}
	if (c.Username == "") != c.Password.IsZero() {
		errs = append(errs, errors.New("username and password go together"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("rabbitmq: %w", err)
	}
	return &RabbitMQ{name: name, cfg: c}, nil
}

// RabbitMQ is a collector.Feed over one queue.
type RabbitMQ struct {
	name string
	cfg  RabbitMQConfig

	mu         sync.Mutex
	conn       *amqp.Connection
	deliveries <-chan amqp.Delivery
	// pub publishes dead letters in confirm mode, one at a time (pubMu),
	// so that a return can be matched to its publish.
	pubMu   sync.Mutex
	pubConn *amqp.Connection
	pub     *amqp.Channel
	returns chan amqp.Return
}

var _ collector.Feed = (*RabbitMQ)(nil)

// Name returns the source name.
func (q *RabbitMQ) Name() string { return q.name }

// Collect is not used: a feed is received from.
func (q *RabbitMQ) Collect(context.Context, collector.Cursor, time.Time) (collector.Batch, error) {
	return collector.Batch{}, collector.ErrFeed
}

// Close drops the connection: RabbitMQ requeues every unacknowledged message.
func (q *RabbitMQ) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.resetLocked()
	return nil
}

func (q *RabbitMQ) resetLocked() {
	if q.conn != nil {
		_ = q.conn.Close()
	}
	q.conn, q.deliveries = nil, nil
	q.pubMu.Lock()
	q.pubConn, q.pub, q.returns = nil, nil, nil
	q.pubMu.Unlock()
}

func (q *RabbitMQ) connect() (<-chan amqp.Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deliveries != nil {
		return q.deliveries, nil
	}
	cfg := amqp.Config{Heartbeat: 10 * time.Second, Properties: amqp.NewConnectionProperties()}
	cfg.Properties.SetClientConnectionName("billingd-collect " + q.name)
	if q.cfg.Username != "" {
		cfg.SASL = []amqp.Authentication{&amqp.PlainAuth{Username: q.cfg.Username, Password: q.cfg.Password.Reveal()}}
	}
	if q.cfg.CAFile != "" {
		pem, err := os.ReadFile(q.cfg.CAFile)
		if err != nil {
			return nil, err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", q.cfg.CAFile)
		}
		cfg.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	}
	conn, err := amqp.DialConfig(q.cfg.URL, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", q.cfg.URL, err)
	}
	fail := func(what string, err error) (<-chan amqp.Delivery, error) {
		_ = conn.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ch, err := conn.Channel()
	if err != nil {
		return fail("channel", err)
	}
	if err := ch.Qos(q.cfg.Prefetch, 0, false); err != nil {
		return fail("qos", err)
	}
	deliveries, err := ch.Consume(q.cfg.Queue, "billingd-collect-"+q.name, false, false, false, false, nil)
	if err != nil {
		return fail("consume "+q.cfg.Queue, err)
	}
	q.conn, q.deliveries = conn, deliveries
	q.pubMu.Lock()
	q.pubConn, q.pub = conn, nil
	q.pubMu.Unlock()
	return deliveries, nil
}

// publisher returns the dead-letter channel in confirm mode, opening it
// again after a channel error (e.g. an exchange that does not exist);
// pubMu is held.
func (q *RabbitMQ) publisher() (*amqp.Channel, error) {
	if q.pub != nil && !q.pub.IsClosed() {
		return q.pub, nil
	}
	if q.pubConn == nil || q.pubConn.IsClosed() {
		return nil, errors.New("not connected")
	}
	pub, err := q.pubConn.Channel()
	if err != nil {
		return nil, fmt.Errorf("dead-letter channel: %w", err)
	}
	if err := pub.Confirm(false); err != nil {
		_ = pub.Close()
		return nil, fmt.Errorf("dead-letter channel: confirm mode: %w", err)
	}
	q.pub, q.returns = pub, pub.NotifyReturn(make(chan amqp.Return, 1))
	return pub, nil
}

// lingerFor is how long Receive keeps gathering after a message, to fill
// a batch from the prefetched messages without waiting for more.
const lingerFor = 20 * time.Millisecond

// Receive waits up to wait for a message, then gathers what follows
// within lingerFor of each other, up to max.
func (q *RabbitMQ) Receive(ctx context.Context, max int, wait time.Duration) ([]collector.Message, error) {
	deliveries, err := q.connect()
	if err != nil {
		return nil, err
	}
	var out []collector.Message
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for len(out) < max {
		select {
		case d, ok := <-deliveries:
			if !ok {
				q.mu.Lock()
				q.resetLocked()
				q.mu.Unlock()
				if len(out) > 0 {
					return out, nil // their acks will fail; RabbitMQ requeued them
				}
				return nil, fmt.Errorf("consumer of %s closed (connection or channel lost)", q.cfg.Queue)
			}
			out = append(out, q.message(d))
			timer.Reset(lingerFor)
		case <-timer.C:
			return out, nil
		case <-ctx.Done():
			// Not yet handed out: give them back at once.
			for _, m := range out {
				_ = m.Delivery.Retry(context.Background(), 0)
			}
			return nil, ctx.Err()
		}
	}
	return out, nil
}

func (q *RabbitMQ) message(d amqp.Delivery) collector.Message {
	id := d.MessageId
	if id == "" {
		id = q.cfg.Queue + "#" + strconv.FormatUint(d.DeliveryTag, 10)
	}
	m := decode(id, d.Body, q.cfg.Source, q.cfg.Limits)
	m.Delivery = &rabbitDelivery{q: q, d: d, id: id}
	return m
}

type rabbitDelivery struct {
	q  *RabbitMQ
	d  amqp.Delivery
	id string
}

func (r *rabbitDelivery) Ack(context.Context) error { return r.d.Ack(false) }

// Retry requeues the message; RabbitMQ has no delayed requeue, so it may
// come back at once (the Runner backs off between failed batches).
func (r *rabbitDelivery) Retry(context.Context, time.Duration) error { return r.d.Nack(false, true) }

// DeadLetter publishes the original body and properties, persistent, with
// the reason in headers; it waits for the broker's confirm (and fails on a
// return: nowhere to route it) before acking the original.
func (r *rabbitDelivery) DeadLetter(ctx context.Context, why collector.Skip) error {
	q := r.q
	headers := amqp.Table{}
	for k, v := range r.d.Headers {
		headers[k] = v
	}
	headers[HeaderReason] = why.Reason
	headers[HeaderDetail] = headerText(why.Detail)
	headers[HeaderSource] = q.name
	headers[HeaderOriginalSubject] = q.cfg.Queue
	headers[HeaderOriginalID] = r.id
	msg := amqp.Publishing{
		Headers: headers, ContentType: r.d.ContentType, ContentEncoding: r.d.ContentEncoding,
		DeliveryMode: amqp.Persistent, MessageId: r.d.MessageId, Timestamp: r.d.Timestamp, Type: r.d.Type,
		AppId: r.d.AppId, Body: r.d.Body,
	}
	q.pubMu.Lock()
	defer q.pubMu.Unlock()
	pub, err := q.publisher()
	if err != nil {
		return err
	}
	dc, err := pub.PublishWithDeferredConfirmWithContext(ctx, q.cfg.DeadLetterExchange, q.cfg.DeadLetterRoutingKey, true, false, msg)
	if err != nil {
		return fmt.Errorf("publish dead letter: %w", err)
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return fmt.Errorf("dead letter confirm: %w", err)
	}
	select {
	case ret := <-q.returns: // a return comes before the confirm of its publish
		return fmt.Errorf("dead letter returned by exchange %q key %q: %s", q.cfg.DeadLetterExchange, q.cfg.DeadLetterRoutingKey, ret.ReplyText)
	default:
	}
	if !acked {
		return errors.New("broker refused the dead letter (nack)")
	}
	return r.d.Ack(false)
}
