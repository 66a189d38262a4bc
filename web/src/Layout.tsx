import { useState, type FormEvent } from "react";
import { NavLink, Outlet } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "./api/client";
import { useAuth } from "./auth";
import { Field } from "./ui";

const adminNav = [
  ["bills", "Bills"], ["usage", "Usage"], ["catalog", "Catalog"], ["pricing", "Price lists"],
  ["customers", "Customers"], ["months", "Months"], ["access", "Access"],
] as const;
const tenantNav = [["bills", "Bills"], ["usage", "Usage"]] as const;

export function Layout() {
  const { principal, signOut } = useAuth();
  const qc = useQueryClient();
  if (!principal) return <SignIn />;
  const nav = principal.admin ? adminNav : tenantNav;
  const who = principal.admin ? "admin" : `reader · ${principal.customers.map((c) => c.id).join(", ") || "no customer"}`;
  return (
    <div className="app">
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <span className="brand">billingd</span>
        <nav aria-label="Main">
          <ul>
            {nav.map(([to, label]) => (
              <li key={to}><NavLink to={`/${to}`}>{label}</NavLink></li>
            ))}
          </ul>
        </nav>
        <span className="who" data-testid="who">{who}</span>
        <button type="button" onClick={() => { qc.clear(); signOut(); }}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

function SignIn() {
  const { signIn } = useAuth();
  const [key, setKey] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!key.trim()) {
      setError("Paste an API key (bk_…).");
      return;
    }
    setBusy(true);
    try {
      await signIn(key.trim());
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? "billingd does not know this key (401): check it, or ask an admin for one." : (err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main id="main" className="signin">
      <h1>billingd console</h1>
      <form onSubmit={submit} noValidate>
        <Field label="API key" error={error} hint="Kept in this tab only, forgotten when you sign out or close it.">
          {(a) => (
            <input id={a.id} type="password" autoComplete="off" value={key} aria-invalid={a.invalid}
              aria-describedby={a.describedBy} onChange={(e) => setKey(e.target.value)} />
          )}
        </Field>
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
    </main>
  );
}
