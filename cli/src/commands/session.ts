/**
 * `scf login`, `logout`, `whoami`: the Sign-In with Ethereum session of the chosen key. Other
 * commands sign in by themselves when needed; these make the session explicit and show what the
 * ledger lets the address do.
 */
import { api, chosenKey, type Opts } from "../lib/context";
import { EXIT } from "../lib/errors";
import { printJson, record, status } from "../lib/output";
import type { Me } from "../../../shared/api-types";

export async function login(o: Opts): Promise<number> {
  const a = api(o);
  const s = await a.login();
  if (o.json) printJson({ address: s.address, expiresAt: s.expiresAt, url: a.url });
  else process.stdout.write(`Signed in to ${a.url} as ${s.address} until ${s.expiresAt}.\n`);
  return EXIT.OK;
}

export async function logout(o: Opts): Promise<number> {
  const a = api(o);
  await a.request("POST", "/auth/logout", { accept: [401] }).catch(() => undefined);
  await a.logout();
  status(o.json, `Signed out ${chosenKey(o).address} from ${a.url}.`);
  return EXIT.OK;
}

export async function whoami(o: Opts): Promise<number> {
  const me = await api(o).get<Me>("/auth/me");
  if (o.json) printJson(me);
  else
    record([
      ["address", me.address],
      ["roles", me.roleNames.join(", ") || "none"],
      ["verified member", me.verifiedMember ? "yes" : "no"],
      ["compliance officer", me.complianceOfficer ? "yes" : "no"],
      ["access", me.access.join(", ") || "none (not a member yet: scf apply …)"],
    ]);
  return EXIT.OK;
}
