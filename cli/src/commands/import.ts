/**
 * `scf invoices import FILE.csv`: check every row, then tokenise the good ones in signed batches
 * (POST /receivables/batch), resumably.
 *
 * Resume: the state file (SCF_HOME/imports/<file sha256>-<signer>-<url hash>.json) records the
 * batch plan and, per batch, the signed body (nonce, deadline, signature) *before* it is posted,
 * then the act id once accepted, then confirmation. Each batch is posted with a deterministic
 * Idempotency-Key (file hash, batch index, attempt, signer), so re-running after Ctrl-C or a kill
 * re-posts exactly the same signed body for a batch in flight (the service answers the first act
 * again), skips confirmed batches, and never signs a second act for invoices already accepted.
 * If a saved signature can no longer be used (its deadline passed before it reached the service),
 * the batch's receivable ids are looked up on the ledger first; only if none is there is it signed
 * again under a new attempt number.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { followAct, problemMessage, signTypedData, type Act, type UnsignedAct } from "../../../shared/client";
import { scfHome, writePrivate, type Api } from "../lib/context";
import { CliError, EXIT, usage } from "../lib/errors";
import { normaliseInvoiceKey } from "../../../shared/fingerprint";
import { canonicalColumn, checkInvoiceFile, type BadRow, type BatchInvoice, type ValidRow } from "../lib/invoice-csv";
import { fenToYuan } from "../../../shared/money";
import { printJson, status, table } from "../lib/output";

export const MAX_BATCH = 200;

type BatchStatus = "new" | "signed" | "submitted" | "confirmed" | "failed" | "refused";

interface BatchState {
  index: number;
  lines: number[];
  status: BatchStatus;
  attempt: number;
  /** Lines refused by the service (reason), left out of the batch. */
  refusedLines: Record<string, string>;
  /** Lines in the order they were signed, aligned with receivableIds. */
  sentLines?: number[];
  receivableIds?: string[];
  nonce?: string;
  deadline?: string;
  signature?: string;
  idempotencyKey?: string;
  actId?: string;
  txHash?: string | null;
  reason?: string;
  /** Set when the batch was found confirmed by an earlier run. */
  doneBefore?: boolean;
  /** Set when an earlier run signed or posted the batch without seeing it confirmed. */
  inFlight?: boolean;
  uploaded?: number[];
}

interface ImportState {
  version: 1;
  file: string;
  sha256: string;
  url: string;
  signer: string;
  batchSize: number;
  createdAt: string;
  updatedAt: string;
  batches: BatchState[];
}

export interface ImportOptions {
  batchSize?: string;
  buyer?: string;
  sellerTaxId?: string;
  wait: boolean;
  json?: boolean;
  dryRun?: boolean;
  delayMs?: string;
  state?: string;
  uploadDocuments: boolean;
}

function parseCsv(buf: Buffer, file: string): { records: string[][]; lines: number[] } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require("csv-parse/sync") as typeof import("csv-parse/sync");
  try {
    const out = parse(buf, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as Array<{
      record: string[];
      info: { lines: number };
    }>;
    return { records: out.map((r) => r.record), lines: out.map((r) => r.info.lines) };
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw usage(`${file} is not a readable CSV file${err.lines ? ` (line ${err.lines})` : ""}: ${err.message}`);
  }
}

/**
 * The ledger addresses of the buyers named only by tax id (rows without buyer_address), looked up
 * with GET /participants?taxId= once per distinct tax id. A tax id no member holds stays unresolved
 * (its rows are reported as bad); a malformed one is the row check's to report.
 */
async function buyersOf(api: Api, records: string[][]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const header = (records[0] ?? []).map(canonicalColumn);
  const taxCol = header.indexOf("buyer_tax_id");
  const addrCol = header.indexOf("buyer_address");
  if (taxCol < 0) return out;
  const wanted = new Set<string>();
  for (const r of records.slice(1)) {
    if (addrCol >= 0 && (r[addrCol] ?? "").trim()) continue;
    const key = normaliseInvoiceKey(r[taxCol] ?? "");
    if (/^[0-9A-Z]{18}$|^[0-9A-Z]{20}$/.test(key)) wanted.add(key);
  }
  for (const key of wanted) {
    const res = await api.request<{ items: Array<{ address: string }> }>("GET", "/participants", { query: { taxId: key }, accept: [400] });
    if (res.status === 200 && res.body.items.length === 1) out.set(key, res.body.items[0].address);
  }
  return out;
}

