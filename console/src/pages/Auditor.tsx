/**
 * Auditor / regulator: the ledger explorer. Search by invoice number (with the seller's tax id: the
 * ledger keys an invoice on both), receivable id, member address or transaction hash; a
 * receivable's history as a timeline and its split lineage as a tree, each event with its block
 * and transaction; "verify against the chain" (GET /audit/verify); export as CSV.
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { ApiError, all, download, get, type Page } from "../api";
import { Addr, ErrorBox, Field, Section, Yuan } from "../components";
import { day } from "../money";
import type { LedgerEvent, LineageNode, Receivable } from "../types";
import { ExposureChart } from "./Charts";

type Found = { kind: "receivable"; id: string } | { kind: "member"; address: string } | { kind: "tx"; events: LedgerEvent[] };

async function find(q: string, sellerTaxId: string): Promise<Found> {
  const s = q.trim();
  if (/^0x[0-9a-fA-F]{40}$/.test(s)) return { kind: "member", address: s };
  if (/^0x[0-9a-fA-F]{64}$/.test(s)) {
    try {
      const r = await get<Receivable>(`/receivables/${s}`);
      return { kind: "receivable", id: r.id };
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
    }
    // Not a receivable: a transaction hash. The API filters events by block, not by tx, so scan the feed.
    const events: LedgerEvent[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: Page<LedgerEvent> = await get<Page<LedgerEvent>>(`/audit/events?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      events.push(...page.items.filter((e) => e.txHash.toLowerCase() === s.toLowerCase()));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    if (!events.length) throw new Error(`No receivable and no transaction ${s} on the ledger.`);
    return { kind: "tx", events };
  }
  const r = await get<Receivable>(`/receivables/by-invoice?invoiceNumber=${encodeURIComponent(s)}&sellerTaxId=${encodeURIComponent(sellerTaxId.trim())}`);
  return { kind: "receivable", id: r.id };
}

/** Opens a transaction's events in the explorer (set by the page). */
let openTx: (hash: string) => void = () => undefined;

function Events({ events }: { events: LedgerEvent[] }) {
  const { t, i18n } = useTranslation();
  return (
    <ol className="timeline" data-testid="history">
      {events.map((e) => (
        <li key={`${e.txHash}-${e.logIndex}`}>
          <strong>{e.event}</strong> · {new Date(e.time).toLocaleString(i18n.language)} · {t("block")}{" "}
          {e.blockNumber} · {t("tx")}{" "}
          <button type="button" className="link" title={e.txHash} onClick={() => openTx(e.txHash)}>
            <Addr a={e.txHash} />
          </button>
          {e.actor ? <> · <Addr a={e.actor} /></> : null}
        </li>
      ))}
    </ol>
  );
}

