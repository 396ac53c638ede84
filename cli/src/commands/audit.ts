/**
 * `scf audit …`: what an auditor checks the ledger with. A receivable's on-chain history and split
 * tree, a recomputation of the service's records from the chain, and a streamed export.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { receivableId } from "../lib/args";
import { api, type Opts } from "../lib/context";
import { CliError, EXIT, usage } from "../lib/errors";
import { printJson, short, table, yuan } from "../lib/output";
import { receivableRef } from "../lib/receivables";
import type { LedgerEvent, LineageNode } from "../../../shared/api-types";

export async function auditHistory(o: Opts, id: string): Promise<number> {
  const a = api(o);
  const events = await a.get<LedgerEvent[]>(`/receivables/${await receivableRef(a, id)}/history`);
  if (o.json) printJson(events);
  else
    table(
      ["block", "time", "event", "actor", "signer (tx from)", "amount", "tx"],
      events.map((e) => {
        const amt = e.args.amount ?? e.args.faceValue ?? e.args.advance;
        return [e.blockNumber, e.time.replace(".000Z", "Z"), e.event, short(e.actor), short(e.txFrom), typeof amt === "string" ? yuan(amt) : "", short(e.txHash)];
      }),
    );
  return EXIT.OK;
}

/** The split tree as text lines with ├── └── connectors; `mark` flags one node. */
export function renderTree(root: LineageNode, mark?: string): string[] {
  const label = (n: LineageNode) =>
    `${short(n.id, 12)}  ${yuan(n.faceValue)} yuan  ${n.status}` +
    (n.visible ? `  outstanding ${yuan(n.outstanding)}${n.holder ? `  holder ${short(n.holder)}` : ""}` : "  (not a party: details withheld)") +
    (mark && n.id === mark ? "  ◀" : "");
  const out = [label(root)];
  const walk = (n: LineageNode, prefix: string) => {
    n.children.forEach((ch, i) => {
      const last = i === n.children.length - 1;
      out.push(`${prefix}${last ? "└── " : "├── "}${label(ch)}`);
      walk(ch, prefix + (last ? "    " : "│   "));
    });
  };
  walk(root, "");
  return out;
}

export async function auditLineage(o: Opts, id: string): Promise<number> {
  const a = api(o);
  const rid = await receivableRef(a, id);
  const tree = await a.get<LineageNode>(`/receivables/${rid}/lineage`);
  if (o.json) printJson(tree);
  else process.stdout.write(renderTree(tree, rid).join("\n") + "\n");
  return EXIT.OK;
}

export async function auditVerify(o: Opts): Promise<number> {
  const r = await api(o).get<{
    ok: boolean;
    checkpointBlock: number;
    logs: number;
    counts: Record<string, { expected: number; actual: number }>;
    differences: Array<{ table: string; key: string; field: string; expected: unknown; actual: unknown; source: string }>;
  }>("/audit/verify", { contracts: o.contracts ? "true" : undefined });
  if (o.json) printJson(r);
  else {
    table(["table", "from chain", "in database"], Object.entries(r.counts).map(([t, c]) => [t, c.expected, c.actual]));
    if (r.ok) process.stdout.write(`OK: the service's records match the chain up to block ${r.checkpointBlock} (${r.logs} logs read).\n`);
    else {
      process.stdout.write(`${r.differences.length} difference(s) between the service's records and the chain (block ${r.checkpointBlock}):\n`);
      table(["table", "key", "field", "chain", "database", "source"], r.differences.map((d) => [d.table, short(d.key, 20), d.field, String(d.expected), String(d.actual), d.source]));
    }
  }
  return r.ok ? EXIT.OK : EXIT.REFUSED;
}

