// Package resource holds what the domain packages that manage stored
// resources (catalog, customer, pricing) share: ids and timestamps for new
// resources, idempotent creates keyed by a client's request_id (CreateOnce
// over the RequestLog each Repository embeds), the input checks every such
// resource uses (ids, text, request ids) and FieldMask for update masks.
//
// It must not import the store, pgx or gRPC, nor any domain package: the
// domain packages import it. It must not hold a domain rule either (a
// field's length limit, a key format only one package uses, which fields an
// entity may change): those stay in the package that owns the resource.
package resource
