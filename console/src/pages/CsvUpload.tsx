/**
 * CSV of invoices: parsed and validated row by row in the page before anything is signed; then
 * sent as signed batches (one TokeniseBatch signature per batch) with a progress bar. A batch the
 * ledger refuses stops the run and says which rows it held; the rows already confirmed stay done.
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQueryClient } from "@tanstack/react-query";
import { parse } from "csv-parse/browser/esm/sync";
import { draft, submit } from "../acts";
import { ErrorBox } from "../components";
import { yuanToFen } from "../money";
import { useSession } from "../session";

const BATCH = 20;
const COLUMNS = ["invoiceNumber", "debtor", "buyerTaxId", "issueDate", "dueDate", "amount", "documentHash"] as const;

interface Row {
  line: number;
  invoice?: Record<string, string>;
  errors: string[];
}

export function validateRows(text: string, sellerTaxId: string): Row[] {
  const records = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Array<Record<string, string>>;
  return records.map((rec, i) => {
    const errors: string[] = [];
    for (const c of COLUMNS) if (!rec[c]) errors.push(`${c} is missing`);
    if (rec.debtor && !/^0x[0-9a-fA-F]{40}$/.test(rec.debtor)) errors.push("debtor is not an address");
    if (rec.documentHash && !/^0x[0-9a-fA-F]{64}$/.test(rec.documentHash)) errors.push("documentHash is not 0x + 64 hex digits");
    if (rec.issueDate && !/^\d{4}-\d{2}-\d{2}$/.test(rec.issueDate)) errors.push("issueDate is not YYYY-MM-DD");
    const due = rec.dueDate ? new Date(/^\d{4}-\d{2}-\d{2}$/.test(rec.dueDate) ? `${rec.dueDate}T00:00:00Z` : rec.dueDate) : null;
    if (rec.dueDate && (!due || Number.isNaN(due.getTime()))) errors.push("dueDate is not a date");
    else if (due && rec.issueDate && due.getTime() <= new Date(`${rec.issueDate}T00:00:00Z`).getTime()) errors.push("dueDate is not after issueDate");
    let amount = "";
    try {
      if (rec.amount) amount = yuanToFen(rec.amount).toString();
      if (amount === "0") errors.push("amount must be positive");
    } catch (e) {
      errors.push((e as Error).message);
    }
    if (!sellerTaxId) errors.push("your tax id is missing");
    return {
      line: i + 2,
      errors,
      invoice: errors.length ? undefined : { ...rec, sellerTaxId, amount, dueDate: due!.toISOString() },
    };
  });
}

export function CsvUpload() {
  const { t } = useTranslation();
  const { signer } = useSession();
  const qc = useQueryClient();
  const [sellerTaxId, setSellerTaxId] = useState("");
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState(0);
  const [busy, setBusy] = useState(false);
  const [text, setText] = useState("");
  const good = rows?.filter((r) => r.invoice) ?? [];
  const bad = rows?.filter((r) => !r.invoice) ?? [];
  const check = (csv: string) => {
    setError(null);
    try {
      setRows(validateRows(csv, sellerTaxId));
    } catch (e) {
      setError(e);
    }
  };
  const send = async () => {
    setBusy(true);
    setError(null);
    try {
      for (let i = sent; i < good.length; i += BATCH) {
        const body = { invoices: good.slice(i, i + BATCH).map((r) => Object.fromEntries(Object.entries(r.invoice!).filter(([k]) => k !== "line"))) };
        const u = await draft("/receivables/batch", body);
        await submit("/receivables/batch", body, u, (td) => signer.signTypedData(td), signer.address);
        setSent(Math.min(i + BATCH, good.length));
      }
      await qc.invalidateQueries();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <p className="muted">{t("csvHelp")}</p>
      <label className="field">
        <span>{t("sellerTaxId")}</span>
        <input name="csvSellerTaxId" value={sellerTaxId} onChange={(e) => setSellerTaxId(e.target.value)} />
      </label>
      <input
        type="file"
        name="csv"
        accept=".csv,text/csv"
        onChange={async (e) => {
          const f = e.target.files?.[0];
          // Cleared so that choosing the same (corrected) file again is a change too.
          e.target.value = "";
          if (!f) return;
          const s = await f.text();
          setText(s);
          setSent(0);
          check(s);
        }}
      />
      {text ? <button type="button" onClick={() => check(text)}>{t("recheck")}</button> : null}
      {rows ? (
        <div data-testid="csv-report">
          <p>{t("csvValid", { ok: good.length, bad: bad.length })}</p>
          <ul className="errors">
            {bad.map((r) => (
              <li key={r.line}>
                line {r.line}: {r.errors.join("; ")}
              </li>
            ))}
          </ul>
          <progress max={good.length || 1} value={sent} />
          <span> {sent} / {good.length}</span>
          <button type="button" onClick={send} disabled={busy || bad.length > 0 || good.length === 0 || sent >= good.length}>
            {t("csvSend")}
          </button>
        </div>
      ) : null}
      <ErrorBox error={error} />
    </div>
  );
}