export async function importInvoices(api: Api, file: string, o: ImportOptions): Promise<number> {
  const path = resolve(file);
  if (!existsSync(path)) throw usage(`No such file: ${file}`);
  const batchSize = o.batchSize === undefined ? 50 : Number(o.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) throw usage(`--batch-size must be 1 to ${MAX_BATCH} (the API's limit per batch)`);
  const delayMs = o.delayMs === undefined ? 0 : Number(o.delayMs);
  if (!Number.isInteger(delayMs) || delayMs < 0) throw usage("--delay-ms must be a whole number of milliseconds");
  const buf = readFileSync(path);
  const sha256 = createHash("sha256").update(buf).digest("hex");
  const { records, lines } = parseCsv(buf, file);
  const hashFile = (p: string) => {
    const full = resolve(dirname(path), p);
    if (!existsSync(full)) throw new Error("file not found (paths are relative to the CSV file)");
    return "0x" + createHash("sha256").update(readFileSync(full)).digest("hex");
  };
  const buyersByTaxId = o.buyer ? undefined : await buyersOf(api, records);
  const checked = checkInvoiceFile(records, lines, { now: new Date(), defaultBuyer: o.buyer, defaultSellerTaxId: o.sellerTaxId, hashFile, buyersByTaxId });
  if (checked.missing.length) throw usage(`${file} lacks required columns: ${checked.missing.join(", ")}. See cli/README.md for the columns.`);
  const good = checked.rows.filter((r): r is ValidRow => r.ok);
  const bad = checked.rows.filter((r): r is BadRow => !r.ok);
  const byLine = new Map(good.map((r) => [r.line, r]));

  if (!o.json && bad.length) {
    process.stderr.write(`${bad.length} row(s) of ${file} cannot be submitted and were left out:\n`);
    for (const b of bad) process.stderr.write(`  line ${b.line}${b.invoiceNumber ? ` (${b.invoiceNumber})` : ""}: ${b.reasons.join("; ")}\n`);
  }

  const signer = api.address();
  const urlHash = createHash("sha256").update(api.url).digest("hex").slice(0, 8);
  const statePath = o.state ? resolve(o.state) : join(scfHome(), "imports", `${sha256}-${signer.toLowerCase()}-${urlHash}.json`);
  let state: ImportState;
  let resumed = false;
  if (existsSync(statePath)) {
    state = JSON.parse(readFileSync(statePath, "utf8")) as ImportState;
    if (state.sha256 !== sha256) throw usage(`State file ${statePath} belongs to another file (sha256 ${state.sha256}).`);
    resumed = true;
    if (o.batchSize !== undefined && Number(o.batchSize) !== state.batchSize) {
      status(o.json, `Note: resuming with the batch size of the first run (${state.batchSize}), not ${o.batchSize}.`);
    }
  } else {
    const plan: BatchState[] = [];
    for (let i = 0; i < good.length; i += batchSize) {
      plan.push({ index: plan.length, lines: good.slice(i, i + batchSize).map((r) => r.line), status: "new", attempt: 0, refusedLines: {} });
    }
    const now = new Date().toISOString();
    state = { version: 1, file: path, sha256, url: api.url, signer, batchSize, createdAt: now, updatedAt: now, batches: plan };
  }
  const save = () => {
    state.updatedAt = new Date().toISOString();
    mkdirSync(dirname(statePath), { recursive: true, mode: 0o700 });
    writePrivate(statePath, JSON.stringify(state, null, 2));
  };
  for (const b of state.batches) {
    b.doneBefore = b.status === "confirmed";
    b.inFlight = b.status === "signed" || b.status === "submitted";
  }
  const skippedBatches = state.batches.filter((b) => b.doneBefore);
  const skippedRows = skippedBatches.reduce((n, b) => n + b.lines.length - Object.keys(b.refusedLines).length, 0);
  if (resumed) {
    status(o.json, `Resuming the import of ${basename(path)} (state ${statePath}): ${skippedBatches.length} of ${state.batches.length} batch(es), ${skippedRows} invoice(s), already on the ledger — skipped.`);
  }

  if (o.dryRun) {
    const summary = { file: path, sha256, dryRun: true, rows: { total: checked.rows.length, valid: good.length, bad: bad.length }, bad, batches: state.batches.length };
    if (o.json) printJson(summary);
    else process.stdout.write(`Dry run: ${good.length} valid row(s) in ${state.batches.length} batch(es) of at most ${state.batchSize}; ${bad.length} bad row(s). Nothing was sent.\n`);
    return bad.length ? EXIT.REFUSED : EXIT.OK;
  }
  if (!resumed && good.length) save();

  // Fail early, once, if this key cannot tokenise at all.
  if (state.batches.some((b) => b.status !== "confirmed" && b.status !== "refused")) {
    const me = await api.get<{ roleNames: string[]; verifiedMember: boolean }>("/auth/me");
    if (!me.verifiedMember || !me.roleNames.includes("supplier")) {
      throw new CliError(`${signer} is not a verified supplier on the ledger, so it cannot tokenise invoices (roles: ${me.roleNames.join(", ") || "none"}). Apply with: scf apply … --roles supplier`, EXIT.REFUSED);
    }
  }

  const invoicesOf = (b: BatchState): { lines: number[]; invoices: BatchInvoice[] } => {
    const ls = b.lines.filter((l) => !(String(l) in b.refusedLines));
    return { lines: ls, invoices: ls.map((l) => byLine.get(l)!.invoice) };
  };

  // ---------------------------------------------------------------- progress
  const totalRows = good.length;
  let doneRows = skippedRows;
  let confirmedRows = skippedRows;
  let bar: import("cli-progress").SingleBar | null = null;
  if (!o.json && process.stderr.isTTY && state.batches.length) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SingleBar, Presets } = require("cli-progress") as typeof import("cli-progress");
    bar = new SingleBar(
      { stream: process.stderr, format: "Importing |{bar}| {value}/{total} invoices accepted | confirmed {confirmed} | batch {batch}/{batches}", hideCursor: true },
      Presets.shades_classic,
    );
    bar.start(totalRows, doneRows, { confirmed: confirmedRows, batch: 0, batches: state.batches.length });
  }
  const progress = (b: BatchState) => {
    if (bar) bar.update(doneRows, { confirmed: confirmedRows, batch: b.index + 1 });
    else status(o.json, `batch ${b.index + 1}/${state.batches.length}: ${b.status}${b.actId ? ` (act ${b.actId})` : ""}${b.reason ? ` — ${b.reason}` : ""}`);
  };
  const onInterrupt = () => {
    bar?.stop();
    process.stderr.write(`\nInterrupted. Progress is saved in ${statePath}; run the same command again to resume (nothing will be submitted twice).\n`);
    process.exit(EXIT.INTERRUPTED);
  };
  process.once("SIGINT", onInterrupt);
  process.once("SIGTERM", onInterrupt);

  // ---------------------------------------------------------------- one batch
  const rowCount = (b: BatchState) => invoicesOf(b).lines.length;

  const existing = async (ids: string[]): Promise<number> => {
    let n = 0;
    for (const id of ids) {
      const r = await api.request("GET", `/receivables/${id}`, { accept: [403, 404] });
      if (r.status === 200) n++;
    }
    return n;
  };

  /** Asks for typed data; on refusal finds the refused rows one by one and leaves them out. */
  const prepare = async (b: BatchState): Promise<UnsignedAct | null> => {
    for (let round = 0; round < 2; round++) {
      const { invoices } = invoicesOf(b);
      if (!invoices.length) return null;
      const res = await api.post<UnsignedAct>("/receivables/batch", { invoices }, { accept: [400, 403, 409, 422] });
      if (res.status === 200) return res.body;
      if (round === 1 || invoices.length === 1) {
        const { lines: ls } = invoicesOf(b);
        for (const l of ls) b.refusedLines[String(l)] = problemMessage(res.body, res.status);
        return null;
      }
      // Which rows? Ask for each alone (unsigned: nothing is signed or sent to the chain).
      for (const l of invoicesOf(b).lines) {
        const one = await api.post<UnsignedAct>("/receivables/batch", { invoices: [byLine.get(l)!.invoice] }, { accept: [400, 403, 409, 422] });
        if (one.status !== 200) b.refusedLines[String(l)] = problemMessage(one.body, one.status);
      }
      save();
    }
    return null;
  };

  const sign = async (b: BatchState): Promise<boolean> => {
    const u = await prepare(b);
    if (!u) {
      b.status = "refused";
      b.reason = "every row of the batch was refused";
      save();
      return false;
    }
    const td = u.typedData;
    b.sentLines = invoicesOf(b).lines;
    b.receivableIds = (td.message.invoices as Array<{ fingerprint: string }>).map((i) => i.fingerprint.toLowerCase());
    b.nonce = String(td.message.nonce);
    b.deadline = String(td.message.deadline);
    b.signature = await signTypedData(await api.signer(), td);
    b.idempotencyKey = `scf-import-${sha256.slice(0, 32)}-b${b.index}-a${b.attempt}-${signer.toLowerCase()}`;
    b.status = "signed";
    save(); // before posting: a kill from here on re-posts exactly this body
    return true;
  };

  const post = async (b: BatchState): Promise<void> => {
    const invoices = (b.sentLines ?? []).map((l) => byLine.get(l)!.invoice);
    const body = { invoices, nonce: b.nonce, deadline: b.deadline, signature: b.signature };
    for (let tries = 0; ; tries++) {
      const res = await api.post<Act>("/receivables/batch", body, { idempotencyKey: b.idempotencyKey, accept: [400, 403, 409, 422] });
      if (res.status === 202) {
        b.actId = res.body.id;
        b.status = res.body.status === "confirmed" ? "confirmed" : res.body.status === "failed" ? "failed" : "submitted";
        b.txHash = res.body.txHash;
        if (res.body.status === "failed") b.reason = res.body.failureReason ?? "failed on-chain";
        save();
        return;
      }
      const msg = problemMessage(res.body, res.status);
      if (res.status === 409 && /still being processed/.test(msg) && tries < 60) {
        await new Promise((r) => setTimeout(r, 500)); // the first post of this key is still running
        continue;
      }
      // The saved signature cannot be used. Are its invoices on the ledger anyway?
      const ids = b.receivableIds ?? [];
      const there = await existing(ids);
      if (ids.length && there === ids.length) {
        b.status = "confirmed";
        b.reason = "already on the ledger";
        save();
        return;
      }
      if (there === 0 && b.attempt < 3 && /deadline|nonce|Idempotency-Key/i.test(msg)) {
        b.attempt++;
        b.status = "new";
        save();
        if (await sign(b)) return post(b);
        return;
      }
      b.status = "refused";
      b.reason = msg;
      for (const l of b.sentLines ?? []) b.refusedLines[String(l)] ??= msg;
      save();
      return;
    }
  };

  const settle = async (b: BatchState) => {
    if (b.status !== "submitted" || !b.actId) return;
    const a = await followAct(api, b.actId);
    if (a.status === "confirmed") {
      b.status = "confirmed";
      confirmedRows += rowCount(b);
    } else if (a.status === "failed") {
      b.status = "failed";
      b.reason = a.failureReason ?? "failed on-chain";
    }
    b.txHash = a.txHash;
    save();
    if (bar) bar.update(doneRows, { confirmed: confirmedRows });
  };

  // Batches are posted one after another; while batch N is in flight, batch N-1 is followed to
  // its confirmation, so at most two are pending at once and the state file moves batch by batch.
  const accepted: BatchState[] = [];
  for (const b of state.batches) {
    if (b.status === "confirmed" || b.status === "refused" || b.status === "failed") continue;
    if (b.status === "submitted") {
      doneRows += rowCount(b);
      accepted.push(b);
      continue;
    }
    if (delayMs && accepted.length) await new Promise((r) => setTimeout(r, delayMs));
    if (b.status === "new" && !(await sign(b))) {
      progress(b);
      continue;
    }
    await post(b);
    const st = b.status as BatchStatus;
    if (st === "submitted" || st === "confirmed") {
      doneRows += rowCount(b);
      if (st === "confirmed") confirmedRows += rowCount(b);
      accepted.push(b);
    }
    progress(b);
    if (o.wait) for (const x of accepted) if (x !== b) await settle(x);
  }

  // ---------------------------------------------------------------- confirmations
  if (o.wait) for (const b of accepted) await settle(b);

  // ---------------------------------------------------------------- documents
  let uploaded = 0;
  const uploadFailures: Array<{ line: number; file: string; reason: string }> = [];
  if (o.uploadDocuments) {
    for (const b of state.batches) {
      if (b.status !== "confirmed" || !b.receivableIds || !b.sentLines) continue;
      b.uploaded ??= [];
      for (const [i, l] of b.sentLines.entries()) {
        const row = byLine.get(l);
        if (!row?.documentFile || b.uploaded.includes(l)) continue;
        const full = resolve(dirname(path), row.documentFile);
        const form = new FormData();
        form.append("document", new Blob([readFileSync(full)]), basename(full));
        const key = "scf-doc-" + createHash("sha256").update(`${b.receivableIds[i]}|${row.invoice.documentHash}`).digest("hex").slice(0, 40);
        try {
          await api.request("POST", `/receivables/${b.receivableIds[i]}/documents`, { form, idempotencyKey: key });
          b.uploaded.push(l);
          uploaded++;
          save();
        } catch (e) {
          // The invoice is on the ledger with the document's hash; the upload can be repeated.
          uploadFailures.push({ line: l, file: row.documentFile, reason: (e as Error).message });
        }
      }
    }
  }
  bar?.stop();
  process.off("SIGINT", onInterrupt);
  process.off("SIGTERM", onInterrupt);

  // ---------------------------------------------------------------- summary
  const refused = state.batches.flatMap((b) =>
    Object.entries(b.refusedLines).map(([line, reason]) => ({ line: Number(line), invoiceNumber: byLine.get(Number(line))?.invoice.invoiceNumber ?? "", reason })),
  );
  const now = (b: BatchState) => !b.doneBefore && !b.inFlight;
  const rowsIn = (bs: BatchState[]) => bs.reduce((n, b) => n + rowCount(b), 0);
  const summary = {
    file: path,
    sha256,
    stateFile: statePath,
    signer,
    resumed,
    rows: { total: checked.rows.length, valid: good.length, bad: bad.length },
    invoices: {
      submitted: rowsIn(state.batches.filter((b) => now(b) && ["submitted", "confirmed", "failed"].includes(b.status))),
      skipped: skippedRows,
      /** Signed or posted by an interrupted run and completed by this one (the same signed act, not sent twice). */
      resumedInFlight: rowsIn(state.batches.filter((b) => b.inFlight)),
      refused: refused.length,
      confirmed: rowsIn(state.batches.filter((b) => b.status === "confirmed")),
      pending: rowsIn(state.batches.filter((b) => b.status === "submitted")),
      failed: rowsIn(state.batches.filter((b) => b.status === "failed")),
      documentsUploaded: uploaded,
      documentsNotUploaded: uploadFailures.length,
    },
    batches: {
      total: state.batches.length,
      skipped: skippedBatches.length,
      resumedInFlight: state.batches.filter((b) => b.inFlight).length,
      confirmed: state.batches.filter((b) => b.status === "confirmed").length,
      pending: state.batches.filter((b) => b.status === "submitted").length,
      failed: state.batches.filter((b) => b.status === "failed").length,
      refused: state.batches.filter((b) => b.status === "refused").length,
    },
    bad: bad.map((b) => ({ line: b.line, invoiceNumber: b.invoiceNumber, reasons: b.reasons })),
    refused,
    failed: state.batches.filter((b) => b.status === "failed").map((b) => ({ batch: b.index, lines: b.sentLines, reason: b.reason, actId: b.actId })),
    documentUploadFailures: uploadFailures,
    receivables: state.batches.flatMap((b) =>
      b.status === "confirmed" && b.sentLines && b.receivableIds
        ? b.sentLines.map((l, i) => ({ line: l, invoiceNumber: byLine.get(l)?.invoice.invoiceNumber, receivableId: b.receivableIds![i], amount: byLine.get(l)?.invoice.amount }))
        : [],
    ),
  };
  if (o.json) printJson(summary);
  else {
    if (refused.length) {
      process.stdout.write("Refused by the service:\n");
      table(["line", "invoice", "reason"], refused.map((r) => [r.line, r.invoiceNumber, r.reason]));
    }
    const total = summary.receivables.reduce((s, r) => s + BigInt(r.amount ?? "0"), 0n);
    table(
      ["rows in file", "bad rows", "submitted now", "skipped (done before)", "resumed in flight", "refused", "confirmed", "pending", "failed"],
      [[summary.rows.total, summary.rows.bad, summary.invoices.submitted, summary.invoices.skipped, summary.invoices.resumedInFlight, summary.invoices.refused, summary.invoices.confirmed, summary.invoices.pending, summary.invoices.failed]],
    );
    process.stdout.write(`Confirmed on the ledger: ${summary.invoices.confirmed} invoice(s), ${fenToYuan(total)} yuan. State: ${statePath}\n`);
    if (summary.invoices.pending) process.stdout.write("Some batches are still pending: run the same command again to follow them.\n");
    if (uploaded) process.stdout.write(`Uploaded ${uploaded} invoice document(s).\n`);
    for (const f of uploadFailures) {
      process.stdout.write(`Line ${f.line}: the invoice is on the ledger but its document ${f.file} was not uploaded (${f.reason}); run the same command again to retry.\n`);
    }
  }
  if (summary.batches.failed) return EXIT.ACT_FAILED;
  if (bad.length || refused.length) return EXIT.REFUSED;
  return EXIT.OK;
}
