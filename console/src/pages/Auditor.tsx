/**
 * Auditor / regulator: the ledger explorer. Search by invoice number (the seller's tax id optional:
 * several sellers' invoices may share a number), receivable id, member name, tax id or address, or
 * transaction hash; a
 * receivable's history as a timeline and its split lineage as a tree, each event with its block
 * and transaction; "verify against the chain" (GET /audit/verify); export as CSV.
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import { useQuery } from "@tanstack/react-query";
import { ApiError, all, download, get } from "../api";
import { Addr, ErrorBox, Field, MemberList, Section, Yuan, findMembers, type MemberHit } from "../components";
import { day } from "../money";
import type { LedgerEvent, LineageNode, Page, Receivable } from "../../../shared/api-types";
import { ExposureChart } from "./Charts";

type Found =
  | { kind: "receivable"; id: string }
  | { kind: "member"; address: string }
  | { kind: "tx"; events: LedgerEvent[] }
  | { kind: "choices"; receivables: Receivable[]; members: MemberHit[] };

/**
 * What the explorer's one search box means: an address is a member; 64 hex digits a receivable id
 * or else a transaction hash (GET /audit/events?txHash=); anything else an invoice number
 * (GET /receivables?invoiceNumber=, the seller's tax id optional) and, at the same time, a member's
 * legal name or tax id (GET /participants). One receivable opens at once; several are offered.
 */
async function find(q: string, sellerTaxId: string, t: TFunction): Promise<Found> {
  const s = q.trim();
  if (/^0x[0-9a-fA-F]{40}$/.test(s)) return { kind: "member", address: s };
  if (/^0x[0-9a-fA-F]{64}$/.test(s)) {
    // A transaction's events first (never a 404), then a receivable with that id.
    const events = await all<LedgerEvent>(`/audit/events?txHash=${s}`);
    if (events.length) return { kind: "tx", events };
    try {
      return { kind: "receivable", id: (await get<Receivable>(`/receivables/${s}`)).id };
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw new Error(t("noTx", { q: s }));
      throw e;
    }
  }
  const seller = sellerTaxId.trim();
  const [invoices, members] = await Promise.allSettled([
    get<Page<Receivable>>(`/receivables?invoiceNumber=${encodeURIComponent(s)}${seller ? `&sellerTaxId=${encodeURIComponent(seller)}` : ""}&limit=200`),
    seller ? Promise.resolve([]) : findMembers(s),
  ]);
  if (invoices.status === "rejected" && members.status === "rejected") throw invoices.reason;
  const receivables = invoices.status === "fulfilled" ? invoices.value.items : [];
  const people = members.status === "fulfilled" ? members.value : [];
  if (receivables.length === 1 && !people.length) return { kind: "receivable", id: receivables[0].id };
  if (!receivables.length && !people.length) throw new Error(t("noInvoice", { q: s }));
  return { kind: "choices", receivables, members: people };
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
  const profile = useQuery({
    queryKey: ["participant", found?.kind === "member" ? found.address : ""],
    enabled: found?.kind === "member",
    queryFn: () => get<MemberHit>(`/participants/${(found as { address: string }).address}`),
  });
  const open = (id: string) => setFound({ kind: "receivable", id });
  openTx = (hash: string) => {
    setQ(hash);
    setError(null);
    find(hash, "", t).then(setFound, setError);
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
              setFound(await find(q, taxId, t));
            } catch (err) {
              setFound(null);
              setError(err);
            }
          }}
        >
          <Field label={t("searchHelp")}><input name="q" value={q} onChange={(e) => setQ(e.target.value)} /></Field>
          <Field label={t("sellerTaxIdOptional")}><input name="sellerTaxId" value={taxId} onChange={(e) => setTaxId(e.target.value)} /></Field>
          <button type="submit" className="primary">{t("search")}</button>
        </form>
        <ErrorBox error={error} />
        {found?.kind === "receivable" ? <ReceivableView id={found.id} open={open} /> : null}
        {found?.kind === "tx" ? <Events events={found.events} /> : null}
        {found?.kind === "choices" ? (
          <div data-testid="search-choices">
            {found.receivables.length ? (
              <>
                <p className="muted">{t("pickReceivable", { count: found.receivables.length })}</p>
                <ul className="picks" data-testid="receivable-results">
                  {found.receivables.map((r) => (
                    <li key={r.id}>
                      <button type="button" className="link" onClick={() => open(r.id)}><Addr a={r.id} /></button> {t("seller")} <Addr a={r.seller} /> ·{" "}
                      <Yuan fen={r.faceValue} /> · {r.status}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
            {found.members.length ? <MemberList members={found.members} onPick={(m) => setFound({ kind: "member", address: m.address })} /> : null}
          </div>
        ) : null}
        {found?.kind === "member" ? (
          <>
          {profile.data ? <MemberList members={[profile.data]} onPick={() => undefined} /> : <ErrorBox error={profile.error} />}
          <ul data-testid="member-view">
            {(member.data ?? []).map((r) => (
              <li key={r.id}>
                <button type="button" className="link" onClick={() => open(r.id)}><Addr a={r.id} /></button> <Yuan fen={r.faceValue} /> · {r.status}
              </li>
            ))}
          </ul>
          </>
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
