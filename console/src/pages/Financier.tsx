/** Financier: credit lines (open, update, close) with utilisation; the queue of financing requests; approve or reject with a reason. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { all, get } from "../api";
import { ActButton, Addr, Balance, ErrorBox, Field, MemberPicker, Section, Yuan } from "../components";
import { day, yuanToFen } from "../money";
import type { CreditLine, Financing, Receivable } from "../../../shared/api-types";
import { UtilisationChart } from "./Charts";

interface Terms {
  limit: string;
  advance: string;
  discount: string;
  expiry: string;
}

const pctToBps = (s: string) => {
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(s.trim());
  if (!m) throw new Error(`"${s}" is not a percentage with at most 2 decimals`);
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
};
const termsBody = (f: Terms) => ({
  limit: yuanToFen(f.limit).toString(),
  maxAdvanceBps: pctToBps(f.advance),
  discountBps: pctToBps(f.discount),
  expiry: new Date(`${f.expiry}T00:00:00Z`).toISOString(),
});

function TermsInputs({ f, set, prefix }: { f: Terms; set: (f: Terms) => void; prefix: string }) {
  const { t } = useTranslation();
  const on = (k: keyof Terms) => (e: React.ChangeEvent<HTMLInputElement>) => set({ ...f, [k]: e.target.value });
  return (
    <>
      <Field label={t("limit")}><input name={`${prefix}limit`} value={f.limit} onChange={on("limit")} /></Field>
      <Field label={t("advanceBps")}><input name={`${prefix}advance`} value={f.advance} onChange={on("advance")} className="narrow" /></Field>
      <Field label={t("discountBps")}><input name={`${prefix}discount`} value={f.discount} onChange={on("discount")} className="narrow" /></Field>
      <Field label={t("expiry")}><input name={`${prefix}expiry`} type="date" value={f.expiry} onChange={on("expiry")} /></Field>
    </>
  );
}

const inAYear = () => new Date(Date.now() + 365 * 86400_000).toISOString().slice(0, 10);

function LineRow({ l }: { l: CreditLine }) {
  const { t, i18n } = useTranslation();
  const [f, setF] = useState<Terms>({ limit: String(BigInt(l.limit) / 100n), advance: String(l.maxAdvanceBps / 100), discount: String(l.discountBps / 100), expiry: l.expiry.slice(0, 10) });
  return (
    <tr data-testid={`line-${l.id}`}>
      <td>#{l.id}</td>
      <td><Addr a={l.debtor} /></td>
      <td><Yuan fen={l.limit} /></td>
      <td data-testid="utilised"><Yuan fen={l.utilised} /></td>
      <td><Yuan fen={l.available} /></td>
      <td>{(l.maxAdvanceBps / 100).toFixed(2)} % / {(l.discountBps / 100).toFixed(2)} %</td>
      <td>{day(l.expiry, i18n.language)}</td>
      <td className="actions">
        {l.open ? (
          <details>
            <summary>{t("update")}</summary>
            <TermsInputs f={f} set={setF} prefix={`line${l.id}-`} />
            <ActButton label={t("update")} prepare={() => ({ path: `/credit-lines/${l.id}/update`, body: termsBody(f) })} />
            <ActButton label={t("close")} prepare={() => ({ path: `/credit-lines/${l.id}/close`, body: {} })} />
          </details>
        ) : (
          t("close")
        )}
      </td>
    </tr>
  );
}

/**
 * Concentration beside a request: the line's utilisation if it were approved at the line's advance
 * rate (the service's own concentration rules screen invoices, not requests; this is the
 * financier's view of its own book), flagged from 80 % of the limit.
 */
function Concentration({ f, line, outstanding }: { f: Financing; line?: CreditLine; outstanding?: string }) {
  const { t } = useTranslation();
  if (!line || !outstanding) return null;
  const limit = BigInt(line.limit);
  const after = BigInt(line.utilised) + (BigInt(outstanding) * BigInt(line.maxAdvanceBps)) / 10_000n;
  const bps = limit === 0n ? 0n : (after * 10_000n) / limit;
  const high = bps >= 8_000n;
  return (
    <span className={high ? "flag" : "muted"} data-testid={`concentration-${f.receivableId}`}>
      {t("concentrationAfter", { pct: (Number(bps) / 100).toFixed(2) })}
      {high ? ` ⚠ ${t("concentrationHigh")}` : ""}
    </span>
  );
}

interface Check {
  runId: string;
  code: string;
  result: "pass" | "fail" | "review";
  reason: string;
}

/** The request's compliance pre-flight (GET /financings/:id/checks, its latest run): each rule and its verdict. */
function RequestChecks({ id }: { id: string }) {
  const checks = useQuery({ queryKey: ["financing-checks", id], queryFn: () => get<Check[]>(`/financings/${id}/checks`) });
  const latest = checks.data?.length ? checks.data.filter((c) => c.runId === checks.data![0].runId) : [];
  return (
    <>
      <ul className="checks" data-testid={`checks-${id}`}>
        {latest.map((c) => (
          <li key={c.code} className={c.result} title={c.reason}>
            {c.code}: {c.result}
            {c.result !== "pass" ? ` — ${c.reason}` : ""}
          </li>
        ))}
      </ul>
      <ErrorBox error={checks.error} />
    </>
  );
}

