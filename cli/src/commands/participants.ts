/**
 * `scf participants`: find ledger members by what you know of them — the legal name, the tax id an
 * invoice prints, or the address. Without an option: yourself (compliance officers and auditors:
 * every member). A name or address is looked up among your counterparties (auditors and compliance
 * officers: everyone); a tax id finds any member, since it is what an invoice names.
 */
import { checkedAddress } from "../lib/args";
import { api, pages, type Opts } from "../lib/context";
import { EXIT, usage } from "../lib/errors";
import { day, printJson, table } from "../lib/output";
import type { Participant } from "../../../shared/api-types";

export async function participants(o: Opts): Promise<number> {
  const given = [o.name, o.taxId, o.address].filter((v) => v !== undefined);
  if (given.length > 1) throw usage("Give one of --name, --tax-id or --address.");
  const query = {
    name: o.name,
    taxId: o.taxId,
    address: o.address !== undefined ? await checkedAddress(o.address, "--address") : undefined,
    status: o.status,
  };
  const p = await pages<Participant>(api(o), "/participants", query, !!o.all);
  if (o.json) printJson(p);
  else {
    table(
      ["address", "legal name", "tax id", "roles", "status", "KYC until", "jurisdiction"],
      p.items.map((m) => [
        m.address,
        m.legalName ?? "—",
        m.entityId ? `${m.entityIdType} ${m.entityId}` : "—",
        m.roles.join(","),
        m.verified ? "verified" : m.status,
        day(m.kycExpiry),
        m.jurisdiction,
      ]),
    );
    if (!p.items.length) process.stdout.write("No member found (a name or address is looked up among your counterparties; a tax id among all members).\n");
    if (p.nextCursor) process.stdout.write("More: add --all\n");
  }
  return p.items.length || given.length === 0 ? EXIT.OK : EXIT.REFUSED;
}
