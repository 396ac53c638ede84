/** Compliance officer: applications with their documents and screening; approve or reject; suspend or reinstate members. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { all, download, get, post } from "../api";
import { Addr, ErrorBox, Field, MemberPicker, Section, Yuan } from "../components";
import { yuan, yuanToFen } from "../money";
import type { Application, Participant, SettlementOperation } from "../../../shared/api-types";

/**
 * Runs one officer action (the officer's acts are signed by the service's compliance key) and
 * refreshes; `attempt` runs any such work and returns its result (undefined when refused, the
 * refusal in `error`).
 */
function useAction() {
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const attempt = async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      const out = await work();
      await qc.invalidateQueries();
      return out;
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  const run = (path: string, body: unknown) => attempt(() => post(path, body));
  return { busy, error, run, attempt };
}

function ApplicationRow({ a }: { a: Application }) {
  const { t } = useTranslation();
  const [reason, setReason] = useState("");
  const { busy, error, run } = useAction();
  const [docError, setDocError] = useState<unknown>(null);
  return (
    <tr data-testid={`application-${a.applicant}`}>
      <td>{a.legalName}<br /><Addr a={a.applicant} /></td>
      <td>{a.entityIdType} {a.entityId} · {a.jurisdiction}</td>
      <td>{a.roles.join(", ")}</td>
      <td>
        <strong>{a.screeningResult}</strong>
        <ul className="checks">
          {a.checks.map((c) => (
            <li key={c.code} className={c.result}>{c.code}: {c.result}{c.result !== "pass" ? ` — ${c.reason}` : ""}</li>
          ))}
        </ul>
      </td>
      <td>
        {a.documents.map((d) => (
          <button key={d.id} type="button" className="link" onClick={() => download(`/onboarding/applications/${a.id}/documents/${d.id}`, d.filename).catch(setDocError)}>
            {d.filename}
          </button>
        ))}
        <ErrorBox error={docError} />
      </td>
      <td className="status">{a.status}</td>
      <td className="actions">
        {a.status === "submitted" || a.status === "needs_review" ? (
          <>
            <button type="button" data-testid="approve-application" disabled={busy} onClick={() => run(`/onboarding/applications/${a.id}/approve?wait=true`, {})}>
              {t("approve")}
            </button>
            <input className="narrow" name="rejectReason" placeholder={t("reason")} value={reason} onChange={(e) => setReason(e.target.value)} />
            <button type="button" disabled={busy} onClick={() => run(`/onboarding/applications/${a.id}/reject`, { reason })}>
              {t("reject")}
            </button>
          </>
        ) : null}
        {busy ? t("working") : null}
        <ErrorBox error={error} />
      </td>
    </tr>
  );
}

function MemberRow({ p }: { p: Participant }) {
  const { t } = useTranslation();
  const [reason, setReason] = useState("");
  const { busy, error, run } = useAction();
  return (
    <tr>
      <td><Addr a={p.address} /></td>
      <td>{p.roles.join(", ")}</td>
      <td>{p.status}{p.verified ? " ✓" : ""}</td>
      <td className="actions">
        <input className="narrow" name="memberReason" placeholder={t("reason")} value={reason} onChange={(e) => setReason(e.target.value)} />
        {p.status === "active" ? (
          <button type="button" disabled={busy} onClick={() => run(`/participants/${p.address}/suspend`, { reason })}>{t("suspend")}</button>
        ) : (
          <button type="button" disabled={busy} onClick={() => run(`/participants/${p.address}/reinstate`, reason ? { reason } : {})}>{t("reinstate")}</button>
        )}
        <ErrorBox error={error} />
      </td>
    </tr>
  );
}

/**
 * Test money (only where the platform has the faucet, GET /settlement/faucet): mints settlement
 * tokens to a verified member, at most the faucet's ceiling per call; waits for the block.
 */
function FaucetForm({ max }: { max: string }) {
  const { t, i18n } = useTranslation();
  const { busy, error, attempt } = useAction();
  const [to, setTo] = useState("");
  const [amount, setAmount] = useState("");
  const [done, setDone] = useState<SettlementOperation | null>(null);
  const send = async () => {
    setDone(null);
    const op = await attempt(async () => {
      const fen = yuanToFen(amount);
      if (fen < 1n || fen > BigInt(max)) throw new Error(t("faucetRange", { max: yuan(max, i18n.language) }));
      const minted = await post<SettlementOperation>("/settlement/faucet?wait=true", { to: to.trim(), amount: fen.toString() }, crypto.randomUUID());
      if (minted.status === "failed") throw new Error(minted.failureReason ?? "failed");
      return minted;
    });
    if (op) setDone(op);
  };
  return (
    <form className="grid" data-testid="faucet-form" onSubmit={(e) => { e.preventDefault(); void send(); }}>
      <Field label={t("faucetTo")}><input name="faucetTo" value={to} onChange={(e) => setTo(e.target.value)} placeholder="0x…" /></Field>
      <MemberPicker name="faucetSearch" onPick={(m) => setTo(m.address)} />
      <Field label={t("amount")}><input name="faucetAmount" value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" /></Field>
      <button type="submit" className="primary" disabled={busy || !to.trim() || !amount.trim()}>{busy ? t("working") : t("faucetSend")}</button>
      {done ? (
        <p className="ok" data-testid="faucet-result">
          {t("faucetDone")} <Yuan fen={done.value} /> → <Addr a={done.account} /> · {t("confirmed", { block: done.blockNumber ?? "—", tx: done.txHash?.slice(0, 12) ?? "—" })}
        </p>
      ) : null}
      <ErrorBox error={error} />
    </form>
  );
}

export function CompliancePage() {
  const { t } = useTranslation();
  const apps = useQuery({ queryKey: ["applications"], queryFn: () => all<Application>("/onboarding/applications") });
  const members = useQuery({ queryKey: ["participants"], queryFn: () => all<Participant>("/participants") });
  const faucet = useQuery({ queryKey: ["faucet"], queryFn: () => get<{ enabled: boolean; maxAmount: string }>("/settlement/faucet"), staleTime: Infinity });
  return (
    <div data-testid="compliance-page">
      <Section title={t("applications")}>
        <button type="button" onClick={() => void apps.refetch()}>{t("refresh")}</button>
        <ErrorBox error={apps.error} />
        <table>
          <thead>
            <tr><th>{t("legalName")}</th><th>{t("entityId")}</th><th>{t("applyRoles")}</th><th>{t("compliance")}</th><th>{t("documents")}</th><th>{t("status")}</th><th /></tr>
          </thead>
          <tbody>{(apps.data ?? []).map((a) => <ApplicationRow key={a.id} a={a} />)}</tbody>
        </table>
      </Section>
      {faucet.data?.enabled ? (
        <Section title={t("faucet")}>
          <p className="muted">{t("faucetHelp")}</p>
          <FaucetForm max={faucet.data.maxAmount} />
        </Section>
      ) : null}
      <Section title="Members">
        <ErrorBox error={members.error} />
        <table>
          <tbody>{(members.data ?? []).map((p) => <MemberRow key={p.address} p={p} />)}</tbody>
        </table>
      </Section>
    </div>
  );
}
