/**
 * `scf act`: the state of one signed act (pending, confirmed, failed), e.g. one sent with --no-wait
 * or still pending when its command stopped waiting.
 */
import { followAct, type Act } from "../../../shared/client";
import { api, type Opts } from "../lib/context";
import { EXIT } from "../lib/errors";
import { printJson, record } from "../lib/output";

export async function actShow(o: Opts, id: string): Promise<number> {
  const a = api(o);
  const act = o.wait ? await followAct(a, id) : await a.get<Act>(`/acts/${id}`);
  if (o.json) printJson(act);
  else
    record([
      ["act", act.id],
      ["kind", act.kind],
      ["status", act.status],
      ["signer", act.signer],
      ["receivable", act.receivableId],
      ["tx", act.txHash],
      ["block", act.blockNumber],
      ["failure", act.failureReason],
    ]);
  return act.status === "failed" ? EXIT.ACT_FAILED : EXIT.OK;
}