export async function auditExport(o: Opts): Promise<number> {
  const format = String(o.format);
  if (format !== "csv" && format !== "json") throw usage("--format must be csv or json");
  const a = api(o);
  const dataset = String(o.dataset ?? "events");
  if (!["events", "payment-records", "reviews", "disputes"].includes(dataset)) throw usage("--dataset must be events, payment-records, reviews or disputes");
  const res = await a.stream("/audit/export", {
    format,
    dataset,
    receivableId: o.receivable ? receivableId(o.receivable) : undefined,
    member: o.member,
    type: o.type,
    from: o.from,
    to: o.to,
  });
  const { Readable, Transform } = await import("node:stream");
  const { pipeline } = await import("node:stream/promises");
  const { createWriteStream } = await import("node:fs");
  let bytes = 0;
  let newlines = 0;
  let bar: import("cli-progress").SingleBar | null = null;
  if (o.out && !o.json && process.stderr.isTTY) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SingleBar } = require("cli-progress") as typeof import("cli-progress");
    bar = new SingleBar({ stream: process.stderr, format: "Exporting: {rows} rows, {kb} KiB", hideCursor: true });
    bar.start(1, 0, { rows: 0, kb: 0 });
  }
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) newlines++;
      bar?.update(0, { rows: Math.max(0, newlines - 1), kb: (bytes / 1024).toFixed(1) });
      cb(null, chunk);
    },
  });
  if (o.out) mkdirSync(dirname(o.out), { recursive: true });
  const sink = o.out ? createWriteStream(o.out) : process.stdout;
  try {
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), counter, sink);
  } catch (e) {
    bar?.stop();
    throw new CliError(`The export was cut short (${(e as Error).message}); the file is incomplete. Run it again.`, EXIT.UNREACHABLE);
  }
  bar?.stop();
  // CSV: a header line then one line per event; JSON: "[", one line per event, "]".
  const rows = Math.max(0, newlines - (format === "csv" ? 1 : 2));
  const checkpoint = res.headers.get("x-ledger-checkpoint");
  if (o.out) {
    if (o.json) printJson({ file: o.out, format, dataset, rows, bytes, checkpointBlock: checkpoint ? Number(checkpoint) : null });
    else process.stdout.write(`Wrote ${rows} ${dataset === "events" ? "event(s)" : `${dataset} row(s)`}, ${bytes} bytes, to ${o.out} (ledger up to block ${checkpoint}).\n`);
  }
  return EXIT.OK;
}
/** --from / --to of a pack: block numbers (digits only) or ISO 8601 times, both of the same kind. */
function packPeriod(o: Opts): Record<string, string> {
  const from = String(o.from ?? "");
  const to = String(o.to ?? "");
  const blocks = /^\d+$/.test(from) && /^\d+$/.test(to);
  if (!blocks && (/^\d+$/.test(from) || /^\d+$/.test(to))) {
    throw usage("--from and --to must both be block numbers or both be ISO 8601 times (e.g. 2026-11-01 or 2026-11-01T00:00:00Z)");
  }
  return blocks ? { fromBlock: from, toBlock: to } : { from, to };
}

export async function auditPack(o: Opts): Promise<number> {
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const fmt = await import("../../../shared/export-pack-format");
  const query = packPeriod(o);
  const a = api(o);
  const { manifest, signature } = await a.get<{ manifest: import("../../../shared/export-pack-format").PackManifest; signature: unknown }>(
    "/audit/pack",
    query,
  );
  const out = String(o.out);
  mkdirSync(out, { recursive: true });
  for (const f of manifest.files) {
    const res = await a.stream(`/audit/pack/files/${encodeURIComponent(f.name)}`, query);
    const bytes = Buffer.from(await res.arrayBuffer());
    writeFileSync(join(out, f.name), bytes);
    if (fmt.sha256Hex(bytes) !== f.sha256) {
      throw new CliError(`${f.name} does not match the manifest's SHA-256 as downloaded; the pack in ${out} is incomplete. Run it again.`, EXIT.UNREACHABLE);
    }
  }
  // Written last: a directory with a manifest is a whole pack.
  writeFileSync(join(out, fmt.SIGNATURE_FILE), JSON.stringify(signature, null, 2) + "\n");
  writeFileSync(join(out, fmt.MANIFEST_FILE), fmt.canonicalJson(manifest));
  if (o.json) printJson({ dir: out, manifest });
  else {
    table(["file", "rows", "sha256"], manifest.files.map((f) => [f.name, f.rows, f.sha256]));
    process.stdout.write(`Wrote the pack for blocks ${manifest.blocks.first}-${manifest.blocks.last} to ${out}, signed by ${manifest.ledger.operator}.\n`);
  }
  return EXIT.OK;
}

export async function auditVerifyPack(o: Opts, dir: string): Promise<number> {
  const { verifyPackDir } = await import("../../../shared/export-pack-format");
  const check = verifyPackDir(dir, o.operator ? String(o.operator) : undefined);
  if (o.json) printJson({ ok: check.ok, signer: check.signer, problems: check.problems, files: check.manifest?.files ?? [] });
  else if (check.ok) {
    const m = check.manifest!;
    table(["file", "rows", "sha256"], m.files.map((f) => [f.name, f.rows, f.sha256]));
    process.stdout.write(
      `OK: every file matches the manifest, signed by the ledger's operator ${check.signer} (chain ${m.ledger.chainId}, blocks ${m.blocks.first}-${m.blocks.last}). ` +
        `Check that this is the operator of the ledger you expect (deployment record, or the registry's ONBOARDING_OPERATOR role).\n`,
    );
  } else process.stdout.write(`The pack in ${dir} does not check out:\n${check.problems.map((p) => `  ${p}\n`).join("")}`);
  return check.ok ? EXIT.OK : EXIT.REFUSED;
}

