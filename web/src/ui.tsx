import { useId, useState, type ReactNode } from "react";
import { ApiError } from "./api/client";

/** Field is a labelled control with its server-side violation below it. */
export function Field(props: { label: string; error?: string; hint?: string; children: (a: { id: string; describedBy?: string; invalid: boolean }) => ReactNode }) {
  const id = useId();
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const describedBy = [props.error ? errId : "", props.hint ? hintId : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.children({ id, describedBy, invalid: !!props.error })}
      {props.hint && <small id={hintId} className="hint">{props.hint}</small>}
      {props.error && <small id={errId} className="field-error" role="alert">{props.error}</small>}
    </div>
  );
}

/** useAction runs one API call for a form: busy state and its error. */
export function useAction() {
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(f: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  }
  const fieldError = (name: string) => (error instanceof ApiError ? error.fields[name] : undefined);
  return { error, busy, run, fieldError, clear: () => setError(null) };
}

/** ErrorState says why a call was refused; 403 and 401 get their own words. */
export function ErrorState({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as ApiError;
  let title = "The request failed";
  if (e.status === 403) title = "Not allowed (403)";
  else if (e.status === 401) title = "Not signed in (401)";
  else if (e.status === 404) title = "Not found (404)";
  else if (e.status === 400) title = "Refused (400)";
  else if (e.status >= 500) title = `billingd is unavailable (${e.status})`;
  return (
    <div className="error-state" role="alert" data-status={e.status}>
      <strong>{title}</strong>
      <p>{e.message}</p>
    </div>
  );
}

/** FormError is the message of a refused form submit (fields show theirs). */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  const fields = error instanceof ApiError ? error.violations : 0;
  // When the server named fields, their messages sit at the fields.
  const text = fields > 0 ? `Refused: check the ${fields === 1 ? "field" : `${fields} fields`} marked above.` : (error as Error).message;
  return <p className="form-error" role="alert">{text}</p>;
}

export function Loading({ what }: { what: string }) {
  return <p className="loading" aria-live="polite">Loading {what}…</p>;
}

/** enumLabel turns BILLING_MODEL_PAYG into "payg". */
export function enumLabel(v: string | undefined, prefix: string): string {
  return (v ?? "").replace(prefix, "").toLowerCase().replace(/_/g, " ");
}
