/**
 * Bulk seeding of the query-latency benchmark database: the production schema
 * (the service's own migrations) filled in the shape the indexer writes, generated inside
 * PostgreSQL with generate_series / INSERT … SELECT. Deterministic: every "random" draw is a hash
 * of the row number, so the same flags give the same database.
 *
 * Shape (see projector.ts and ledger-log.ts for what the indexer writes):
 * - members: suppliers, supplier+buyers, buyers, financiers, auditors; EIP-55 addresses of keys
 *   derived from a fixed phrase, so the benchmark can sign in as any of them.
 * - receivables: originals tokenised over ~20 months, due 30-180 days later (due dates over two
 *   years); sellers drawn with a Zipf-like skew (a few suppliers hold ~10-25k receivables), debtors
 *   skewed too; statuses issued / accepted / financed / paid / defaulted / cancelled; one original
 *   in 25 is split in two (children may pass to a tier-2 supplier), one in 100 has its first child
 *   split again (three-level trees). Amounts are the 20-digit zero-padded strings of the schema.
 * - ledger_events: one transaction per act (tokenise, accept, cancel, financing request/approval,
 *   payment, default, split, transfer, settlement payments, registrations), four transactions per
 *   block, events with the decoded arguments, actor, receivable id and line id the decoder sets;
 *   blocks, tx hashes and log indexes consistent and unique; block times increase with the block.
 * - ledger_event_parties: every non-zero address argument of each event (eventParties()).
 * - financings, credit_lines, payments, indexer_state consistent with the events.
 */
import { keccak256, toUtf8Bytes, computeAddress, getAddress } from "ethers";
import type { DataSource, QueryRunner } from "typeorm";

export const ZERO = "0x0000000000000000000000000000000000000000";
const TX_PER_BLOCK = 4;
const FIRST_BLOCK = 1_000;
const DAY = 86_400;

export interface SeedShape {
  receivables: number;
  events: number;
  members: number;
}

export interface SeedResult {
  receivables: number;
  events: number;
  parties: number;
  members: number;
  financings: number;
  payments: number;
  /** Seconds spent per step. */
  steps: Array<{ step: string; seconds: number }>;
  seconds: number;
}

export interface BenchMember {
  idx: number;
  privateKey: string;
  address: string;
  roles: number;
}

/** Member layout by index (fractions of the member count). */
export function memberLayout(k: number) {
  const s0 = 0;
  const sb0 = Math.floor(0.5 * k); // supplier + buyer
  const b0 = Math.floor(0.65 * k); // buyers
  const f0 = Math.floor(0.9 * k); // financiers
  const a0 = Math.floor(0.99 * k); // auditors
  return {
    sellers: { from: s0, n: b0 }, // suppliers and supplier+buyers
    debtors: { from: sb0, n: f0 - sb0 }, // supplier+buyers and buyers
    financiers: { from: f0, n: a0 - f0 },
    auditors: { from: a0, n: k - a0 },
    roles(i: number): number {
      if (i < sb0) return 1;
      if (i < b0) return 3;
      if (i < f0) return 2;
      if (i < a0) return 4;
      return 8;
    },
  };
}

export function benchMembers(k: number): BenchMember[] {
  const layout = memberLayout(k);
  const out: BenchMember[] = [];
  for (let i = 0; i < k; i++) {
    const privateKey = keccak256(toUtf8Bytes(`scf-bench-query-member-${i}`));
    out.push({ idx: i, privateKey, address: computeAddress(privateKey), roles: layout.roles(i) });
  }
  return out;
}

const CONTRACTS = {
  ParticipantRegistry: getAddress("0x" + keccak256(toUtf8Bytes("bench ParticipantRegistry")).slice(26)),
  SettlementToken: getAddress("0x" + keccak256(toUtf8Bytes("bench SettlementToken")).slice(26)),
  Receivables: getAddress("0x" + keccak256(toUtf8Bytes("bench Receivables")).slice(26)),
  Financing: getAddress("0x" + keccak256(toUtf8Bytes("bench Financing")).slice(26)),
};
const OPERATOR = getAddress("0x" + keccak256(toUtf8Bytes("bench operator")).slice(26));