function RequestRow({ f, line }: { f: Financing; line?: CreditLine }) {
  const { t, i18n } = useTranslation();
  const [registration, setRegistration] = useState("");
  const [reason, setReason] = useState("");
  const r = useQuery({ queryKey: ["receivable", f.receivableId], queryFn: () => get<Receivable>(`/receivables/${f.receivableId}`) });
  return (
    <tr data-testid={`request-${f.receivableId}`}>
      <td><Addr a={f.receivableId} /></td>
      <td>#{f.lineId}</td>
      <td><Addr a={f.supplier} /></td>
      <td><Yuan fen={r.data?.outstanding} /> · {r.data ? day(r.data.dueDate, i18n.language) : ""}</td>
      <td>
        ≥ <Yuan fen={f.minPaid} /> / ≤ <Yuan fen={f.maxDiscount} />
      </td>
      <td>
        <Concentration f={f} line={line} outstanding={r.data?.outstanding} />
        <RequestChecks id={f.receivableId} />
      </td>
      <td className="actions">
        <input className="narrow" name="registrationNumber" placeholder={t("registration")} value={registration} onChange={(e) => setRegistration(e.target.value)} />
        <ActButton label={t("approve")} testId="approve" prepare={() => ({ path: `/financings/${f.receivableId}/approve`, body: { registrationNumber: registration } })} />
        <input className="narrow" name="reasonCode" placeholder={t("reason")} value={reason} onChange={(e) => setReason(e.target.value)} />
        <ActButton label={t("reject")} testId="reject" prepare={() => ({ path: `/financings/${f.receivableId}/reject`, body: { reasonCode: reason } })} />
      </td>
    </tr>
  );
}

export function FinancierPage() {
  const { t } = useTranslation();
  const lines = useQuery({ queryKey: ["credit-lines"], queryFn: () => all<CreditLine>("/credit-lines") });
  const requests = useQuery({ queryKey: ["financings", "requested"], queryFn: () => all<Financing>("/financings?status=requested") });
  const [debtor, setDebtor] = useState("");
  const [f, setF] = useState<Terms>({ limit: "", advance: "90", discount: "5", expiry: inAYear() });
  const [allowance, setAllowance] = useState("");
  return (
    <div data-testid="financier-page">
      <Section title={t("balance")}>
        <Balance />
        <form className="grid" onSubmit={(e) => e.preventDefault()}>
          <Field label={t("allowance")}><input name="allowance" value={allowance} onChange={(e) => setAllowance(e.target.value)} /></Field>
          <ActButton label={t("permit")} testId="permit" prepare={() => ({ path: "/settlement/permits", body: { spender: "Financing", value: yuanToFen(allowance).toString() } })} />
        </form>
      </Section>
      <Section title={t("openLine")}>
        <form className="grid" onSubmit={(e) => e.preventDefault()}>
          <Field label={t("debtor")}><input name="lineDebtor" value={debtor} onChange={(e) => setDebtor(e.target.value)} placeholder="0x…" /></Field>
          <MemberPicker name="lineDebtorSearch" onPick={(m) => setDebtor(m.address)} />
          <TermsInputs f={f} set={setF} prefix="new-" />
          <ActButton label={t("openLine")} testId="open-line" prepare={() => ({ path: "/credit-lines", body: { ...(debtor ? { debtor } : {}), ...termsBody(f) } })} />
        </form>
      </Section>
      <Section title={t("creditLines")} refresh>
        <ErrorBox error={lines.error} />
        <UtilisationChart lines={(lines.data ?? []).filter((l) => l.open)} />
        <table>
          <thead>
            <tr><th>#</th><th>{t("debtor")}</th><th>{t("limit")}</th><th>{t("utilised")}</th><th>{t("available")}</th><th>%</th><th>{t("expiry")}</th><th /></tr>
          </thead>
          <tbody>{(lines.data ?? []).map((l) => <LineRow key={l.id} l={l} />)}</tbody>
        </table>
      </Section>
      <Section title={t("requests")} refresh>
        <ErrorBox error={requests.error} />
        <table>
          <thead>
            <tr><th>id</th><th>{t("line")}</th><th>{t("seller")}</th><th>{t("outstanding")}</th><th>terms</th><th>{t("concentration")} · {t("compliance")}</th><th /></tr>
          </thead>
          <tbody>{(requests.data ?? []).map((x) => <RequestRow key={x.receivableId} f={x} line={(lines.data ?? []).find((l) => l.id === x.lineId)} />)}</tbody>
        </table>
        {requests.data?.length === 0 ? <p className="muted">{t("nothing")}</p> : null}
      </Section>
    </div>
  );
}
