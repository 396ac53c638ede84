/** Pieces every role's page uses: the sign-then-send act button, error display, amounts, tables. */
import { useContext, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, get } from "./api";
import { describe, draft, submit, type Act, type Unsigned } from "./acts";
import { NoticeContext, useSession } from "./session";
import { short, yuan } from "./money";

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as Error;
  return (
    <div className="error" role="alert">
      {e instanceof ApiError ? (
        <>
          <strong>{e.title}</strong>
          {e.detail ? <span> — {e.detail}</span> : null}
        </>
      ) : (
        <strong>{e.message}</strong>
      )}
    </div>
  );
}

export function Yuan({ fen }: { fen: string | bigint | null | undefined }) {
  const { i18n } = useTranslation();
  return <span className="money">{yuan(fen, i18n.language)}</span>;
}

export function Addr({ a }: { a: string | null | undefined }) {
  return (
    <code title={a ?? ""} className="addr">
      {short(a, 12)}
    </code>
  );
}

export interface ActSpec {
  path: string;
  body: Record<string, unknown>;
}

/**
 * A button that runs one signed act: asks the API for the typed data, shows in words what the
 * user is about to sign, signs in the page on confirmation, posts it and waits for the ledger.
 * `prepare` builds the request when clicked (so it can validate the form and throw).
 */
export function ActButton({ label, prepare, onDone, testId }: { label: string; prepare: () => ActSpec; onDone?: (a: Act) => void; testId?: string }) {
  const { t, i18n } = useTranslation();
  const { signer } = useSession();
  const qc = useQueryClient();
  const [pending, setPending] = useState<{ spec: ActSpec; unsigned: Unsigned } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const notify = useContext(NoticeContext);

  const start = async () => {
    setError(null);
    setBusy(true);
    try {
      const spec = prepare();
      setPending({ spec, unsigned: await draft(spec.path, spec.body) });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    try {
      const act = await submit(pending.spec.path, pending.spec.body, pending.unsigned, (td) => signer.signTypedData(td), signer.address);
      setPending(null);
      // A signed statement the service keeps (a dispute) has no transaction.
      const outcome = act.txHash ? t("confirmed", { block: act.blockNumber ?? "—", tx: short(act.txHash, 12) }) : t("recorded");
      notify(`${describe(pending.unsigned.typedData, t, i18n.language)} — ${outcome}`);
      await qc.invalidateQueries();
      onDone?.(act);
    } catch (e) {
      setError(e);
      setPending(null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="act">
      <button type="button" onClick={start} disabled={busy} data-testid={testId}>
        {label}
      </button>
      {pending ? (
        <div className="dialog" role="dialog" aria-label={t("youSign")}>
          <p>{t("youSign")}:</p>
          <p className="sentence">{describe(pending.unsigned.typedData, t, i18n.language)}</p>
          {pending.unsigned.permitTypedData ? <p className="muted">+ EIP-2612 permit</p> : null}
          <button type="button" onClick={confirm} disabled={busy} className="primary">
            {busy ? t("working") : t("confirm")}
          </button>
          <button type="button" onClick={() => setPending(null)} disabled={busy}>
            {t("cancel")}
          </button>
        </div>
      ) : null}
      <ErrorBox error={error} />
    </span>
  );
}

/** A titled block; `refresh` adds a button that reloads every list on the page from the API. */
export function Section({ title, children, refresh }: { title: string; children: ReactNode; refresh?: boolean }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  return (
    <section>
      <h2>
        {title}{" "}
        {refresh ? (
          <button type="button" className="link" onClick={() => void qc.invalidateQueries()}>
            {t("refresh")}
          </button>
        ) : null}
      </h2>
      {children}
    </section>
  );
}

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="field">
      <span>{label}</span>
      {children}
    </label>
  );
}

/** The signed-in member's settlement balance (GET /settlement/balance). */
export function Balance() {
  const { t } = useTranslation();
  const b = useQuery({ queryKey: ["balance"], queryFn: () => get<{ balance: string }>("/settlement/balance") });
  return (
    <p data-testid="balance">
      {t("balance")}: <Yuan fen={b.data?.balance} /> <ErrorBox error={b.error} />
    </p>
  );
}
