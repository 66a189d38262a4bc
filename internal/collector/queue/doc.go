// Package queue receives usage records from message brokers — a NATS
// JetStream durable pull consumer (type "nats") and a RabbitMQ queue (type
// "rabbitmq") — as collector.Feeds: the Runner pushes each received batch to
// billingd and only then settles every message with the broker.
//
// A message body is one usage record in the JSON billingd's API uses for
// billing.v1.UsageRecord (protojson field names). Messages that cannot be
// billed (not such JSON, breaking billingd's format rules, or rejected by
// billingd: unknown customer or metric) are published to a dead letter with
// the reason in headers and then acknowledged; nothing is acknowledged
// before billingd acknowledged the record or the dead letter was confirmed
// by the broker. See docs/collectors-queue.md.
package queue
