import { useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ok, requestId, type Schemas } from "../api/client";
import { enumLabel, ErrorState, Field, FormError, Loading, useAction } from "../ui";

export function AccessPage() {
  const keys = useQuery({ queryKey: ["keys"], queryFn: () => ok(api.GET("/v1/apiKeys", { params: { query: { pageSize: 1000 } } })) });
  const audit = useQuery({ queryKey: ["audit"], queryFn: () => ok(api.GET("/v1/auditEvents", { params: { query: { pageSize: 100 } } })) });
  const qc = useQueryClient();
  const revoke = useAction();
  return (
    <section aria-labelledby="access-h">
      <h1 id="access-h">Access</h1>
      <h2>API keys</h2>
      <ErrorState error={keys.error} />
      {keys.isPending && <Loading what="keys" />}
      {keys.data && (
        <table>
          <thead><tr><th scope="col">Key</th><th scope="col">Role</th><th scope="col">Customer</th><th scope="col">Prefix</th><th scope="col">State</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {(keys.data.apiKeys ?? []).map((k) => (
              <tr key={k.id}>
                <td>{k.displayName} <code>{k.id}</code></td><td>{enumLabel(k.role, "ROLE_")}</td><td>{k.customerId || "all"}</td>
                <td><code>{k.secretPrefix}…</code></td><td>{k.revokeTime ? "revoked" : "active"}</td>
                <td>{!k.revokeTime && (
                  <button type="button" className="small danger" aria-label={`Revoke ${k.displayName || k.id}`} disabled={revoke.busy} onClick={() => {
                    if (confirm(`Revoke key ${k.displayName || k.id}? Callers using it are refused at once.`))
                      revoke.run(async () => { await ok(api.POST("/v1/apiKeys/{apiKeyId}:revoke", { params: { path: { apiKeyId: k.id! } }, body: {} })); await qc.invalidateQueries({ queryKey: ["keys"] }); });
                  }}>Revoke</button>)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <FormError error={revoke.error} />
      <KeyForm />
      <h2>Audit trail</h2>
      <ErrorState error={audit.error} />
      {audit.data && (
        <ol className="audit">
          {(audit.data.auditEvents ?? []).map((e) => (
            <li key={e.id}>
              <details>
                <summary>{e.time?.replace("T", " ").slice(0, 19)} UTC · <strong>{e.action}</strong> {e.resourceType} <code>{e.resourceId}</code> by {e.actor}</summary>
                <Diff before={e.before} after={e.after} />
              </details>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** Diff shows the fields a change touched, before and after. */
function Diff({ before, after }: { before?: Record<string, unknown>; after?: Record<string, unknown> }) {
  const b = before ?? {};
  const a = after ?? {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  const show = (v: unknown) => (v === undefined ? "—" : JSON.stringify(v));
  const rows = keys.filter((k) => show(b[k]) !== show(a[k]));
  if (rows.length === 0) return <p className="muted">No field changed.</p>;
  return (
    <table className="diff">
      <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
      <tbody>{rows.map((k) => <tr key={k}><td><code>{k}</code></td><td className="del">{show(b[k])}</td><td className="ins">{show(a[k])}</td></tr>)}</tbody>
    </table>
  );
}

function KeyForm() {
  const qc = useQueryClient();
  const a = useAction();
  const [v, setV] = useState({ displayName: "", role: "ROLE_READER" as Schemas["v1Role"], customerId: "" });
  const [secret, setSecret] = useState("");
  function submit(e: FormEvent) {
    e.preventDefault();
    setSecret("");
    a.run(async () => {
      const res = await ok(api.POST("/v1/apiKeys", { params: { query: { requestId: requestId() } }, body: { ...v, customerId: v.customerId || undefined } }));
      setSecret(res.secret ?? "");
      await qc.invalidateQueries({ queryKey: ["keys"] });
    });
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="key-form-h">
      <h3 id="key-form-h">New API key</h3>
      <Field label="Key name" error={a.fieldError("displayName")}>{(f) => <input id={f.id} value={v.displayName} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, displayName: e.target.value })} />}</Field>
      <Field label="Role" error={a.fieldError("role")}>{(f) => (
        <select id={f.id} value={v.role} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, role: e.target.value as Schemas["v1Role"] })}>
          {(["ROLE_READER", "ROLE_COLLECTOR", "ROLE_ADMIN"] as const).map((r) => <option key={r} value={r}>{enumLabel(r, "ROLE_")}</option>)}
        </select>)}</Field>
      <Field label="Scoped to customer" error={a.fieldError("customerId")} hint="Empty: every customer">{(f) => <input id={f.id} value={v.customerId} aria-invalid={f.invalid} aria-describedby={f.describedBy} onChange={(e) => setV({ ...v, customerId: e.target.value })} />}</Field>
      <button type="submit" disabled={a.busy}>Create key</button>
      <FormError error={a.error} />
      {secret && (
        <div className="secret" role="status">
          <p><strong>Copy the secret now: billingd shows it only once.</strong></p>
          <code data-testid="new-secret">{secret}</code>
        </div>
      )}
    </form>
  );
}
