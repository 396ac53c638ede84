/**
 * API replicas on PostgreSQL (docs/DEPLOYMENT.md section 5), the compiled service in its own
 * processes behind a round-robin balancer (test/support/balancer.ts), on a hardhat node mining
 * every 200 ms:
 *   npm run bench -- --only replicas
 * 1. The cross-process wake: the same single tokenisation, signed, posted with ?wait=true to an API
 *    replica, timed from the signed POST to its confirmed answer. Two replica sets run side by side,
 *    one with OUTBOX_NOTIFY=false (the worker finds the row at its idle poll, SENDER_IDLE_POLL_MS
 *    1000: before) and one with NOTIFY/LISTEN (after), the acts alternating between them.
 * 2. The 1,000-tokenisation run of test/platform/replicas.test.ts (18 batches of 50 and 100 single
 *    acts from 8 suppliers, through the balancer over two replicas), without the kill: from the
 *    first POST to every act confirmed.
 * 3. Read throughput: one replica against two, each behind the balancer (so both pay the same
 *    hop), the same query mix (a supplier's receivable list and its receivables one by one) with
 *    autocannon, alternated twice. On a 2-core machine that also runs the worker, the chain and the
 *    clients, a second replica has little idle CPU to add; the figure says how much.
 */
import autocannon from "autocannon";
import { formatInt, machineDescription, markdownTable, writeBenchmarkSection } from "../lib/bench-doc";
import { startChain } from "../../test/support/chain";
import { startBalancer } from "../../test/support/balancer";
import { signTokenisation, startReplicaSet, tokenise, type ReplicaSet } from "../../test/support/replicas";
import { followAct, type Act } from "../../shared/client";
import { commandLine, intFlag, loadNote, machineBusy, nowSeconds } from "./common";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const LOAD = { batches: 18, batchSize: 50, singles: 100 };
const BENCH_ENV = { THROTTLE_LIMIT: "100000000" };

interface Rate {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];

/** Signed POST ?wait=true of one fresh invoice to `set`'s first replica: milliseconds to the confirmed answer. */
async function wakeLatency(set: ReplicaSet): Promise<number> {
  const key = set.suppliers[0];
  const api = await set.session(key, set.replicas[0].url);
  const { path, body } = await signTokenisation(api, key, [set.invoice(key)]);
  const t0 = nowSeconds();
  const res = await api.request<Act>("POST", path, { body, query: { wait: true } });
  const ms = (nowSeconds() - t0) * 1000;
  if (res.status !== 202 || res.body.status !== "confirmed") throw new Error(`${path}?wait=true: ${res.status} ${JSON.stringify(res.body)}`);
  return ms;
}

async function readRate(url: string, token: string, paths: string[], seconds: number, connections: number): Promise<Rate> {
  let i = 0;
  let errors = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        timeout: 30,
        headers: { authorization: `Bearer ${token}` },
        requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on("response", (_client, status: number) => {
      if (status !== 200) errors++;
    });
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: errors + result.errors + result.timeouts };
}

