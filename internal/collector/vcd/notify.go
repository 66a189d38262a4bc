package vcd

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// VCD's AMQP notifications (VCD API guide, "Notification Message Format":
// https://docs.vmware.com/en/VMware-Cloud-Director/10.4/com.vmware.vmware_cloud_director.api.sp.doc_37_0.doc/GUID-7C1F16FF-C530-404E-8533-329670B20A19.html,
// and the vCloud API Programming Guide 5.5, pp. 312–314).
//
// Routing key: operationSuccess.entity.org.user.subType1…subTypeN[.taskName],
// e.g. true.<vm uuid>.<org uuid>.<user uuid>.com.vmware.vcloud.event.vm.create.
// JSON bodies are published on the exchange "<AMQP prefix>.notifications20":
//
//	{"eventId": "a1440dd8-…", "type": "com/vmware/vcloud/event/vm/create",
//	 "timestamp": "2011-06-18T14:33:27.787+03:00", "operationSuccess": true,
//	 "user": "urn:vcloud:user:44", "org": "urn:vcloud:org:70",
//	 "entity": "urn:vcloud:vm:25"}
//
// XML bodies (vmext:Notification, deprecated since 5.1) on the exchange of
// the system AMQP settings carry the same in attributes and EntityLinks;
// both are understood.

// bindingKey selects successful VM events.
const bindingKey = "true.#.com.vmware.vcloud.event.vm.#"

type eventKind int

const (
	kindModify eventKind = iota // re-read: size, policy or power state may have changed
	kindCreate
	kindDelete
	kindOn
	kindOff
)

// kinds maps VM notification types to what they do to billing; any other
// vm/* type (change_state, relocate, consolidate, upgrade_hw, …) re-reads
// the VM.
var kinds = map[string]eventKind{
	"vm/create":   kindCreate,
	"vm/import":   kindCreate,
	"vm/delete":   kindDelete,
	"vm/deploy":   kindOn,  // power on deploys the VM
	"vm/undeploy": kindOff, // power off undeploys it
	"vm/suspend":  kindOff,
}

const eventPrefix = "com/vmware/vcloud/event/"

// event is a VM notification, with the VM as re-read right after it.
type event struct {
	ID   string
	Type string
	Kind eventKind
	VM   string // UUID
	At   time.Time
	Rec  *vmRecord // nil for a delete, or when the VM could not be read

	tag uint64 // AMQP delivery tag, on channel generation gen
	gen uint64
}

// notification is the JSON body; entity and org are ids, or (in some
// versions) objects with an id.
type notification struct {
	EventID          string `json:"eventId"`
	Type             string `json:"type"`
	Timestamp        string `json:"timestamp"`
	OperationSuccess bool   `json:"operationSuccess"`
	Entity           ref    `json:"entity"`
	Org              ref    `json:"org"`
}

type ref string

func (r *ref) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*r = ref(s)
		return nil
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*r = ref(o.ID)
	return nil
}

type xmlNotification struct {
	Type             string `xml:"type,attr"`
	EventID          string `xml:"eventId,attr"`
	Timestamp        string `xml:"Timestamp"`
	OperationSuccess bool   `xml:"OperationSuccess"`
	Links            []struct {
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
		ID   string `xml:"id,attr"`
	} `xml:"EntityLink"`
}

// parseNotification reads a body; ok is false for what is not a
// successful VM event (nothing to record).
func parseNotification(body []byte) (e event, ok bool, err error) {
	var n notification
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '<' {
		var x xmlNotification
		if err := xml.Unmarshal(b, &x); err != nil {
			return e, false, err
		}
		n = notification{EventID: x.EventID, Type: x.Type, Timestamp: x.Timestamp, OperationSuccess: x.OperationSuccess}
		for _, l := range x.Links {
			if l.Rel == "entity" {
				n.Entity = ref(l.ID)
			}
		}
	} else if err := json.Unmarshal(body, &n); err != nil {
		return e, false, err
	}
	sub, isEvent := strings.CutPrefix(n.Type, eventPrefix)
	if !isEvent || !strings.HasPrefix(sub, "vm/") || !n.OperationSuccess {
		return e, false, nil
	}
	at := parseTime(n.Timestamp)
	if n.EventID == "" || at.IsZero() || !strings.HasPrefix(string(n.Entity), "urn:vcloud:vm:") {
		return e, false, fmt.Errorf("VM notification %q without eventId, timestamp or urn:vcloud:vm entity", n.Type)
	}
	return event{ID: n.EventID, Type: n.Type, Kind: kinds[sub], VM: uuidOf(string(n.Entity), ""), At: at.Truncate(time.Second)}, true, nil
}

// notifier consumes notifications into pending events.
//
// Acknowledgement, and why it is crash-safe: the runner persists a
// window's records and its cursor together (spooled before any push) and
// passes that cursor to the next Collect only once it is spooled. A message
// is acknowledged only when a Collect receives a cursor at or past the end
// of the window that used it, i.e. once its effect is on disk. Until then
// it stays unacknowledged on the broker: a crash (or lost channel) makes
// RabbitMQ deliver it again, and the ids of the last two windows' events
// in the cursor stop it from being applied twice. A Collect that comes
// back with an older cursor (its window was not spooled) puts the events
// back. The cost: messages stay unacknowledged for one interval, so
// prefetch must exceed one interval's VM events (beyond, delivery pauses
// until the next poll acknowledges).
type notifier struct {
	cfg    NotificationConfig
	lookup func(ctx context.Context, vmUUID string) (*vmRecord, error)
	log    *slog.Logger

	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	ch       *amqp.Channel
	gen      uint64
	pending  []event
	inflight []usedEvents
}

