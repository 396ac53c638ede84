/** Supplier: tokenise an invoice with its PDF or a CSV of them; my receivables; split, transfer, request financing, withdraw. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { all } from "../api";
import { ActButton, Addr, ErrorBox, Field, MemberPicker, Section, Yuan } from "../components";
import { day, yuanToFen } from "../money";
import type { CreditLine, Financing, Receivable } from "../../../shared/api-types";
import { CsvUpload } from "./CsvUpload";
import { DisputeBadge } from "./Dispute";

const STATUSES = ["", "issued", "accepted", "financed", "paid", "defaulted", "cancelled"];

function TokeniseForm() {
  const { t } = useTranslation();
  const [f, setF] = useState({ invoiceNumber: "", debtor: "", sellerTaxId: "", buyerTaxId: "", issueDate: new Date().toISOString().slice(0, 10), dueDate: "", amount: "" });
  const [file, setFile] = useState<File | null>(null);
  const set = (k: keyof typeof f) => (e: React.ChangeEvent<HTMLInputElement>) => setF({ ...f, [k]: e.target.value });
  return (
    <form className="grid" onSubmit={(e) => e.preventDefault()} data-testid="tokenise-form">
      <Field label={t("invoiceNumber")}><input name="invoiceNumber" value={f.invoiceNumber} onChange={set("invoiceNumber")} /></Field>
      <Field label={t("debtor")}><input name="debtor" value={f.debtor} onChange={set("debtor")} placeholder="0x…" /></Field>
      <MemberPicker name="debtorSearch" onPick={(m) => setF((prev) => ({ ...prev, debtor: m.address, buyerTaxId: m.entityId ?? prev.buyerTaxId }))} />
      <Field label={t("sellerTaxId")}><input name="sellerTaxId" value={f.sellerTaxId} onChange={set("sellerTaxId")} /></Field>
      <Field label={t("buyerTaxId")}><input name="buyerTaxId" value={f.buyerTaxId} onChange={set("buyerTaxId")} /></Field>
      <Field label={t("issueDate")}><input name="issueDate" type="date" value={f.issueDate} onChange={set("issueDate")} /></Field>
      <Field label={t("dueDate")}><input name="dueDate" type="date" value={f.dueDate} onChange={set("dueDate")} /></Field>
      <Field label={t("amount")}><input name="amount" value={f.amount} onChange={set("amount")} inputMode="decimal" /></Field>
      <Field label={t("document")}><input name="document" type="file" accept="application/pdf" onChange={(e) => setFile(e.target.files?.[0] ?? null)} /></Field>
      <ActButton
        label={t("tokenise")}
        testId="tokenise"
        prepare={() => ({
          path: "/receivables",
          body: {
            ...f,
            dueDate: f.dueDate ? new Date(`${f.dueDate}T00:00:00Z`).toISOString() : "",
            amount: yuanToFen(f.amount).toString(),
            ...(file ? { document: file } : {}),
          },
        })}
      />
    </form>
  );
}

function ReceivableRow({ r, lines, financing }: { r: Receivable; lines: CreditLine[]; financing?: Financing }) {
  const { t, i18n } = useTranslation();
  const [parts, setParts] = useState("");
  const [to, setTo] = useState("");
  const [line, setLine] = useState<string>("");
  const usable = lines.filter((l) => l.open && (!l.debtor || l.debtor === r.debtor));
  const lineId = line || (usable[0] ? String(usable[0].id) : "");
  return (
    <tr data-testid={`receivable-${r.id}`}>
      <td><Addr a={r.id} /></td>
      <td><Addr a={r.debtor} /></td>
      <td><Yuan fen={r.faceValue} /></td>
      <td><Yuan fen={r.outstanding} /></td>
      <td>{day(r.dueDate, i18n.language)}</td>
      <td className={`status ${r.status}`}>{r.status}{financing ? ` · ${financing.status}` : ""}<DisputeBadge id={r.id} /></td>
      <td className="actions">
        {r.status === "accepted" && !r.financed ? (
          <>
            <input className="narrow" name="parts" placeholder={t("splitParts")} value={parts} onChange={(e) => setParts(e.target.value)} />
            <ActButton label={t("split")} testId="split" prepare={() => ({ path: `/receivables/${r.id}/split`, body: { amounts: parts.split("+").map((p) => yuanToFen(p).toString()) } })} />
            <input className="narrow" name="to" placeholder={t("to")} value={to} onChange={(e) => setTo(e.target.value)} />
            <details className="pick">
              <summary>{t("find")}</summary>
              <MemberPicker name="toSearch" onPick={(m) => setTo(m.address)} />
            </details>
            <ActButton label={t("transfer")} testId="transfer" prepare={() => ({ path: `/receivables/${r.id}/transfer`, body: { to } })} />
            {financing?.status !== "requested" ? (
              <>
                {/* Lines naming only the debtor are the financier's and the debtor's to read: the financier tells the supplier its number. */}
                <input className="narrow" name="lineId" list={`lines-${r.id}`} placeholder={t("line")} value={lineId} onChange={(e) => setLine(e.target.value)} aria-label={t("line")} />
                <datalist id={`lines-${r.id}`}>
                  {usable.map((l) => (
                    <option key={l.id} value={l.id}>
                      #{l.id} · {(l.maxAdvanceBps / 100).toFixed(0)}% / {(l.discountBps / 100).toFixed(2)}%
                    </option>
                  ))}
                </datalist>
                <ActButton label={t("requestFinancing")} testId="request-financing" prepare={() => {
                    if (!/^\d+$/.test(lineId)) throw new Error(t("lineNeeded"));
                    return { path: "/financings", body: { receivableId: r.id, lineId: Number(lineId) } };
                  }} />
              </>
            ) : null}
          </>
        ) : null}
        {financing?.status === "requested" ? (
          <ActButton label={t("withdraw")} testId="withdraw" prepare={() => ({ path: `/financings/${r.id}/withdraw`, body: {} })} />
        ) : null}
      </td>
    </tr>
  );
}