/** Originals N0 such that originals + split children + grandchildren is closest to `target`. */
export function originalsFor(target: number): number {
  const total = (n: number) => n + 2 * Math.floor(n / 25) + 2 * Math.floor(n / 100);
  let n = Math.floor(target / 1.1);
  while (total(n) < target) n++;
  while (n > 1 && total(n) > target) n--;
  return n;
}

const BIG_TABLES = ["receivables", "ledger_events", "ledger_event_parties", "financings", "payments", "credit_lines", "members"];

/**
 * Fills an empty, migrated database. `now` (unix seconds) is the time of the last block.
 */
export async function seedDatabase(
  ds: DataSource,
  shape: SeedShape,
  members: BenchMember[],
  now: number,
  log: (s: string) => void,
): Promise<SeedResult> {
  const t0 = Date.now();
  const steps: SeedResult["steps"] = [];
  const qr = ds.createQueryRunner();
  await qr.connect();
  const step = async (name: string, sqls: string | string[]) => {
    const s = Date.now();
    for (const sql of Array.isArray(sqls) ? sqls : [sqls]) await qr.query(sql);
    const sec = (Date.now() - s) / 1000;
    steps.push({ step: name, seconds: sec });
    log(`seed: ${name} ${sec.toFixed(1)} s`);
  };
  try {
    await qr.query("SET synchronous_commit = off");
    await qr.query("SET work_mem = '256MB'");
    await qr.query("SET maintenance_work_mem = '1GB'");
    await qr.query("SET max_parallel_maintenance_workers = 2");

    // Indexes and primary keys are dropped for the load and rebuilt from their own definitions.
    const idx = (await qr.query(
      `SELECT i.indexname AS name, i.indexdef AS def, c.conname AS con, c.conrelid::regclass::text AS tbl, pg_get_constraintdef(c.oid) AS condef
         FROM pg_indexes i LEFT JOIN pg_constraint c ON c.conname = i.indexname AND c.contype = 'p'
        WHERE i.schemaname = 'public' AND i.tablename = ANY($1)`,
      [BIG_TABLES],
    )) as Array<{ name: string; def: string; con: string | null; tbl: string; condef: string | null }>;
    await step("drop indexes for the load", [
      ...idx.filter((i) => i.con).map((i) => `ALTER TABLE ${i.tbl} DROP CONSTRAINT "${i.con}"`),
      ...idx.filter((i) => !i.con).map((i) => `DROP INDEX "${i.name}"`),
    ]);

    await qr.query(
      `CREATE FUNCTION pg_temp.u(i bigint, s int) RETURNS float8 AS
         $$ SELECT (hashint8(i * 131 + s) & 2147483647)::float8 / 2147483648.0 $$ LANGUAGE sql IMMUTABLE`,
    );
    const L = memberLayout(shape.members);
    const n0 = originalsFor(shape.receivables);
    const span = 730 * DAY;
    const T0 = now - span;

    await step("members", [
      "CREATE TEMP TABLE mem (idx int PRIMARY KEY, address text NOT NULL, roles int NOT NULL)",
      ...chunks(members, 500).map(
        (c) => `INSERT INTO mem VALUES ${c.map((m) => `(${m.idx}, '${m.address}', ${m.roles})`).join(",")}`,
      ),
      `INSERT INTO members (address, roles, status, kyc_expiry, jurisdiction, entity_id_hash, suspension_reason, registered_block, updated_block)
       SELECT address, roles, 'active', ${now + 2 * 365 * DAY}, 'CN', '0x' || md5('entity' || idx) || md5('ENTITY' || idx), NULL, ${FIRST_BLOCK}, ${FIRST_BLOCK}
         FROM mem`,
    ]);

    // --- receivable nodes: originals, split children, grandchildren ---
    const sel = (col: string, salt: number, p: number, r: { from: number; n: number }) =>
      `${r.from} + least(floor(${r.n} * pg_temp.u(${col}, ${salt}) ^ ${p})::int, ${r.n - 1})`;
    await step("receivable nodes", [
      `CREATE TEMP TABLE o AS
       SELECT i::bigint AS n,
              ${sel("i", 1, 2.0, L.sellers)} AS s,
              ${sel("i", 2, 1.5, L.debtors)} AS d0,
              ${sel("i", 3, 1, L.financiers)} AS f,
              ${T0} + floor(pg_temp.u(i, 4) * ${600 * DAY})::bigint AS tc,
              30 + floor(pg_temp.u(i, 5) * 150)::int AS due_days,
              floor(exp(ln(10000) + pg_temp.u(i, 6) * (ln(100000000) - ln(10000))))::bigint AS face,
              pg_temp.u(i, 7) AS us, pg_temp.u(i, 8) AS uf
         FROM generate_series(1, ${n0}) i`,
      // A seller is never its own debtor.
      `CREATE TEMP TABLE nodes AS
       SELECT n, 0 AS lvl, NULL::bigint AS parent_n, s AS seller,
              CASE WHEN d0 = s THEN ${L.debtors.from} + ((d0 - ${L.debtors.from} + 1) % ${L.debtors.n}) ELSE d0 END AS debtor,
              s AS owner, f AS fin, tc, tc + due_days * ${DAY} AS due, face, st AS status,
              (st = 'financed' OR (st = 'paid' AND uf < 0.4)) AS financed
         FROM (SELECT *, CASE WHEN n % 25 = 0 THEN 'split' WHEN us < 0.08 THEN 'issued' WHEN us < 0.38 THEN 'accepted'
                             WHEN us < 0.55 THEN 'financed' WHEN us < 0.91 THEN 'paid' WHEN us < 0.94 THEN 'defaulted'
                             ELSE 'cancelled' END AS st FROM o) x`,
      // Children: minted to the parent's holder (its seller) 4 days after creation; half are passed
      // to a tier-2 supplier; the first child of one original in 100 is split again.
      `INSERT INTO nodes
       SELECT c.n, 1, p.n, p.owner, p.debtor,
              CASE WHEN pg_temp.u(c.n, 9) < 0.5 AND t2 <> p.owner THEN t2 ELSE p.owner END,
              ${sel("c.n", 12, 1, L.financiers)}, p.tc + 4 * ${DAY}, p.due,
              CASE WHEN c.k = 1 THEN p.face * 6 / 10 ELSE p.face - p.face * 6 / 10 END,
              CASE WHEN c.k = 1 AND p.n % 100 = 0 THEN 'split' WHEN pg_temp.u(c.n, 11) < 0.2 THEN 'financed' ELSE 'accepted' END,
              NOT (c.k = 1 AND p.n % 100 = 0) AND pg_temp.u(c.n, 11) < 0.2
         FROM nodes p
         CROSS JOIN LATERAL (SELECT 10000000000 + p.n * 4 + k AS n, k FROM generate_series(1, 2) k) c
         CROSS JOIN LATERAL (SELECT ${sel("c.n", 10, 1, L.sellers)} AS t2) t
        WHERE p.status = 'split'`,
      `INSERT INTO nodes
       SELECT 20000000000 + p.n * 4 + k, 2, p.n, p.owner, p.debtor, p.owner, p.fin, p.tc + 2 * ${DAY}, p.due,
              CASE WHEN k = 1 THEN p.face / 2 ELSE p.face - p.face / 2 END, 'accepted', false
         FROM nodes p CROSS JOIN generate_series(1, 2) k
        WHERE p.lvl = 1 AND p.status = 'split'`,
      // Ids: 4 × 60 bits of md5, as hex (stored form) and decimal (the event arguments' form).
      `CREATE TEMP TABLE ids AS
       SELECT n, '0x' || lpad(to_hex(a), 16, '0') || lpad(to_hex(b), 16, '0') || lpad(to_hex(c), 16, '0') || lpad(to_hex(d), 16, '0') AS hex,
              (a::numeric * ${(2n ** 192n).toString()} + b::numeric * ${(2n ** 128n).toString()} + c::numeric * ${(2n ** 64n).toString()} + d::numeric)::text AS dec
         FROM (SELECT n, ('x' || substr(m1, 1, 15))::bit(60)::bigint AS a, ('x' || substr(m1, 16, 15))::bit(60)::bigint AS b,
                      ('x' || substr(m2, 1, 15))::bit(60)::bigint AS c, ('x' || substr(m2, 16, 15))::bit(60)::bigint AS d
                 FROM (SELECT n, md5('rid' || n) AS m1, md5('RID' || n) AS m2 FROM nodes) z) y`,
      "CREATE TEMP TABLE nx AS SELECT x.*, i.hex, i.dec, ps.address AS sa, pd.address AS da, po.address AS oa, pf.address AS fa, '0x' || md5('doc' || x.n) || md5('DOC' || x.n) AS doc, x.fin - " +
        `${L.financiers.from} + 1 AS line
         FROM nodes x JOIN ids i USING (n) JOIN mem ps ON ps.idx = x.seller JOIN mem pd ON pd.idx = x.debtor
         JOIN mem po ON po.idx = x.owner JOIN mem pf ON pf.idx = x.fin`,
      "CREATE UNIQUE INDEX ON nx (n)",
      "CREATE INDEX ON nx (parent_n)",
      "ANALYZE nx",
    ]);

    // --- acts (one transaction each), in time order ---
    // kinds: 1 tokenise, 2 accept, 3 cancel, 4 financing request, 5 approval, 6 payment, 7 default,
    // 8 split, 9 transfer to a tier-2 supplier, 10 settlement transfer, 11 member registration.
    await step("acts", [
      `CREATE TEMP TABLE acts0 AS
       SELECT n, 1::smallint AS kind, tc AS t FROM nx WHERE lvl = 0
       UNION ALL SELECT n, 2, tc + ${DAY} FROM nx WHERE lvl = 0 AND status NOT IN ('issued', 'cancelled')
       UNION ALL SELECT n, 3, tc + ${DAY} FROM nx WHERE status = 'cancelled'
       UNION ALL SELECT n, 4, tc + 2 * ${DAY} + 600 FROM nx WHERE financed
       UNION ALL SELECT n, 5, tc + 3 * ${DAY} FROM nx WHERE financed
       UNION ALL SELECT n, 6, due FROM nx WHERE status = 'paid'
       UNION ALL SELECT n, 7, due + ${DAY} FROM nx WHERE status = 'defaulted'
       UNION ALL SELECT n, 8, CASE WHEN lvl = 0 THEN tc + 4 * ${DAY} ELSE tc + 2 * ${DAY} END FROM nx WHERE status = 'split'
       UNION ALL SELECT n, 9, tc + ${DAY} + 1200 FROM nx WHERE lvl = 1 AND owner <> seller
       UNION ALL SELECT -idx - 1, 11, ${T0} - 86400 + idx FROM mem`,
    ]);
    const [{ c: lifecycle }] = (await qr.query(
      `SELECT (SELECT count(*) FROM acts0 WHERE kind = 1) * 2 + (SELECT count(*) FROM acts0 WHERE kind IN (2, 4, 7, 9, 11))
            + (SELECT count(*) FROM acts0 WHERE kind = 3) * 2 + (SELECT count(*) FROM acts0 WHERE kind = 5) * 4
            + (SELECT count(*) FROM nx WHERE status = 'paid') * 2 + (SELECT count(*) FROM nx WHERE status = 'paid' AND financed)
            + (SELECT count(*) FROM acts0 WHERE kind = 8) + (SELECT count(*) FROM nx WHERE lvl > 0) * 2 AS c`,
    )) as Array<{ c: string }>;
    const filler = Math.max(0, shape.events - Number(lifecycle));
    await step(`settlement transfers (${filler})`, [
      `INSERT INTO acts0 SELECT -1000000 - j, 10, ${T0} + floor(pg_temp.u(-j, 20) * ${span - DAY})::bigint FROM generate_series(1, ${filler}) j`,
      `CREATE TEMP TABLE acts AS SELECT n, kind, row_number() OVER (ORDER BY t, n, kind) - 1 AS g FROM acts0`,
      "CREATE INDEX ON acts (n, kind)",
      "ANALYZE acts",
    ]);
    const [{ blocks }] = (await qr.query(`SELECT max(g) / ${TX_PER_BLOCK} + 1 AS blocks FROM acts`)) as Array<{ blocks: string }>;
    const period = Math.max(1, Math.floor(span / Number(blocks)));
    const startTime = now - Number(blocks) * period;

    // --- events: one SELECT per (act kind, log position) ---
    const q = (s: string) => `'"' || ${s} || '"'`;
    const obj = (pairs: Array<[string, string]>) =>
      `'{' || ${pairs.map(([k, v]) => `'"${k}":' || ${q(v)}`).join(" || ',' || ")} || '}'`;
    const lit = (s: string) => `'${s}'`;
    const branches: string[] = [];
    const ev = (
      kind: number,
      k: string | number,
      contract: keyof typeof CONTRACTS,
      name: string,
      args: Array<[string, string]>,
      o: { from: string; actor: string | null; rid: string | null; line?: string; where?: string; join?: string },
    ) => {
      branches.push(
        `SELECT a.g, ${k} AS k, '${contract}' AS contract, '${name}' AS name, ${obj(args)} AS args, ${o.from} AS tx_from,
                ${o.actor ?? "NULL"} AS actor, ${o.rid ?? "NULL"} AS rid, ${o.line ?? "NULL::int"} AS line
           FROM acts a ${o.join ?? "JOIN nx x ON x.n = a.n"} WHERE a.kind = ${kind}${o.where ? ` AND ${o.where}` : ""}`,
      );
    };
    const dec = (s: string) => `(${s})::text`;
    // 1 tokenise: ERC-721 mint Transfer, then ReceivableTokenised
    ev(1, 0, "Receivables", "Transfer", [["from", lit(ZERO)], ["to", "x.sa"], ["tokenId", "x.dec"]], { from: "x.sa", actor: null, rid: "x.hex" });
    ev(1, 1, "Receivables", "ReceivableTokenised",
      [["id", "x.dec"], ["seller", "x.sa"], ["debtor", "x.da"], ["faceValue", dec("x.face")], ["dueDate", dec("x.due")], ["documentHash", "x.doc"]],
      { from: "x.sa", actor: "x.sa", rid: "x.hex" });
    ev(2, 0, "Receivables", "ReceivableAccepted", [["id", "x.dec"], ["debtor", "x.da"]], { from: "x.da", actor: "x.da", rid: "x.hex" });
    ev(3, 0, "Receivables", "Transfer", [["from", "x.sa"], ["to", lit(ZERO)], ["tokenId", "x.dec"]], { from: "x.sa", actor: "x.sa", rid: "x.hex" });
    ev(3, 1, "Receivables", "ReceivableCancelled", [["id", "x.dec"], ["seller", "x.sa"]], { from: "x.sa", actor: "x.sa", rid: "x.hex" });
    ev(4, 0, "Financing", "FinancingRequested", [["receivableId", "x.dec"], ["lineId", dec("x.line")], ["supplier", "x.oa"]],
      { from: "x.oa", actor: "x.oa", rid: "x.hex", line: "x.line" });
    ev(5, 0, "Receivables", "Transfer", [["from", "x.oa"], ["to", "x.fa"], ["tokenId", "x.dec"]], { from: "x.fa", actor: "x.oa", rid: "x.hex" });
    ev(5, 1, "Receivables", "ReceivableAssigned", [["id", "x.dec"], ["from", "x.oa"], ["financier", "x.fa"]], { from: "x.fa", actor: "x.fa", rid: "x.hex" });
    ev(5, 2, "SettlementToken", "Transfer", [["from", "x.fa"], ["to", "x.oa"], ["value", dec("x.face * 9 / 10 * 98 / 100")]], { from: "x.fa", actor: "x.fa", rid: null });
    ev(5, 3, "Financing", "FinancingApproved",
      [["receivableId", "x.dec"], ["lineId", dec("x.line")], ["financier", "x.fa"], ["supplier", "x.oa"], ["advance", dec("x.face * 9 / 10")], ["paid", dec("x.face * 9 / 10 * 98 / 100")]],
      { from: "x.fa", actor: "x.fa", rid: "x.hex", line: "x.line" });
    // 6 payment: the debtor pays the holder (the financier when financed, then the line is repaid)
    const holderAtPay = "CASE WHEN x.financed THEN x.fa ELSE x.sa END";
    ev(6, 0, "SettlementToken", "Transfer", [["from", "x.da"], ["to", holderAtPay], ["value", dec("x.face")]], { from: "x.da", actor: "x.da", rid: null });
    ev(6, 1, "Receivables", "ReceivablePaid",
      [["id", "x.dec"], ["debtor", "x.da"], ["holder", holderAtPay], ["amount", dec("x.face")], ["outstanding", lit("0")]],
      { from: "x.da", actor: "x.da", rid: "x.hex" });
    ev(6, 2, "Financing", "FinancingRepaid",
      [["receivableId", "x.dec"], ["lineId", dec("x.line")], ["toFinancier", dec("x.face * 9 / 10")], ["toSupplier", dec("x.face - x.face * 9 / 10")], ["principal", lit("0")]],
      { from: "x.da", actor: "x.da", rid: "x.hex", line: "x.line", where: "x.financed" });
    ev(7, 0, "Receivables", "ReceivableDefaulted", [["id", "x.dec"], ["holder", "x.oa"], ["outstanding", dec("x.face")]], { from: "x.oa", actor: "x.oa", rid: "x.hex" });
    // 8 split: burn of the parent, then per child its mint and ReceivableSplit (indexed under the child)
    ev(8, 0, "Receivables", "Transfer", [["from", "x.oa"], ["to", lit(ZERO)], ["tokenId", "x.dec"]], { from: "x.oa", actor: "x.oa", rid: "x.hex" });
    const childJoin = "JOIN nx x ON x.n = a.n JOIN nx c ON c.parent_n = x.n";
    const childK = "(c.n % 4)";
    ev(8, `2 * ${childK} - 1`, "Receivables", "Transfer", [["from", lit(ZERO)], ["to", "x.oa"], ["tokenId", "c.dec"]], { from: "x.oa", actor: null, rid: "c.hex", join: childJoin });
    ev(8, `2 * ${childK}`, "Receivables", "ReceivableSplit", [["parentId", "x.dec"], ["childId", "c.dec"], ["holder", "x.oa"], ["amount", dec("c.face")]],
      { from: "x.oa", actor: "x.oa", rid: "c.hex", join: childJoin });
    ev(9, 0, "Receivables", "Transfer", [["from", "x.sa"], ["to", "x.oa"], ["tokenId", "x.dec"]], { from: "x.sa", actor: "x.sa", rid: "x.hex" });
    // 10 settlement transfers between members (never to oneself)
    const fromIdx = `floor(pg_temp.u(a.n, 21) * ${shape.members})::int`;
    ev(10, 0, "SettlementToken", "Transfer", [["from", "mf.address"], ["to", "mt.address"], ["value", dec("1000 + floor(pg_temp.u(a.n, 23) * 10000000)::bigint")]], {
      from: "mf.address", actor: "mf.address", rid: null,
      join: `JOIN mem mf ON mf.idx = ${fromIdx} JOIN mem mt ON mt.idx = (${fromIdx} + 1 + floor(pg_temp.u(a.n, 22) * ${shape.members - 1})::int) % ${shape.members}`,
    });
    ev(11, 0, "ParticipantRegistry", "MemberRegistered",
      [["account", "m.address"], ["roles", dec("m.roles")], ["kycExpiry", dec(`${now + 2 * 365 * DAY}`)], ["jurisdiction", lit("0x434e")], ["entityIdHash", "'0x' || md5('entity' || m.idx) || md5('ENTITY' || m.idx)"]],
      { from: lit(OPERATOR), actor: "m.address", rid: null, join: "JOIN mem m ON m.idx = -a.n - 1" });

    const addr = `CASE e.contract ${Object.entries(CONTRACTS).map(([k, v]) => `WHEN '${k}' THEN '${v}'`).join(" ")} END`;
    await step("ledger_events", [
      `INSERT INTO ledger_events (tx_hash, log_index, block_number, block_hash, tx_index, timestamp, contract, address, event_name, args, tx_from, actor, receivable_id, line_id)
       SELECT '0x' || md5('tx' || e.g) || md5('TX' || e.g), (e.g % ${TX_PER_BLOCK})::int * 8 + e.k, ${FIRST_BLOCK} + e.g / ${TX_PER_BLOCK},
              '0x' || md5('blk' || (e.g / ${TX_PER_BLOCK})) || md5('BLK' || (e.g / ${TX_PER_BLOCK})), (e.g % ${TX_PER_BLOCK})::int,
              ${startTime} + (e.g / ${TX_PER_BLOCK} + 1) * ${period}, e.contract, ${addr}, e.name, e.args, e.tx_from, e.actor, e.rid, e.line
         FROM (${branches.join("\n UNION ALL ")}) e`,
    ]);
    await step("ledger_event_parties", [
      `INSERT INTO ledger_event_parties (tx_hash, log_index, address, block_number)
       SELECT e.tx_hash, e.log_index, j.value, e.block_number
         FROM ledger_events e CROSS JOIN LATERAL json_each_text(e.args::json) j
        WHERE j.value ~ '^0x[0-9a-fA-F]{40}$' AND j.value <> '${ZERO}'`,
    ]);
    const blockOf = (kind: string, n = "x.n") => `(SELECT ${FIRST_BLOCK} + g / ${TX_PER_BLOCK} FROM acts WHERE n = ${n} AND kind = ${kind})`;
    const txOf = (kind: string, n = "x.n") => `(SELECT '0x' || md5('tx' || g) || md5('TX' || g) FROM acts WHERE n = ${n} AND kind = ${kind})`;
    const pad = (s: string) => `lpad((${s})::text, 20, '0')`;
    await step("receivables, financings, credit lines, payments", [
      // financier: its financing's (the row inserted into financings below), as the projector copies it.
      `INSERT INTO receivables (id, seller, debtor, holder, face_value, outstanding, due_date, status, financed, parent_id, document_hash, created_block, created_tx, updated_block, financier)
       SELECT x.hex, x.sa, x.da,
              CASE WHEN x.status IN ('split', 'cancelled') THEN NULL WHEN x.financed THEN x.fa ELSE x.oa END,
              ${pad("x.face")}, ${pad("CASE WHEN x.status = 'paid' THEN 0 ELSE x.face END")}, x.due, x.status, x.financed, p.hex, x.doc,
              cr.b, cr.tx, coalesce((SELECT ${FIRST_BLOCK} + max(g) / ${TX_PER_BLOCK} FROM acts WHERE n = x.n), cr.b),
              CASE WHEN x.financed THEN x.fa END
         FROM nx x LEFT JOIN nx p ON p.n = x.parent_n
         CROSS JOIN LATERAL (SELECT ${FIRST_BLOCK} + g / ${TX_PER_BLOCK} AS b, '0x' || md5('tx' || g) || md5('TX' || g) AS tx
                               FROM acts WHERE n = coalesce(x.parent_n, x.n) AND kind = CASE WHEN x.parent_n IS NULL THEN 1 ELSE 8 END) cr`,
      `INSERT INTO credit_lines (id, financier, debtor, supplier, limit_amount, utilised, max_advance_bps, discount_bps, expiry, open, updated_block)
       SELECT idx - ${L.financiers.from} + 1, address, NULL, NULL, ${pad("100000000000000")}, ${pad("0")}, 9000, 200, ${now + 365 * DAY}, true, ${FIRST_BLOCK}
         FROM mem WHERE idx >= ${L.financiers.from} AND idx < ${L.financiers.from + L.financiers.n}`,
      `INSERT INTO financings (receivable_id, line_id, supplier, financier, status, principal, advance, paid_to_supplier, reject_reason, updated_block)
       SELECT x.hex, x.line, x.oa, x.fa, CASE WHEN x.status = 'paid' THEN 'repaid' ELSE 'active' END,
              ${pad("CASE WHEN x.status = 'paid' THEN 0 ELSE x.face * 9 / 10 END")}, ${pad("x.face * 9 / 10")}, ${pad("x.face * 9 / 10 * 98 / 100")}, NULL,
              coalesce(${blockOf("6")}, ${blockOf("5")})
         FROM nx x WHERE x.financed`,
      `UPDATE credit_lines l SET utilised = lpad(s.u::text, 20, '0')
         FROM (SELECT line_id, sum(principal::numeric) AS u FROM financings WHERE status = 'active' GROUP BY line_id) s WHERE s.line_id = l.id`,
      `INSERT INTO payments (tx_hash, log_index, receivable_id, debtor, holder, amount, outstanding_after, block_number, timestamp)
       SELECT ${txOf("6")}, (a.g % ${TX_PER_BLOCK})::int * 8 + 1, x.hex, x.da, ${holderAtPay}, ${pad("x.face")}, ${pad("0")},
              ${FIRST_BLOCK} + a.g / ${TX_PER_BLOCK}, ${startTime} + (a.g / ${TX_PER_BLOCK} + 1) * ${period}
         FROM nx x JOIN acts a ON a.n = x.n AND a.kind = 6`,
      `INSERT INTO indexer_state (id, block_number, block_hash, updated_at)
       SELECT 'ledger', ${FIRST_BLOCK} + max(g) / ${TX_PER_BLOCK}, '0x' || md5('blk' || max(g) / ${TX_PER_BLOCK}) || md5('BLK' || max(g) / ${TX_PER_BLOCK}), ${now}
         FROM acts`,
    ]);
    await step("rebuild indexes", [
      ...idx.filter((i) => i.con).map((i) => `ALTER TABLE ${i.tbl} ADD CONSTRAINT "${i.con}" ${i.condef}`),
      ...idx.filter((i) => !i.con).map((i) => i.def),
    ]);
    await step("drop temporary tables", "DROP TABLE o, nodes, ids, nx, acts0, acts, mem");
    await step("VACUUM ANALYZE", [...BIG_TABLES.map((t) => `VACUUM (ANALYZE) ${t}`)]);
    const count = async (t: string) => Number(((await qr.query(`SELECT count(*) AS c FROM ${t}`)) as Array<{ c: string }>)[0].c);
    return {
      receivables: await count("receivables"),
      events: await count("ledger_events"),
      parties: await count("ledger_event_parties"),
      members: await count("members"),
      financings: await count("financings"),
      payments: await count("payments"),
      steps,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    await qr.release();
  }
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export type { QueryRunner };
