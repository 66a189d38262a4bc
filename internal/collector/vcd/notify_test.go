package vcd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/billingd/billingd/internal/collector"
	"github.com/billingd/billingd/internal/collector/collectortest"
)

// The real RabbitMQ of the machine (CI: a service container).
const amqpURL = "amqp://127.0.0.1:5672/"

// broker is a per-test topic exchange named like VCD's JSON exchange and a
// queue bound as the source binds it, removed at the end.
type broker struct {
	ch       *amqp.Channel
	exchange string
	queue    string
}

func newBroker(t *testing.T) *broker {
	t.Helper()
	ch := collectortest.RabbitChannel(t)
	suffix := collectortest.Suffix(t)
	br := &broker{ch: ch, exchange: "vcd-test-" + suffix + ".notifications20", queue: "billingd-vcd-test-" + suffix}
	if err := ch.ExchangeDeclare(br.exchange, "topic", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	// Declared and bound here as the source does, so that nothing
	// published before the source's consumer starts is lost.
	if _, err := ch.QueueDeclare(br.queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(br.queue, bindingKey, br.exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = ch.QueueDelete(br.queue, false, false, false)
		_ = ch.ExchangeDelete(br.exchange, false, false)
	})
	return br
}

func (br *broker) config() *NotificationConfig {
	return &NotificationConfig{URL: amqpURL, Username: "guest", Password: collector.NewSecret("guest", "test"),
		Exchange: br.exchange, Queue: br.queue, Lookup: 5 * time.Second}
}

// publish sends a notification as VCD 10.x does on <prefix>.notifications20:
// routing key true.<entity>.<org>.<user>.com.vmware.vcloud.event.vm.<op>,
// notification.* headers, and the JSON body of the API guide's example.
func (br *broker) publish(t *testing.T, op, vm, org string, at time.Time, eventID string) {
	t.Helper()
	const user = "9f8e7d6c-0000-4000-8000-00000000beef"
	typ := "com/vmware/vcloud/event/vm/" + op
	body, _ := json.Marshal(map[string]any{
		"eventId": eventID, "type": typ, "timestamp": at.In(time.FixedZone("CET", 3600)).Format("2006-01-02T15:04:05.000-07:00"),
		"operationSuccess": true, "user": "urn:vcloud:user:" + user, "org": "urn:vcloud:org:" + org, "entity": "urn:vcloud:vm:" + vm,
	})
	key := strings.Join([]string{"true", vm, org, user, strings.ReplaceAll(typ, "/", ".")}, ".")
	err := br.ch.PublishWithContext(context.Background(), br.exchange, key, false, false, amqp.Publishing{
		ContentType: "application/json", Body: body, DeliveryMode: amqp.Persistent,
		Headers: amqp.Table{"notification.type": typ, "notification.entityType": "vm", "notification.entityUUID": vm,
			"notification.orgUUID": org, "notification.userUUID": user, "notification.operationSuccess": "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ready is the number of messages waiting in the queue, not delivered or
// delivered and given back (unacknowledged when their consumer went away).
func (br *broker) ready(t *testing.T) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		q, err := br.ch.QueueDeclarePassive(br.queue, true, false, false, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if q.Consumers == 0 || time.Now().After(deadline) {
			return q.Messages
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitPending(t *testing.T, s *Source, n int) {
	t.Helper()
	collectortest.WaitFor(t, 10*time.Second, fmt.Sprintf("%d notifications pending", n),
		func() bool { return s.notifications.pendingCount() == n })
}

func only(recs []collector.Record, ids ...string) []string {
	var out []string
	for _, l := range lines(recs) {
		for _, id := range ids {
			if strings.Contains(l, ":"+id+":") {
				out = append(out, l)
			}
		}
	}
	return out
}

// TestNotificationsCutVMIntervals: between two polls a VM is created and
// deleted, another powered off and a third reconfigured. The VM that no
// poll saw is billed for the 30 minutes it existed, the power-off and the
// new vCPU count apply from their notification's time, and the messages
// are acknowledged only after the next Collect received the cursor of the
// window that used them.
func TestNotificationsCutVMIntervals(t *testing.T) {
	t.Parallel()
	f := newFakeVCD(t)
	f.seed()
	br := newBroker(t)
	cfg := testConfig(f)
	cfg.Notifications = br.config()
	s := newSource(t, cfg)
	c0 := collect(t, s, "", t0).Next

	tmp := f.vm(vmTmp, "tmp", orgAcme, vdcAcme, 4, 8192, 20480, "POWERED_ON", "Gold")
	tmp["dateCreated"] = "2026-01-01T00:10:00.000Z"
	f.add(qtVM, tmp)
	br.publish(t, "create", vmTmp, orgAcme, t0.Add(10*time.Minute), "ev-create-tmp")
	waitPending(t, s, 1) // re-read while it exists
	f.setVM(vmWeb, map[string]any{"status": "POWERED_OFF", "isDeployed": false})
	br.publish(t, "undeploy", vmWeb, orgAcme, t0.Add(30*time.Minute), "ev-off-web")
	f.removeVM(vmTmp)
	br.publish(t, "delete", vmTmp, orgAcme, t0.Add(40*time.Minute), "ev-delete-tmp")
	f.setVM(vmDB, map[string]any{"numberOfCpus": 8})
	br.publish(t, "modify", vmDB, orgAcme, t0.Add(45*time.Minute), "ev-modify-db")
	// Unreadable: logged, acknowledged, nothing else.
	if err := br.ch.PublishWithContext(context.Background(), br.exchange, "true.x.y.z.com.vmware.vcloud.event.vm.create", false, false,
		amqp.Publishing{Body: []byte("{not json")}); err != nil {
		t.Fatal(err)
	}
	waitPending(t, s, 4)

	b1 := collect(t, s, c0, t0.Add(time.Hour))
	k := "vcd:vcd01:"
	acme := " acme 5a60 0001 allocation_model=payg"
	want := []string{
		k + vmWeb + ":vm.vcpu:1767225600 vm.vcpu=2 00:00-01:00" + acme,
		k + vmWeb + ":vm.memory_gb:1767225600 vm.memory_gb=4 00:00-01:00" + acme,
		k + vmWeb + ":vm.powered_on:1767225600 vm.powered_on=1 00:00-00:30" + acme,
		k + vmWeb + ":vm.powered_on:1767227400 vm.powered_on=0 00:30-01:00" + acme,
		k + vmWeb + ":storage.gb:1767225600 storage.gb=40 00:00-01:00" + acme + " policy=Gold",
		k + vmDB + ":vm.vcpu:1767225600 vm.vcpu=4 00:00-00:45" + acme,
		k + vmDB + ":vm.vcpu:1767228300 vm.vcpu=8 00:45-01:00" + acme,
		k + vmDB + ":vm.memory_gb:1767225600 vm.memory_gb=16 00:00-01:00" + acme,
		k + vmDB + ":vm.powered_on:1767225600 vm.powered_on=0 00:00-01:00" + acme,
		k + vmDB + ":storage.gb:1767225600 storage.gb=100 00:00-01:00" + acme + " policy=Silver",
		k + vmTmp + ":vm.vcpu:1767226200 vm.vcpu=4 00:10-00:40" + acme,
		k + vmTmp + ":vm.memory_gb:1767226200 vm.memory_gb=8 00:10-00:40" + acme,
		k + vmTmp + ":vm.powered_on:1767226200 vm.powered_on=1 00:10-00:40" + acme,
		k + vmTmp + ":storage.gb:1767226200 storage.gb=20 00:10-00:40" + acme + " policy=Gold",
		k + vmApp + ":vm.vcpu:1767225600 vm.vcpu=1 00:00-01:00" + acme,
		k + vmApp + ":vm.memory_gb:1767225600 vm.memory_gb=1.5 00:00-01:00" + acme,
		k + vmApp + ":vm.powered_on:1767225600 vm.powered_on=0 00:00-01:00" + acme,
		k + vmApp + ":storage.gb:1767225600 storage.gb=10 00:00-01:00" + acme + " policy=default",
	}
	if d := diffLines(want, only(b1.Records, vmWeb, vmDB, vmTmp, vmApp)); d != "" {
		t.Errorf("acme's VMs (-want +got):\n%s", d)
	}
	if n := s.notifications.pendingCount(); n != 0 {
		t.Errorf("%d notifications pending after the collect, want 0", n)
	}

	// app01 is resized at 01:05; the runner spooled window 1, so the next
	// Collect acknowledges window 1's four messages.
	f.setVM(vmApp, map[string]any{"memoryMB": 3072})
	br.publish(t, "modify", vmApp, orgAcme, t0.Add(65*time.Minute), "ev-modify-app")
	waitPending(t, s, 1)
	b2 := collect(t, s, b1.Next, t0.Add(2*time.Hour))
	wantApp := []string{
		k + vmApp + ":vm.vcpu:1767229200 vm.vcpu=1 01:00-02:00" + acme,
		k + vmApp + ":vm.memory_gb:1767229200 vm.memory_gb=1.5 01:00-01:05" + acme,
		k + vmApp + ":vm.memory_gb:1767229500 vm.memory_gb=3 01:05-02:00" + acme,
		k + vmApp + ":vm.powered_on:1767229200 vm.powered_on=0 01:00-02:00" + acme,
		k + vmApp + ":storage.gb:1767229200 storage.gb=10 01:00-02:00" + acme + " policy=default",
	}
	if d := diffLines(wantApp, only(b2.Records, vmApp)); d != "" {
		t.Errorf("app01 in the second window (-want +got):\n%s", d)
	}
	if got := only(b2.Records, vmTmp); len(got) != 0 {
		t.Errorf("the deleted VM is billed again:\n%s", strings.Join(got, "\n"))
	}
	// Stopping now, before a Collect with b2's cursor (as a crash before
	// window 2 is spooled would): only the resize comes back to the queue.
	_ = s.Close()
	if n := br.ready(t); n != 1 {
		t.Errorf("%d messages back in the queue after the source stopped, want 1 (used by a window not known to be spooled)", n)
	}
}

// TestRedeliveredNotificationsAreAppliedOnce: crash safety of the
// acknowledgement protocol.
//
//  1. A collector stops after Collect returned a window but before the
//     runner spooled it (no Collect with its cursor follows): the messages
//     go back to the queue, a new collector receives them again and
//     collects the same window with the same keys and quantities.
//  2. A collector stops after the window was spooled but before the next
//     Collect acknowledged its messages: they are delivered again to the
//     next collector, whose cursor names them as used, so they are not
//     applied twice; that collector acknowledges them.
func TestRedeliveredNotificationsAreAppliedOnce(t *testing.T) {
	t.Parallel()
	f := newFakeVCD(t)
	f.seed()
	br := newBroker(t)
	cfg := testConfig(f)
	cfg.Notifications = br.config()
	start := func() *Source {
		s, err := New("vcd01", cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}

	a := start()
	c0 := collect(t, a, "", t0).Next
	nv := f.vm(vmTmp, "kept", orgAcme, vdcAcme, 4, 8192, 20480, "POWERED_ON", "Gold")
	nv["dateCreated"] = "2026-01-01T00:10:00.000Z"
	f.add(qtVM, nv)
	br.publish(t, "create", vmTmp, orgAcme, t0.Add(10*time.Minute), "ev-create")
	f.setVM(vmWeb, map[string]any{"status": "POWERED_OFF"})
	br.publish(t, "undeploy", vmWeb, orgAcme, t0.Add(30*time.Minute), "ev-off")
	waitPending(t, a, 2)
	b1 := collect(t, a, c0, t0.Add(time.Hour))
	_ = a.Close() // 1: crash before spooling b1
	if n := br.ready(t); n != 2 {
		t.Fatalf("%d messages in the queue after the crash, want both back", n)
	}

	b := start()
	if _, err := b.Collect(context.Background(), c0, t0.Add(30*time.Second)); err != nil { // starts consuming; the window ends before both events
		t.Fatal(err)
	}
	waitPending(t, b, 2)
	again := collect(t, b, c0, t0.Add(time.Hour))
	if d := diffLines(lines(b1.Records), lines(again.Records)); d != "" {
		t.Errorf("the window collected again after the crash differs (-first +again):\n%s", d)
	}
	if again.Next != b1.Next {
		t.Errorf("cursor differs:\n%s\n%s", b1.Next, again.Next)
	}
	_ = b.Close() // 2: crash after spooling (the runner has again.Next) but before the acks
	if n := br.ready(t); n != 2 {
		t.Fatalf("%d messages in the queue after the second crash, want 2", n)
	}

	c := start()
	if _, err := c.Collect(context.Background(), again.Next, t0.Add(time.Hour)); err != nil { // empty window: starts consuming
		t.Fatal(err)
	}
	waitPending(t, c, 2)
	b2 := collect(t, c, again.Next, t0.Add(2*time.Hour))
	k := "vcd:vcd01:"
	acme := " acme 5a60 0001 allocation_model=payg"
	want := []string{
		k + vmWeb + ":vm.vcpu:1767229200 vm.vcpu=2 01:00-02:00" + acme,
		k + vmWeb + ":vm.memory_gb:1767229200 vm.memory_gb=4 01:00-02:00" + acme,
		k + vmWeb + ":vm.powered_on:1767229200 vm.powered_on=0 01:00-02:00" + acme,
		k + vmWeb + ":storage.gb:1767229200 storage.gb=40 01:00-02:00" + acme + " policy=Gold",
		k + vmTmp + ":vm.vcpu:1767229200 vm.vcpu=4 01:00-02:00" + acme,
		k + vmTmp + ":vm.memory_gb:1767229200 vm.memory_gb=8 01:00-02:00" + acme,
		k + vmTmp + ":vm.powered_on:1767229200 vm.powered_on=1 01:00-02:00" + acme,
		k + vmTmp + ":storage.gb:1767229200 storage.gb=20 01:00-02:00" + acme + " policy=Gold",
	}
	if d := diffLines(want, only(b2.Records, vmWeb, vmTmp)); d != "" {
		t.Errorf("window 2 with the redelivered events (-want +got):\n%s", d)
	}
	collect(t, c, b2.Next, t0.Add(3*time.Hour)) // window 2 spooled: acknowledge
	_ = c.Close()
	if n := br.ready(t); n != 0 {
		t.Errorf("%d messages left in the queue, want 0", n)
	}
}

func TestParseNotification(t *testing.T) {
	t.Parallel()
	// The API guide's JSON example, as a VM event.
	js := `{"eventId" : "a1440dd8-60ae-46c7-b216-44693bc00c90", "type" : "com/vmware/vcloud/event/vm/deploy",
	 "timestamp" : "2011-06-18T14:33:27.787+03:00", "operationSuccess" : true, "user" : "urn:vcloud:user:44",
	 "org" : "urn:vcloud:org:70", "entity" : "urn:vcloud:vm:25"}`
	// Its XML form (vmext:Notification).
	xml := `<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" type="com/vmware/vcloud/event/vm/deploy" eventId="a1440dd8-60ae-46c7-b216-44693bc00c90">
	<vmext:Link rel="entityResolver" href="https://vcloud.example.com/api/entity/" />
	<vmext:EntityLink rel="entity" type="vcloud:vm" name="web01" id="urn:vcloud:vm:25" />
	<vmext:EntityLink rel="down" type="vcloud:user" name="vcloud" id="urn:vcloud:user:44" />
	<vmext:EntityLink rel="up" type="vcloud:org" name="Default" id="urn:vcloud:org:70" />
	<vmext:Timestamp>2011-06-18T14:33:27.787+03:00</vmext:Timestamp>
	<vmext:OperationSuccess>true</vmext:OperationSuccess>
	</vmext:Notification>`
	want := event{ID: "a1440dd8-60ae-46c7-b216-44693bc00c90", Type: "com/vmware/vcloud/event/vm/deploy", Kind: kindOn, VM: "25",
		At: time.Date(2011, 6, 18, 11, 33, 27, 0, time.UTC)}
	for name, body := range map[string]string{"json": js, "xml": xml} {
		e, ok, err := parseNotification([]byte(body))
		if err != nil || !ok || e.ID != want.ID || e.Type != want.Type || e.Kind != want.Kind || e.VM != want.VM || !e.At.Equal(want.At) {
			t.Errorf("%s: %+v ok=%v err=%v, want %+v", name, e, ok, err, want)
		}
	}
	for name, body := range map[string]string{
		"failed":   strings.Replace(js, `"operationSuccess" : true`, `"operationSuccess" : false`, 1),
		"not a VM": strings.Replace(js, "event/vm/deploy", "event/vapp/deploy", 1),
	} {
		if _, ok, err := parseNotification([]byte(body)); ok || err != nil {
			t.Errorf("%s: ok=%v err=%v, want ignored", name, ok, err)
		}
	}
	if _, ok, err := parseNotification([]byte(strings.Replace(js, `"timestamp" : "2011-06-18T14:33:27.787+03:00",`, "", 1))); ok || err == nil {
		t.Errorf("no timestamp: ok=%v err=%v, want an error", ok, err)
	}
}