export async function benchReplicas(flags: Map<string, string>): Promise<void> {
  const acts = intFlag(flags, "latency-acts", 12);
  const seconds = intFlag(flags, "seconds", 10);
  const connections = intFlag(flags, "connections", 16);
  const busy = await machineBusy();
  const started = new Date();
  const chain = await startChain({ intervalMs: 200 });
  const sets: ReplicaSet[] = [];
  try {
    // 1. Wake latency, poll (before) and NOTIFY (after) alternating.
    console.log("replicas: starting two replica sets (idle poll, NOTIFY) …");
    const poll = await startReplicaSet(chain, { replicas: 1, suppliers: 1, prefix: "scf_bench_replicas_poll", redisUrl: REDIS_URL, env: { ...BENCH_ENV, OUTBOX_NOTIFY: "false" } });
    sets.push(poll);
    const notify = await startReplicaSet(chain, { replicas: 2, suppliers: 8, prefix: "scf_bench_replicas", redisUrl: REDIS_URL, env: BENCH_ENV });
    sets.push(notify);
    await wakeLatency(poll); // warm-up: first sign-in, first act of each
    await wakeLatency(notify);
    const lat = { poll: [] as number[], notify: [] as number[] };
    for (let i = 0; i < acts; i++) {
      lat.poll.push(await wakeLatency(poll));
      lat.notify.push(await wakeLatency(notify));
    }
    console.log(`replicas: signed POST -> confirmed, idle poll median ${pct(lat.poll, 0.5).toFixed(0)} ms, NOTIFY median ${pct(lat.notify, 0.5).toFixed(0)} ms`);
    await poll.destroy();
    sets.shift();

    // 2. 1,000 tokenisations through the balancer over two replicas.
    const clients = await Promise.all(notify.suppliers.map((s) => notify.session(s)));
    const t0 = nowSeconds();
    const { accepted, refused } = await tokenise(notify, clients, LOAD);
    const acceptedS = nowSeconds() - t0;
    const finals = await Promise.all(accepted.map((a) => followAct(clients[a.supplier], a.act.id, 300_000)));
    const runS = nowSeconds() - t0;
    const confirmed = finals.filter((f) => f.status === "confirmed");
    const invoices = confirmed.reduce((n, f) => n + accepted.find((a) => a.act.id === f.id)!.invoices.length, 0);
    console.log(`replicas: ${invoices} invoices confirmed (${refused.length} refused) in ${runS.toFixed(1)} s, all accepted after ${acceptedS.toFixed(1)} s`);

    // 3. Reads: one replica vs two, each behind a balancer, alternating.
    const reader = clients[0];
    const mine = (await reader.get<{ items: { id: string }[] }>("/receivables", { limit: 100 })).items.map((r) => r.id);
    const paths = ["/receivables?limit=20", ...mine.slice(0, 50).map((id) => `/receivables/${id}`)];
    const one = await startBalancer([notify.replicas[0].url]);
    const two = notify.lb;
    const reads = { one: [] as Rate[], two: [] as Rate[] };
    try {
      await readRate(two.url, reader.token!, paths, 3, connections); // warm-up
      for (let round = 0; round < 2; round++) {
        reads.one.push(await readRate(one.url, reader.token!, paths, seconds, connections));
        reads.two.push(await readRate(two.url, reader.token!, paths, seconds, connections));
      }
    } finally {
      await one.close();
    }
    const mean = (rs: Rate[], k: keyof Rate) => rs.reduce((s, r) => s + r[k], 0) / rs.length;
    console.log(`replicas: reads/s one replica ${mean(reads.one, "rps").toFixed(0)}, two ${mean(reads.two, "rps").toFixed(0)}`);

    const cmd = commandLine("replicas", {});
    const body = [
      "## API replicas on PostgreSQL (one worker, a round-robin balancer)",
      "",
      `\`${cmd}\` — ${started.toISOString().slice(0, 16)}Z, ${machineDescription()}. ${loadNote(busy)}`,
      "Everything runs on it at once: the hardhat",
      "node (a block every 200 ms), PostgreSQL, Redis, the worker, the replicas (the compiled service, one process each),",
      "the balancer and the clients.",
      "",
      "**Cross-process wake.** A single tokenisation, signed, posted with `?wait=true` to an API replica; from the signed",
      `POST to its confirmed answer, ${acts} acts each, alternating between a replica set whose worker finds replicas'`,
      "rows at its idle poll (`OUTBOX_NOTIFY=false`, `SENDER_IDLE_POLL_MS=1000`: before) and one whose replicas NOTIFY",
      "in the enqueueing transaction and whose worker LISTENs (after):",
      "",
      markdownTable(
        ["worker finds a replica's row", "median ms", "p90 ms", "max ms"],
        [
          ["idle poll (before)", pct(lat.poll, 0.5).toFixed(0), pct(lat.poll, 0.9).toFixed(0), pct(lat.poll, 1).toFixed(0)],
          ["NOTIFY / LISTEN (after)", pct(lat.notify, 0.5).toFixed(0), pct(lat.notify, 0.9).toFixed(0), pct(lat.notify, 1).toFixed(0)],
        ],
        ["l", "r", "r", "r"],
      ),
      "",
      "The rest of the time is the block period (200 ms), the relay's simulation and signing, and the replica's",
      "`?wait=true` poll of the act (50 ms).",
      "",
      `**1,000 tokenisations** (${LOAD.batches} batches of ${LOAD.batchSize} and ${LOAD.singles} single acts from 8 suppliers, each`,
      "supplier's acts one after another: unsigned POST, signing, signed POST) through the balancer over two replicas:",
      `${formatInt(invoices)} invoices confirmed in ${runS.toFixed(1)} s (${(invoices / runS).toFixed(0)} invoices/s), all`,
      `${accepted.length} acts accepted after ${acceptedS.toFixed(1)} s, ${refused.length} refused.`,
      "`test/platform/replicas.test.ts` runs the same load with the worker SIGKILLed halfway.",
      "",
      `**Reads**: the supplier's receivable list (\`limit=20\`) and 50 of its receivables one by one, cycled, ${connections}`,
      `connections, ${seconds} s per run, alternated twice, one replica behind the balancer against two:`,
      "",
      markdownTable(
        ["behind the balancer", "run", "requests/s", "p50 ms", "p99 ms", "non-200"],
        [
          ...reads.one.map((r, i) => ["one replica", String(i + 1), r.rps.toFixed(0), String(r.p50), String(r.p99), String(r.errors)]),
          ...reads.two.map((r, i) => ["two replicas", String(i + 1), r.rps.toFixed(0), String(r.p50), String(r.p99), String(r.errors)]),
        ],
        ["l", "r", "r", "r", "r", "r"],
      ),
      "",
      `Mean: one replica ${mean(reads.one, "rps").toFixed(0)} requests/s, two ${mean(reads.two, "rps").toFixed(0)} (×${(mean(reads.two, "rps") / mean(reads.one, "rps")).toFixed(2)}).`,
      "With two cores for everything, a second replica can only use CPU the first leaves idle while it waits on",
      "PostgreSQL and Redis; on hosts of their own, replicas add their own cores.",
    ].join("\n");
    writeBenchmarkSection("replicas", body);
    console.log(body);
  } finally {
    for (const s of sets) await s.destroy().catch(() => undefined);
    await chain.stop();
  }
}