type usedEvents struct {
	end    time.Time
	events []event
}

func (n *notifier) start() {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan struct{})
	go func() {
		defer close(n.done)
		wait := time.Second
		for {
			err := n.consume(ctx)
			if ctx.Err() != nil {
				return
			}
			n.log.Error("VCD notifications: consumer stopped; polling goes on without them", "err", err, "retry_in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Minute)
		}
	}()
}

func (n *notifier) stop() {
	if n.cancel != nil {
		n.cancel()
		<-n.done
	}
}

func (n *notifier) consume(ctx context.Context) error {
	cfg := amqp.Config{Heartbeat: 10 * time.Second, Locale: "en_US"}
	if n.cfg.Username != "" {
		cfg.SASL = []amqp.Authentication{&amqp.PlainAuth{Username: n.cfg.Username, Password: n.cfg.Password.Reveal()}}
	}
	conn, err := amqp.DialConfig(n.cfg.URL, cfg)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", n.cfg.URL, err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	prefetch := n.cfg.Prefetch
	if prefetch == 0 {
		prefetch = 10000
	}
	if err := ch.Qos(prefetch, 0, false); err != nil {
		return err
	}
	if _, err := ch.QueueDeclare(n.cfg.Queue, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare queue %s: %w", n.cfg.Queue, err)
	}
	if err := ch.QueueBind(n.cfg.Queue, bindingKey, n.cfg.Exchange, false, nil); err != nil {
		return fmt.Errorf("bind queue %s to exchange %s: %w", n.cfg.Queue, n.cfg.Exchange, err)
	}
	deliveries, err := ch.Consume(n.cfg.Queue, "", false, false, false, false, nil)
	if err != nil {
		return err
	}
	n.mu.Lock()
	// Unacknowledged messages of an earlier channel are delivered again.
	n.gen++
	gen := n.gen
	n.ch = ch
	n.pending = nil
	n.inflight = nil
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		if n.gen == gen {
			n.ch = nil
		}
		n.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("channel closed")
			}
			n.handle(ctx, d, gen)
		}
	}
}

func (n *notifier) handle(ctx context.Context, d amqp.Delivery, gen uint64) {
	e, ok, err := parseNotification(d.Body)
	if err != nil {
		n.log.Warn("VCD notifications: unreadable message dropped", "routing_key", d.RoutingKey, "err", err)
	}
	if !ok {
		if err := d.Ack(false); err != nil {
			n.log.Warn("VCD notifications: ack", "err", err)
		}
		return
	}
	if e.Kind != kindDelete {
		timeout := n.cfg.Lookup
		if timeout == 0 {
			timeout = 30 * time.Second
		}
		lctx, cancel := context.WithTimeout(ctx, timeout)
		rec, err := n.lookup(lctx, e.VM)
		cancel()
		if err != nil {
			n.log.Warn("VCD notifications: re-reading the VM failed; its last known level is used", "vm", e.VM, "type", e.Type, "err", err)
		}
		e.Rec = rec
	}
	e.tag, e.gen = d.DeliveryTag, gen
	n.mu.Lock()
	if n.gen == gen {
		n.pending = append(n.pending, e)
	}
	n.mu.Unlock()
}

// settle acknowledges the events of windows the runner spooled (the cursor
// it passes has reached their end) and puts back those of windows it did
// not (the cursor is older).
func (n *notifier) settle(cursorEnd time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var back []event
	for _, u := range n.inflight {
		if !cursorEnd.IsZero() && !u.end.After(cursorEnd) {
			for _, e := range u.events {
				if e.gen != n.gen || n.ch == nil {
					continue // that channel is gone: the broker delivers it again
				}
				if err := n.ch.Ack(e.tag, false); err != nil {
					n.log.Warn("VCD notifications: ack", "err", err)
				}
			}
			continue
		}
		for _, e := range u.events {
			if e.gen == n.gen {
				back = append(back, e)
			}
		}
	}
	n.inflight = nil
	n.pending = append(back, n.pending...)
}

// peek returns the pending events before end, in arrival order.
func (n *notifier) peek(end time.Time) []event {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []event
	for _, e := range n.pending {
		if e.At.Before(end) {
			out = append(out, e)
		}
	}
	return out
}

// used moves events a Collect returned into the window ending at end.
func (n *notifier) used(end time.Time, evs []event) {
	n.mu.Lock()
	defer n.mu.Unlock()
	type delivery struct{ gen, tag uint64 }
	taken := make(map[delivery]bool, len(evs))
	for _, e := range evs {
		taken[delivery{e.gen, e.tag}] = true
	}
	n.pending = slices.DeleteFunc(n.pending, func(p event) bool { return taken[delivery{p.gen, p.tag}] })
	n.inflight = append(n.inflight, usedEvents{end: end, events: evs})
}

// pendingCount is for tests: events received and not yet used.
func (n *notifier) pendingCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.pending)
}
