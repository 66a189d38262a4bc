package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.yaml.in/yaml/v3"

	"github.com/billingd/billingd/internal/collector"
)

// NATSType is the source type of a NATS JetStream consumer in the
// collector configuration.
const NATSType = "nats"

// NATSConfig is a nats source's settings. Written against nats.go v1.55.0
// (package jetstream).
type NATSConfig struct {
	URL string `yaml:"url"` // nats://host:4222; several separated by commas
	// Stream must exist; the consumer is created or updated on it.
	Stream string `yaml:"stream"`
	// Consumer is the durable pull consumer's name; default billingd-<source name>.
	Consumer string `yaml:"consumer"`
	// Subjects filter the stream; default all of it.
	Subjects []string `yaml:"subjects"`
	// DeadLetterSubject receives poison messages. A stream must store it
	// (the publish waits for the stream's ack); it must not match Subjects.
	DeadLetterSubject string `yaml:"dead_letter_subject"`
	// AckWait is how long JetStream waits for an ack before redelivering;
	// default 5m. A redelivery while billingd is slow is harmless (a duplicate).
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxAckPending bounds delivered, unacknowledged messages; default 10000.
	MaxAckPending int `yaml:"max_ack_pending"`
	// Source fills in a record's empty source; default nats:<source name>.
	Source           string           `yaml:"source"`
	collector.Limits `yaml:",inline"` // the API key's limits: records beyond are dead-lettered
	User             string           `yaml:"user"`
	Password         collector.Secret `yaml:"password"`
	Token            collector.Secret `yaml:"token"`
	CAFile           string           `yaml:"ca_file"` // TLS roots for tls:// URLs
}

// BuildNATS makes a nats source from its settings (a collector.Builder).
func BuildNATS(name string, spec *yaml.Node) (collector.Source, error) {
	var c NATSConfig
	if err := collector.DecodeStrict(spec, &c); err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	return NewNATS(name, c)
}

