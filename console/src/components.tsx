/** Pieces every role's page uses: the sign-then-send act button, error display, amounts, tables. */
import { useContext, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, get } from "./api";
import { describe, draft, submit, type Act, type Unsigned } from "./acts";
import { NoticeContext, useSession } from "./session";
import { short, yuan } from "./money";
import { isValidLei, isValidUscc } from "../../shared/entity-id";

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

/** A member as the directory lookup (GET /participants?name=|taxId=) returns it. */
export interface MemberHit {
  address: string;
  legalName: string | null;
  entityId: string | null;
  roles: string[];
  status: string;
}

/** A valid USCC or LEI as printed (case, spaces, dashes and full-width forms ignored): searched as a tax id, else as a name. */
export function isTaxId(s: string): boolean {
  const key = s.normalize("NFKC").toUpperCase().replace(/[\s\-\u2010-\u2015]/g, "");
  return isValidUscc(key) || isValidLei(key);
}

/** Looks members up by legal name or tax id, within the caller's read scope (the API decides). */
export async function findMembers(text: string): Promise<MemberHit[]> {
  const s = text.trim();
  const q = isTaxId(s) ? `taxId=${encodeURIComponent(s)}` : `name=${encodeURIComponent(s)}`;
  return (await get<{ items: MemberHit[] }>(`/participants?${q}`)).items;
}

/** The members found, each with legal name, tax id and address; `onPick` receives the chosen one. */
export function MemberList({ members, onPick }: { members: MemberHit[]; onPick: (m: MemberHit) => void }) {
  const { t } = useTranslation();
  return (
    <ul className="picks" data-testid="member-results">
      {members.map((m) => (
        <li key={m.address}>
          <button type="button" className="link" onClick={() => onPick(m)} data-testid={`member-${m.address}`}>
            {m.legalName ?? "—"}
          </button>{" "}
          · {t("taxId")} <code>{m.entityId ?? "—"}</code> · <code className="addr">{m.address}</code> · {m.roles.join(", ")}
          {m.status !== "active" ? <> · <span className="flag">{m.status}</span></> : null}
        </li>
      ))}
    </ul>
  );
}

/**
 * A counterparty picker beside an address field: type a legal name (within your counterparties)
 * or a tax id (any verified member), pick from the list, and the address is filled in.
 */
export function MemberPicker({ name, onPick }: { name: string; onPick: (m: MemberHit) => void }) {
  const { t } = useTranslation();
  const [text, setText] = useState("");
  const [found, setFound] = useState<MemberHit[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const search = async () => {
    setError(null);
    try {
      const hits = await findMembers(text);
      if (!hits.length) throw new Error(t("noMember", { q: text.trim() }));
      setFound(hits);
    } catch (e) {
      setFound(null);
      setError(e);
    }
  };
  return (
    <div className="picker" data-testid={`picker-${name}`}>
      <Field label={t("findMember")}>
        <input
          name={name}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              void search();
            }
          }}
        />
      </Field>
      <button type="button" onClick={() => void search()} disabled={!text.trim()}>
        {t("find")}
      </button>
      {found ? (
        <MemberList
          members={found}
          onPick={(m) => {
            setFound(null);
            setText("");
            onPick(m);
          }}
        />
      ) : null}
      <ErrorBox error={error} />
    </div>
  );
}