function Tree({ node, current, open }: { node: LineageNode; current: string; open: (id: string) => void }) {
  return (
    <li>
      <button type="button" className={`link ${node.id === current ? "current" : ""}`} onClick={() => open(node.id)}>
        <Addr a={node.id} />
      </button>{" "}
      <Yuan fen={node.faceValue} /> · {node.status}
      {node.children.length ? (
        <ul>
          {node.children.map((c) => (
            <Tree key={c.id} node={c} current={current} open={open} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function ReceivableView({ id, open }: { id: string; open: (id: string) => void }) {
  const { t, i18n } = useTranslation();
  const r = useQuery({ queryKey: ["receivable", id], queryFn: () => get<Receivable>(`/receivables/${id}`) });
  const history = useQuery({ queryKey: ["history", id], queryFn: () => get<LedgerEvent[]>(`/receivables/${id}/history`) });
  const lineage = useQuery({ queryKey: ["lineage", id], queryFn: () => get<LineageNode>(`/receivables/${id}/lineage`) });
  return (
    <div data-testid="receivable-view">
      <ErrorBox error={r.error ?? history.error ?? lineage.error} />
      {r.data ? (
        <dl className="facts">
          <dt>id</dt><dd><code>{r.data.id}</code></dd>
          <dt>{t("seller")}</dt><dd><code>{r.data.seller}</code></dd>
          <dt>{t("debtor")}</dt><dd><code>{r.data.debtor}</code></dd>
          <dt>{t("holder")}</dt><dd><code>{r.data.holder ?? "—"}</code></dd>
          <dt>{t("face")}</dt><dd><Yuan fen={r.data.faceValue} /></dd>
          <dt>{t("outstanding")}</dt><dd><Yuan fen={r.data.outstanding} /></dd>
          <dt>{t("dueDate")}</dt><dd>{day(r.data.dueDate, i18n.language)}</dd>
          <dt>{t("status")}</dt><dd data-testid="receivable-status">{r.data.status}</dd>
        </dl>
      ) : null}
      <h3>{t("lineage")}</h3>
      {lineage.data ? (
        <ul className="tree" data-testid="lineage">
          <Tree node={lineage.data} current={id} open={open} />
        </ul>
      ) : null}
      <h3>{t("history")}</h3>
      {history.data ? <Events events={history.data} /> : null}
    </div>
  );
}

function Verify() {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; differences: unknown[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  return (
    <div>
      <button
        type="button"
        data-testid="verify"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            setResult(await get("/audit/verify"));
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? t("working") : t("verify")}
      </button>{" "}
      <button type="button" onClick={() => download("/audit/export?format=csv", "ledger-events.csv").catch(setError)}>
        {t("export")}
      </button>
      {result ? (
        <p className={result.ok ? "ok" : "error"} data-testid="verify-result">
          {result.ok ? t("verifyOk") : t("verifyBad", { count: result.differences.length })}
        </p>
      ) : null}
      <ErrorBox error={error} />
    </div>
  );
}

export function AuditorPage() {
  const { t } = useTranslation();
  const [q, setQ] = useState("");
  const [taxId, setTaxId] = useState("");
  const [found, setFound] = useState<Found | null>(null);
  const [error, setError] = useState<unknown>(null);
  const receivables = useQuery({ queryKey: ["receivables", "all"], queryFn: () => all<Receivable>("/receivables") });
  const member = useQuery({
    queryKey: ["member", found?.kind === "member" ? found.address : ""],
    enabled: found?.kind === "member",
    queryFn: () => all<Receivable>(`/receivables?party=${(found as { address: string }).address}`),
  });
  const open = (id: string) => setFound({ kind: "receivable", id });
  openTx = (hash: string) => {
    setQ(hash);
    find(hash, "").then(setFound, setError);
  };
  return (
    <div data-testid="auditor-page">
      <Section title={t("explorer")}>
        <form
          className="grid"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              setFound(await find(q, taxId));
            } catch (err) {
              setFound(null);
              setError(err);
            }
          }}
        >
          <Field label={t("searchHelp")}><input name="q" value={q} onChange={(e) => setQ(e.target.value)} /></Field>
          <Field label={t("sellerTaxId").replace(/^[^(（]*/, t("seller") + " ")}><input name="sellerTaxId" value={taxId} onChange={(e) => setTaxId(e.target.value)} /></Field>
          <button type="submit" className="primary">{t("search")}</button>
        </form>
        <ErrorBox error={error} />
        {found?.kind === "receivable" ? <ReceivableView id={found.id} open={open} /> : null}
        {found?.kind === "tx" ? <Events events={found.events} /> : null}
        {found?.kind === "member" ? (
          <ul>
            {(member.data ?? []).map((r) => (
              <li key={r.id}>
                <button type="button" className="link" onClick={() => open(r.id)}><Addr a={r.id} /></button> <Yuan fen={r.faceValue} /> · {r.status}
              </li>
            ))}
          </ul>
        ) : null}
      </Section>
      <Section title={t("verify")}>
        <Verify />
      </Section>
      <Section title={t("charts.exposure")}>
        <ExposureChart receivables={receivables.data ?? []} />
      </Section>
    </div>
  );
}