export function SupplierPage() {
  const { t } = useTranslation();
  const [status, setStatus] = useState("");
  const receivables = useQuery({
    queryKey: ["receivables", "holder", status],
    queryFn: () => all<Receivable>(`/receivables?role=holder&sort=dueDate${status ? `&status=${status}` : ""}`),
  });
  const lines = useQuery({ queryKey: ["credit-lines"], queryFn: () => all<CreditLine>("/credit-lines") });
  const financings = useQuery({ queryKey: ["financings"], queryFn: () => all<Financing>("/financings") });
  const byId = new Map((financings.data ?? []).map((f) => [f.receivableId, f]));
  return (
    <div data-testid="supplier-page">
      <Section title={t("tokenise")}>
        <TokeniseForm />
      </Section>
      <Section title={t("csv")}>
        <CsvUpload />
      </Section>
      <Section title={t("myReceivables")} refresh>
        <Field label={t("status")}>
          <select name="status" value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>{s || t("all")}</option>
            ))}
          </select>
        </Field>
        <ErrorBox error={receivables.error ?? lines.error} />
        <table>
          <thead>
            <tr><th>id</th><th>{t("debtor")}</th><th>{t("face")}</th><th>{t("outstanding")}</th><th>{t("dueDate")}</th><th>{t("status")}</th><th /></tr>
          </thead>
          <tbody>
            {(receivables.data ?? []).map((r) => (
              <ReceivableRow key={r.id} r={r} lines={lines.data ?? []} financing={byId.get(r.id)} />
            ))}
          </tbody>
        </table>
        {receivables.data?.length === 0 ? <p className="muted">{t("nothing")}</p> : null}
      </Section>
    </div>
  );
}