// NewNATS checks c and returns the feed; it connects at the first Receive.
func NewNATS(name string, c NATSConfig) (*NATS, error) {
	if c.Consumer == "" {
		c.Consumer = "billingd-" + name
	}
	if c.AckWait == 0 {
		c.AckWait = 5 * time.Minute
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = 10000
	}
	if c.Source == "" {
		c.Source = "nats:" + name
	}
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("url is required"))
	}
	if c.Stream == "" {
		errs = append(errs, errors.New("stream is required"))
	}
	if c.DeadLetterSubject == "" {
		errs = append(errs, errors.New("dead_letter_subject is required"))
	}
	for _, s := range c.Subjects {
		if subjectMatches(s, c.DeadLetterSubject) {
			errs = append(errs, fmt.Errorf("dead_letter_subject %q matches subject %q: dead letters would come back", c.DeadLetterSubject, s))
		}
	}
	if c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("ack_wait %v must be at least 1s", c.AckWait))
	}
	if !c.Password.IsZero() && c.User == "" {
		errs = append(errs, errors.New("password needs user"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	return &NATS{name: name, cfg: c}, nil
}

// NATS is a collector.Feed over a JetStream durable pull consumer.
type NATS struct {
	name string
	cfg  NATSConfig

	mu   sync.Mutex
	nc   *nats.Conn
	js   jetstream.JetStream
	cons jetstream.Consumer
}

var _ collector.Feed = (*NATS)(nil)

// Name returns the source name.
func (n *NATS) Name() string { return n.name }

// Collect is not used: a feed is received from.
func (n *NATS) Collect(context.Context, collector.Cursor, time.Time) (collector.Batch, error) {
	return collector.Batch{}, collector.ErrFeed
}

// Close drops the connection; unacknowledged messages are redelivered.
func (n *NATS) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nc != nil {
		n.nc.Close()
		n.nc, n.js, n.cons = nil, nil, nil
	}
	return nil
}

// connect opens the connection and creates or updates the consumer.
func (n *NATS) connect(ctx context.Context) (jetstream.JetStream, jetstream.Consumer, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cons != nil {
		return n.js, n.cons, nil
	}
	if n.nc == nil {
		opts := []nats.Option{nats.Name("billingd-collect " + n.name), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}
		if n.cfg.User != "" {
			opts = append(opts, nats.UserInfo(n.cfg.User, n.cfg.Password.Reveal()))
		}
		if !n.cfg.Token.IsZero() {
			opts = append(opts, nats.Token(n.cfg.Token.Reveal()))
		}
		if n.cfg.CAFile != "" {
			opts = append(opts, nats.RootCAs(n.cfg.CAFile))
		}
		nc, err := nats.Connect(n.cfg.URL, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("connect %s: %w", n.cfg.URL, err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		n.nc, n.js = nc, js
	}
	if len(n.cfg.Subjects) == 0 {
		// The consumer takes the whole stream: the dead letters must not be in it.
		st, err := n.js.Stream(ctx, n.cfg.Stream)
		if err != nil {
			return nil, nil, fmt.Errorf("stream %s: %w", n.cfg.Stream, err)
		}
		for _, s := range st.CachedInfo().Config.Subjects {
			if subjectMatches(s, n.cfg.DeadLetterSubject) {
				return nil, nil, fmt.Errorf("stream %s takes dead_letter_subject %q (%s) and the consumer has no subjects: set subjects", n.cfg.Stream, n.cfg.DeadLetterSubject, s)
			}
		}
	}
	cc := jetstream.ConsumerConfig{
		Durable:       n.cfg.Consumer,
		Description:   "billingd-collect source " + n.name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       n.cfg.AckWait,
		MaxAckPending: n.cfg.MaxAckPending,
	}
	if len(n.cfg.Subjects) == 1 {
		cc.FilterSubject = n.cfg.Subjects[0] // servers before 2.10 know only one filter
	} else {
		cc.FilterSubjects = n.cfg.Subjects
	}
	cons, err := n.js.CreateOrUpdateConsumer(ctx, n.cfg.Stream, cc)
	if err != nil {
		return nil, nil, fmt.Errorf("consumer %s on stream %s: %w", n.cfg.Consumer, n.cfg.Stream, err)
	}
	n.cons = cons
	return n.js, cons, nil
}

// Receive fetches what is available at once, or waits up to wait for the
// first message and then takes what else is available.
func (n *NATS) Receive(ctx context.Context, max int, wait time.Duration) ([]collector.Message, error) {
	js, cons, err := n.connect(ctx)
	if err != nil {
		return nil, err
	}
	out, err := n.fetch(js, cons, max, nil)
	if len(out) > 0 || err != nil {
		return out, err
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if out, err = n.fetch(js, cons, 1, wctx); len(out) == 0 || err != nil {
		return out, err
	}
	more, err := n.fetch(js, cons, max-1, nil)
	return append(out, more...), err
}

// fetch pulls up to max messages: those available now when wctx is nil,
// else waiting until wctx is done for them.
func (n *NATS) fetch(js jetstream.JetStream, cons jetstream.Consumer, max int, wctx context.Context) ([]collector.Message, error) {
	if max <= 0 {
		return nil, nil
	}
	var (
		batch jetstream.MessageBatch
		err   error
	)
	if wctx == nil {
		batch, err = cons.FetchNoWait(max)
	} else {
		batch, err = cons.Fetch(max, jetstream.FetchContext(wctx))
	}
	if err != nil {
		return nil, n.fail(err)
	}
	var out []collector.Message
	for m := range batch.Messages() {
		out = append(out, n.message(js, m))
	}
	err = batch.Error()
	if err == nil || len(out) > 0 || (wctx != nil && wctx.Err() != nil) {
		// Messages in hand must be settled; the error will show again.
		return out, nil
	}
	return nil, n.fail(err)
}

// fail forgets the consumer after an error, so that the next Receive
// checks it again (the connection reconnects by itself).
func (n *NATS) fail(err error) error {
	n.mu.Lock()
	n.cons = nil
	n.mu.Unlock()
	return fmt.Errorf("fetch from %s/%s: %w", n.cfg.Stream, n.cfg.Consumer, err)
}

func (n *NATS) message(js jetstream.JetStream, m jetstream.Msg) collector.Message {
	id := m.Subject()
	if meta, err := m.Metadata(); err == nil {
		id = n.cfg.Stream + "#" + strconv.FormatUint(meta.Sequence.Stream, 10)
	}
	msg := decode(id, m.Data(), n.cfg.Source, n.cfg.Limits)
	msg.Delivery = &natsDelivery{js: js, m: m, id: id, cfg: &n.cfg, source: n.name}
	return msg
}

type natsDelivery struct {
	js     jetstream.JetStream
	m      jetstream.Msg
	id     string
	cfg    *NATSConfig
	source string
}

// Ack waits for the server to confirm the ack.
func (d *natsDelivery) Ack(ctx context.Context) error { return d.m.DoubleAck(ctx) }

// DeadLetter publishes the original body with the reason in headers, waits
// for the stream's ack, then acks the original. The message id makes a
// second dead letter of the same message (after a crash between the two
// steps) a duplicate within the stream's duplicate window.
func (d *natsDelivery) DeadLetter(ctx context.Context, why collector.Skip) error {
	dl := nats.NewMsg(d.cfg.DeadLetterSubject)
	dl.Data = d.m.Data()
	dl.Header.Set(HeaderReason, why.Reason)
	dl.Header.Set(HeaderDetail, headerText(why.Detail))
	dl.Header.Set(HeaderSource, d.source)
	dl.Header.Set(HeaderOriginalSubject, d.m.Subject())
	dl.Header.Set(HeaderOriginalID, d.id)
	if _, err := d.js.PublishMsg(ctx, dl, jetstream.WithMsgID("billingd-dead-letter:"+d.id)); err != nil {
		return fmt.Errorf("publish to %s: %w", d.cfg.DeadLetterSubject, err)
	}
	return d.m.DoubleAck(ctx)
}

// Retry asks JetStream to redeliver after delay.
func (d *natsDelivery) Retry(_ context.Context, delay time.Duration) error {
	if delay > 0 {
		return d.m.NakWithDelay(delay)
	}
	return d.m.Nak()
}

// subjectMatches reports whether the subject filter matches subject.
func subjectMatches(filter, subject string) bool {
	f, s := splitSubject(filter), splitSubject(subject)
	for i, t := range f {
		switch {
		case t == ">":
			return len(s) > i
		case i >= len(s):
			return false
		case t != "*" && t != s[i]:
			return false
		}
	}
	return len(f) == len(s)
}

func splitSubject(s string) []string { return strings.Split(s, ".") }
