/**
 * `scf apply`, `applications`, `approve`, `reject`: membership of the permissioned ledger. An
 * applicant sends its legal identity and KYC documents (screened at once); a compliance officer
 * approves, which registers the member on-chain, or rejects with a reason the applicant sees.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { checkedAddress } from "../lib/args";
import { api, pages, type Api, type Opts } from "../lib/context";
import { CliError, EXIT, usage } from "../lib/errors";
import { day, printJson, record, table } from "../lib/output";
import type { Application } from "../../../shared/api-types";

function showApplication(o: Opts, a: Application): void {
  if (o.json) return printJson(a);
  record([
    ["application", a.id],
    ["applicant", a.applicant],
    ["legal name", a.legalName],
    ["entity id", `${a.entityIdType} ${a.entityId}`],
    ["jurisdiction", a.jurisdiction],
    ["roles", a.roles.join(", ")],
    ["status", a.status],
    ["screening", a.screeningResult],
    ["decision reason", a.decisionReason],
    ["tx", a.txHash],
  ]);
  const notable = a.checks.filter((c) => c.result !== "pass");
  if (notable.length) table(["check", "result", "reason"], notable.map((c) => [c.code, c.result, c.reason]));
}

export async function apply(o: Opts): Promise<number> {
  const id = String(o.entityId).trim().toUpperCase();
  const type = (o.entityIdType ?? (id.length === 20 ? "LEI" : "USCC")).toUpperCase();
  if (type !== "LEI" && type !== "USCC") throw usage("--entity-id-type must be USCC or LEI");
  const roles = String(o.roles).split(",").map((r) => r.trim().toLowerCase()).filter(Boolean);
  const bad = roles.filter((r) => !["supplier", "buyer", "financier", "auditor"].includes(r));
  if (!roles.length || bad.length) throw usage(`--roles must list supplier, buyer, financier or auditor (got ${bad.join(", ") || "nothing"})`);
  const form = new FormData();
  form.append("legalName", o.legalName);
  form.append("entityIdType", type);
  form.append("entityId", id);
  form.append("jurisdiction", String(o.jurisdiction).trim().toUpperCase());
  form.append("roles", roles.join(","));
  const docs: string[] = o.document ?? [];
  if (docs.length > 10) throw usage("At most 10 documents.");
  for (const f of docs) {
    if (!existsSync(f)) throw usage(`No such file: ${f}`);
    form.append("documents", new Blob([readFileSync(f)]), basename(f));
  }
  const res = await api(o).request<Application>("POST", "/onboarding/applications", { form });
  showApplication(o, res.body);
  if (o.json) return EXIT.OK;
  if (["submitted", "needs_review"].includes(res.body.status)) process.stdout.write(`\nA compliance officer decides next (scf approve ${res.body.id}).\n`);
  else if (res.body.status === "rejected") {
    process.stdout.write("\nThe application was rejected; fix what the checks name and apply again.\n");
    return EXIT.REFUSED;
  }
  return EXIT.OK;
}

export async function applications(o: Opts): Promise<number> {
  const p = await pages<Application>(api(o), "/onboarding/applications", { status: o.status }, !!o.all);
  if (o.json) printJson(p);
  else {
    table(["id", "applicant", "legal name", "roles", "status", "screening", "created"], p.items.map((a) => [a.id, a.applicant, a.legalName, a.roles.join(","), a.status, a.screeningResult, day(a.createdAt)]));
    if (p.nextCursor) process.stdout.write("More: add --all\n");
  }
  return EXIT.OK;
}

function uuid(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw usage(`application id "${id}" must be a UUID (see scf applications)`);
  return id;
}

/**
 * An application named by its id, or by its applicant's address: that address's open application
 * (submitted or needs review), found in the officer's queue.
 */
async function applicationRef(a: Api, ref: string): Promise<string> {
  if (!/^0x/i.test(ref.trim())) return uuid(ref);
  const applicant = await checkedAddress(ref, "applicant address");
  const open: Application[] = [];
  for (const status of ["submitted", "needs_review"]) {
    open.push(...(await pages<Application>(a, "/onboarding/applications", { status }, true)).items.filter((x) => x.applicant === applicant));
  }
  if (!open.length) throw new CliError(`${applicant} has no application awaiting a decision (scf applications lists them).`, EXIT.REFUSED);
  return open[0].id;
}

export async function approve(o: Opts, ref: string): Promise<number> {
  const body = o.kycDays !== undefined ? { kycValidityDays: Number(o.kycDays) } : {};
  const a = api(o);
  const id = await applicationRef(a, ref);
  const res = await a.post<Application>(`/onboarding/applications/${id}/approve`, body, { query: { wait: o.wait ? "true" : undefined } });
  showApplication(o, res.body);
  if (res.body.status === "failed") return EXIT.ACT_FAILED;
  return EXIT.OK;
}

export async function reject(o: Opts, ref: string): Promise<number> {
  const a = api(o);
  const res = await a.post<Application>(`/onboarding/applications/${await applicationRef(a, ref)}/reject`, { reason: o.reason });
  showApplication(o, res.body);
  return EXIT.OK;
}
