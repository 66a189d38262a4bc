package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

func keysCreateCommand() command {
	return command{
		name: "keys create", summary: "Create an API key and print its secret. The secret is shown once: billingd keeps only its hash.",
		help: `Roles: admin (everything), reader (billing queries, reports, reading the
catalog and prices), collector (usage ingestion only). --customer limits a
key to one customer's data; --source and --site limit a collector key to
records that carry that source and site.

Examples:
  billingctl keys create --name "ERP export" --role reader
  billingctl keys create --name "vc01 collector" --role collector --source vcenter:vc01 --site vc01
  billingctl keys create --name "ACME portal" --role reader --customer acme --expires 2027-01-01T00:00:00Z
`,
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			name := fs.String("name", "", "display name (required)")
			role := fs.String("role", "", "admin, reader or collector (required)")
			customer := fs.String("customer", "", "limit the key to this customer's data")
			var sources, sites list
			fs.Var(&sources, "source", "collector keys: a source its records may carry, e.g. vcenter:vc01; repeatable")
			fs.Var(&sites, "site", "collector keys: a site its records may carry; repeatable")
			expires := fs.String("expires", "", "expiry: an RFC 3339 time or a duration such as 720h (default: never)")
			format := fs.String("format", "text", "text or json (the CreateApiKeyResponse, secret included)")
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *name == "" {
					return usagef("--name is required")
				}
				r, ok := billingv1.Role_value["ROLE_"+strings.ToUpper(*role)]
				if !ok || r == 0 {
					return usagef("--role %q: want admin, reader or collector", *role)
				}
				k := &billingv1.ApiKey{DisplayName: *name, Role: billingv1.Role(r), CustomerId: *customer, Sources: sources, Sites: sites}
				if *expires != "" {
					t, err := parseExpiry(*expires)
					if err != nil {
						return err
					}
					k.ExpireTime = timestamppb.New(t)
				}
				return withConn(e, func(conn *grpc.ClientConn) error {
					ctx, cancel := e.call()
					defer cancel()
					res, err := billingv1.NewAccessServiceClient(conn).CreateApiKey(ctx, &billingv1.CreateApiKeyRequest{ApiKey: k})
					if err != nil {
						return err
					}
					if *format == "json" {
						return printJSON(e, res)
					}
					fmt.Fprintf(e.stdout, "Created API key %s (%s, %q).\nSecret, shown once (send it as  authorization: Bearer <secret>):\n\n    %s\n\n",
						res.GetApiKey().GetId(), roleName(res.GetApiKey().GetRole()), res.GetApiKey().GetDisplayName(), res.GetSecret())
					return nil
				})
			}
		},
	}
}

func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return time.Now().Add(d), nil
	}
	return time.Time{}, usagef("--expires %q: want an RFC 3339 time (2027-01-01T00:00:00Z) or a duration (720h)", s)
}

func roleName(r billingv1.Role) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "ROLE_"))
}

func keysListCommand() command {
	return command{
		name: "keys list", summary: "List API keys (never their secrets: only the first characters, to recognise them).",
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			all := fs.Bool("all", false, "include revoked keys")
			format := fs.String("format", "table", "table or json")
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				return withConn(e, func(conn *grpc.ClientConn) error {
					c := billingv1.NewAccessServiceClient(conn)
					req := &billingv1.ListApiKeysRequest{PageSize: 1000, IncludeRevoked: *all}
					var keys []*billingv1.ApiKey
					for {
						ctx, cancel := e.call()
						res, err := c.ListApiKeys(ctx, req)
						cancel()
						if err != nil {
							return err
						}
						keys = append(keys, res.GetApiKeys()...)
						if req.PageToken = res.GetNextPageToken(); req.PageToken == "" {
							break
						}
					}
					if *format == "json" {
						return printJSON(e, &billingv1.ListApiKeysResponse{ApiKeys: keys})
					}
					t := table{head: []string{"ID", "NAME", "ROLE", "CUSTOMER", "SOURCES", "SITES", "SECRET", "CREATED", "EXPIRES", "REVOKED"}}
					for _, k := range keys {
						t.rows = append(t.rows, []string{k.GetId(), k.GetDisplayName(), roleName(k.GetRole()), k.GetCustomerId(),
							strings.Join(k.GetSources(), ","), strings.Join(k.GetSites(), ","), prefix(k.GetSecretPrefix()),
							day(k.GetCreateTime()), day(k.GetExpireTime()), day(k.GetRevokeTime())})
					}
					t.write(e.stdout)
					return nil
				})
			}
		},
	}
}

func prefix(p string) string {
	if p == "" {
		return ""
	}
	return p + "…"
}

func day(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().UTC().Format("2006-01-02 15:04")
}

func keysRevokeCommand() command {
	return command{
		name: "keys revoke", args: "ID", summary: "Revoke an API key: it stops working at once and is kept for the audit trail.",
		flags: func(fs *flag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				if len(args) != 1 {
					return usagef("want one key id (see billingctl keys list)")
				}
				return withConn(e, func(conn *grpc.ClientConn) error {
					ctx, cancel := e.call()
					defer cancel()
					res, err := billingv1.NewAccessServiceClient(conn).RevokeApiKey(ctx, &billingv1.RevokeApiKeyRequest{ApiKeyId: args[0]})
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "Revoked API key %s (%q) at %s.\n", res.GetApiKey().GetId(), res.GetApiKey().GetDisplayName(), day(res.GetApiKey().GetRevokeTime()))
					return nil
				})
			}
		},
	}
}

func printJSON(e *env, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, string(b))
	return err
}
