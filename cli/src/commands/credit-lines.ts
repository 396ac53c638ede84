/**
 * `scf credit-lines …`: a financier's credit lines, the limit and terms (advance rate, discount,
 * expiry) under which it finances the receivables of a debtor and/or a supplier. Opening one is a
 * signed act.
 */
import { done, signedAct, wait } from "../lib/acts";
import { amount, checkedAddress } from "../lib/args";
import { api, pages, type Opts } from "../lib/context";
import { EXIT, usage } from "../lib/errors";
import { day, printJson, short, table, yuan } from "../lib/output";

export async function creditLinesOpen(o: Opts): Promise<number> {
  if (!o.debtor && !o.supplier) throw usage("Name the debtor (--debtor), the supplier (--supplier) or both.");
  const bps = (v: string, name: string, min: number) => {
    if (!/^\d{1,5}$/.test(String(v)) || Number(v) < min || Number(v) > 10_000) throw usage(`${name} must be a whole number of basis points, ${min} to 10000`);
    return Number(v);
  };
  const expiryText = String(o.expiry);
  const expiry = /^\d{4}-\d{2}-\d{2}$/.test(expiryText) ? `${expiryText}T00:00:00Z` : expiryText;
  if (Number.isNaN(Date.parse(expiry))) throw usage(`--expiry ${expiryText} is not an ISO 8601 date`);
  const body: Record<string, unknown> = {
    ...(o.debtor ? { debtor: await checkedAddress(o.debtor, "--debtor") } : {}),
    ...(o.supplier ? { supplier: await checkedAddress(o.supplier, "--supplier") } : {}),
    limit: amount(o.limit, !!o.fen, "--limit").toString(),
    maxAdvanceBps: bps(o.maxAdvanceBps, "--max-advance-bps", 1),
    discountBps: bps(o.discountBps, "--discount-bps", 0),
    expiry,
  };
  const act = await signedAct(api(o), "/credit-lines", body, { wait: wait(o), json: o.json });
  const id = act.lineId ?? act.result?.lineId;
  return done(o, act, id ? `\ncredit line ${id}` : "");
}

export async function creditLinesList(o: Opts): Promise<number> {
  const p = await pages<Record<string, string | number | boolean | null>>(api(o), "/credit-lines", { open: o.open ? "true" : undefined }, !!o.all);
  if (o.json) printJson(p);
  else
    table(
      ["id", "financier", "debtor", "supplier", "limit", "utilised", "available", "advance", "discount", "expiry", "open"],
      p.items.map((l) => [l.id as number, short(l.financier as string), short(l.debtor as string), short(l.supplier as string), yuan(l.limit as string), yuan(l.utilised as string), yuan(l.available as string), `${Number(l.maxAdvanceBps) / 100}%`, `${Number(l.discountBps) / 100}%`, day(l.expiry as string), l.open ? "yes" : "no"]),
    );
  return EXIT.OK;
}
