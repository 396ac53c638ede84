/**
 * `scf`: the SCF ledger from a terminal, for every role. Commands are declared here, group by group
 * in the order `scf --help` lists them (GROUPS); each group's work lives in its own module under
 * ./commands, required only when one of its commands runs, so `scf --help` starts fast.
 */
import { Command, CommanderError, Option } from "commander";
import { CliError, EXIT } from "./lib/errors";
import type { GlobalOptions } from "./lib/context";

const EXIT_HELP = `
Exit codes:
  0  done
  1  refused: the API refused the request (4xx, its message is printed), or rows of an import were
     bad or refused (the rest were imported)
  2  usage: bad command line, unreadable input file, missing configuration
  3  authentication: no key, wrong keystore password, sign-in refused
  4  the service is unreachable or failed (5xx); safe to retry
  5  a signed act was relayed but failed on-chain
  130 interrupted (Ctrl-C); an import resumes where it stopped when run again

Environment: SCF_URL, SCF_KEYS_DIR, SCF_KEY, SCF_PASSWORD (else asked on the terminal), SCF_HOME
(sessions and import state; default ~/.scf). Amounts on the command line are yuan (e.g. 1250.50)
unless --fen is given; --json prints amounts in fen as decimal strings. A receivable <id> is its id
(0x…) or the number of the invoice it was tokenised from (accept, cancel, split, transfer, repay,
finance request/approve, invoices show, audit history/lineage).`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (g: GlobalOptions, ...args: any[]) => Promise<number | void>;

/** Wraps a command's work: errors become a message and an exit code. */
function action(load: () => Handler): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const g = cmd.optsWithGlobals() as GlobalOptions;
    const positional = args.slice(0, -1);
    let code: number;
    try {
      code = (await load()(g, ...positional)) ?? EXIT.OK;
    } catch (e) {
      code = report(e, g.json);
    }
    process.exitCode = code;
  };
}

function report(e: unknown, json: boolean | undefined): number {
  if (e instanceof CliError) {
    process.stderr.write(`scf: ${e.message}\n`);
    if (json) process.stdout.write(JSON.stringify({ error: { message: e.message, exitCode: e.exitCode, details: e.details ?? null } }, null, 2) + "\n");
    return e.exitCode;
  }
  const err = e as Error;
  // Input errors thrown by parsers (amounts, ids) read as usage errors.
  if (err && /^(amount|amounts|--|receivable id|address)/i.test(err.message ?? "")) {
    process.stderr.write(`scf: ${err.message}\n`);
    return EXIT.USAGE;
  }
  process.stderr.write(`scf: unexpected error: ${err?.stack ?? String(e)}\n`);
  return EXIT.UNREACHABLE;
}

/** The modules of the command groups, by file name under ./commands. */
interface Groups {
  keys: typeof import("./commands/keys");
  session: typeof import("./commands/session");
  onboarding: typeof import("./commands/onboarding");
  invoices: typeof import("./commands/invoices");
  finance: typeof import("./commands/finance");
  "payment-records": typeof import("./commands/payment-records");
  "credit-lines": typeof import("./commands/credit-lines");
  settlement: typeof import("./commands/settlement");
  participants: typeof import("./commands/participants");
  audit: typeof import("./commands/audit");
  ledger: typeof import("./commands/ledger");
  act: typeof import("./commands/act");
}

/** The exports of a group's module that are command handlers. */
type HandlerName<M> = { [K in keyof M]: M[K] extends Handler ? K : never }[keyof M];

/** The action of a command of group K: calls the group's handler of that name. */
type Run<K extends keyof Groups> = (handler: HandlerName<Groups[K]>) => ReturnType<typeof action>;

/** Declares a group's commands on the program. */
type Declare<K extends keyof Groups> = (program: Command, run: Run<K>) => void;

/** A command group: the module holding its work (required on first use) and its declarations. */
function group<K extends keyof Groups>(module: K, declare: Declare<K>): (program: Command) => void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = () => require(`./commands/${module}`) as Groups[K];
  return (program) => declare(program, (handler) => action(() => load()[handler] as Handler));
}

/** The command groups, in the order `scf --help` lists them. */
const GROUPS = [
  group("keys", declareKeys),
  group("session", declareSession),
  group("onboarding", declareOnboarding),
  group("participants", declareParticipants),
  group("invoices", declareInvoices),
  group("finance", declareFinance),
  group("payment-records", declarePaymentRecords),
  group("credit-lines", declareCreditLines),
  group("settlement", declareSettlement),
  group("audit", declareAudit),
  group("ledger", declareLedger),
  group("act", declareAct),
];

export function buildProgram(): Command {
  const program = new Command("scf")
    .description("Supply-chain finance ledger client: keys, sign-in, onboarding, invoices, financing, audit.")
    .addOption(new Option("--url <url>", "service URL (SCF_URL; default http://127.0.0.1:3000)"))
    .addOption(new Option("--keys-dir <dir>", "keystore directory (SCF_KEYS_DIR; default ~/.scf/keys)"))
    .addOption(new Option("--key <name>", "key to sign with (SCF_KEY; default: the only key)"))
    .option("--json", "machine-readable output on stdout (amounts in fen)")
    .addHelpText("after", EXIT_HELP)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const declare of GROUPS) declare(program);
  return program;
}

/** The --no-wait option of every command that signs an act. */
const signing = (cmd: Command) => cmd.option("--no-wait", "return the pending act id instead of waiting for confirmation");

function declareKeys(program: Command, run: Run<"keys">): void {
  const keys = program.command("keys").description("encrypted keystores of your signing keys");
  keys
    .command("new <name>")
    .description("create a new key (random), encrypted with a password")
    .option("--force", "overwrite an existing key of that name")
    .action(run("keysNew"));
  keys
    .command("import <name>")
    .description("import a private key (0x + 64 hex) from a file or stdin, encrypted with a password")
    .option("--private-key-file <file>", "file holding the private key (default: read stdin)")
    .option("--force", "overwrite an existing key of that name")
    .action(run("keysImport"));
  keys.command("list").description("keys in the keystore directory: name and address").action(run("keysList"));
  keys.command("address <name>").description("the address of one key, alone on a line (for scripts)").action(run("keysAddress"));
}

function declareSession(program: Command, run: Run<"session">): void {
  program.command("login").description("sign in with Ethereum (SIWE) and cache the session").action(run("login"));
  program.command("logout").description("forget the cached session of this key").action(run("logout"));
  program.command("whoami").description("the signed-in address and its ledger roles").action(run("whoami"));
}

function declareOnboarding(program: Command, run: Run<"onboarding">): void {
  program
    .command("apply")
    .description("apply for membership of the ledger (KYC screening runs at once)")
    .requiredOption("--legal-name <name>", "registered legal name")
    .requiredOption("--entity-id <id>", "unified social credit code (18 characters) or LEI (20)")
    .option("--entity-id-type <type>", "USCC or LEI (default: from the id's length)")
    .requiredOption("--jurisdiction <cc>", "ISO 3166-1 alpha-2 country of incorporation, e.g. CN")
    .requiredOption("--roles <list>", "comma-separated: supplier,buyer,financier,auditor")
    .option("--document <file>", "KYC document to attach (repeatable, at most 10)", (v: string, prev: string[] = []) => [...prev, v])
    .action(run("apply"));
  program
    .command("applications")
    .description("onboarding applications: yours, or all (compliance officers, auditors)")
    .option("--status <status>", "submitted, needs_review, rejected, approving, approved or failed")
    .option("--all", "follow every page")
    .action(run("applications"));
  program
    .command("approve <application>")
    .description("approve an application (its id, or the applicant's address): registers the applicant on-chain (compliance officers)")
    .option("--kyc-days <days>", "days the KYC stays valid (default: the service's)")
    .option("--no-wait", "return once the registration is queued")
    .action(run("approve"));
  program
    .command("reject <application>")
    .description("reject an application (its id, or the applicant's address) with a reason shown to the applicant (compliance officers)")
    .requiredOption("--reason <text>", "why (3 to 500 characters)")
    .action(run("reject"));
}

function declareParticipants(program: Command, run: Run<"participants">): void {
  program
    .command("participants")
    .description("find members by legal name (look-alike letters match), tax id or address; without an option: yourself (compliance officers, auditors: everyone); exit 1 when a lookup finds nobody")
    .option("--name <text>", "part of the legal name (among your counterparties; compliance officers, auditors: everyone)")
    .option("--tax-id <id>", "the unified social credit code or LEI an invoice prints (any member)")
    .option("--address <address>", "a member's address (among your counterparties; compliance officers, auditors: everyone)")
    .option("--status <status>", "active or suspended")
    .option("--all", "follow every page")
    .action(run("participants"));
}

function declareInvoices(program: Command, run: Run<"invoices">): void {
  const inv = program.command("invoices").description("receivables: import an ERP export, list, show");
  inv
    .command("import <file>")
    .description("tokenise the invoices of a CSV file in signed batches; resumable (see cli/README.md for the columns)")
    .option("--batch-size <n>", "invoices per signed batch, 1 to 200", undefined)
    .option("--buyer <address>", "buyer address for rows without buyer_address (default: the member registered under the row's buyer_tax_id)")
    .option("--seller-tax-id <id>", "your tax id for rows without seller_tax_id")
    .option("--dry-run", "check the file and show the plan; send nothing")
    .option("--no-wait", "do not wait for the batches to be confirmed on-chain")
    .option("--no-upload-documents", "do not upload document_file files once tokenised")
    .option("--delay-ms <ms>", "pause between batches (to spare a shared service)")
    .option("--state <file>", "state file (default SCF_HOME/imports/<sha256>-<signer>-<url>.json)")
    .action(run("invoicesImport"));
  inv
    .command("list")
    .description("receivables you are party to (auditors: all)")
    .option("--status <list>", "comma-separated: issued, accepted, financed, paid, defaulted, cancelled, split")
    .option("--role <role>", "seller, debtor, holder or financier")
    .option("--party <address>", "auditors: receivables of this member")
    .option("--due-after <date>", "due at or after (ISO 8601)")
    .option("--due-before <date>", "due before (ISO 8601)")
    .option("--min-amount <yuan>", "outstanding at least")
    .option("--max-amount <yuan>", "outstanding at most")
    .option("--fen", "amounts given in fen")
    .option("--term-review", "only receivables due more than six calendar months after tokenisation (flagged for compliance review)")
    .option("--disputed", "only receivables their debtor disputed")
    .option("--sort <sort>", "dueDate, amount, createdAt; '-' prefix for descending")
    .option("--limit <n>", "page size, 1 to 200")
    .option("--cursor <cursor>", "continue from a previous page")
    .option("--all", "follow every page")
    .action(run("invoicesList"));
  inv
    .command("show <ref>")
    .description("one receivable with its financing and payments, by invoice number or receivable id (0x…)")
    .option("--seller-tax-id <id>", "the seller's tax id, when several sellers used the invoice number")
    .action(run("invoicesShow"));
  inv
    .command("dispute <ref>")
    .description("say you do not confirm an issued invoice you owe (buyers): a signed statement shown to the seller, by invoice number or id")
    .requiredOption("--reason <code>", "not_delivered, amount_wrong, duplicate, not_ordered or other")
    .option("--text <text>", "an explanation for the seller (at most 500 characters)")
    .option("--seller-tax-id <id>", "the seller's tax id, when several sellers used the invoice number")
    .action(run("invoicesDispute"));
  signing(program.command("accept <id>").description("accept a receivable you owe (buyers; irrevocable)")).action(run("accept"));
  signing(program.command("cancel <id>").description("cancel a receivable not yet accepted (its seller)")).action(run("cancel"));
  signing(
    program
      .command("split <id>")
      .description("split an accepted receivable you hold into parts summing to its outstanding amount")
      .requiredOption("--amounts <list>", "comma-separated amounts in yuan (2 to 20 parts)")
      .option("--fen", "amounts given in fen"),
  ).action(run("split"));
  signing(
    program.command("transfer <id>").description("transfer an accepted receivable you hold").requiredOption("--to <address>", "new holder (a verified supplier or financier)"),
  ).action(run("transfer"));
  signing(
    program
      .command("repay <id>")
      .description("pay a receivable you owe to its holder (buyers); signs an EIP-2612 permit when the allowance is short")
      .option("--amount <yuan>", "amount (default: the whole outstanding amount)")
      .option("--fen", "amount given in fen"),
  ).action(run("repay"));
}

function declareFinance(program: Command, run: Run<"finance">): void {
  const fin = program.command("finance").description("financing of receivables");
  signing(
    fin.command("request <id>").description("ask a credit line to finance an accepted receivable you hold at the line's quote now (suppliers); the request lapses in 7 days").requiredOption("--line <lineId>", "credit line id"),
  ).action(run("financeRequest"));
  signing(
    fin
      .command("withdraw <id>")
      .description("withdraw your pending financing request, so another line may finance the receivable (suppliers)"),
  ).action(run("financeWithdraw"));
  signing(
    fin
      .command("approve <id>")
      .description(
        "approve a requested financing on your line at its current quote (financiers); refused when it pays less than the request's terms; signs a permit for the advance when the allowance is short",
      )
      .requiredOption("--registration <number>", "movable-property financing registration number (on-chain as its hash)"),
  ).action(run("financeApprove"));
  signing(
    fin
      .command("reject <id>")
      .description("reject a requested financing (financiers)")
      .requiredOption("--reason <CODE>", "reason code: upper-case letters, digits, underscores (e.g. CONCENTRATION_LIMIT)")
      .option("--note <text>", "explanation for the supplier (kept off-chain)"),
  ).action(run("financeReject"));
  fin
    .command("offer <id>")
    .description(
      "sign a financing request kept off-chain as an offer for the line's financier, who approves it in one transaction (suppliers); nothing goes on-chain until then",
    )
    .requiredOption("--line <lineId>", "credit line id")
    .action(run("financeOffer"));
  fin
    .command("offers")
    .description("offers: your own (suppliers) or your queue (financiers)")
    .option("--status <status>", "open, approving, financed, withdrawn or expired")
    .action(run("financeOffers"));
  signing(
    fin
      .command("approve-offer <offerId>")
      .description("approve an offer on your line: your signature and the supplier's go on-chain in one transaction (financiers)")
      .requiredOption("--registration <number>", "movable-property financing registration number (on-chain as its hash)"),
  ).action(run("financeApproveOffer"));
  signing(
    fin
      .command("withdraw-offer <offerId>")
      .description("withdraw your offer: the signed withdrawal consumes its nonce on-chain, so it can never be approved (suppliers)"),
  ).action(run("financeWithdrawOffer"));
  fin
    .command("list")
    .description("financings you are party to")
    .option("--status <list>", "requested, rejected, active, repaid, written_off")
    .option("--all", "follow every page")
    .action(run("financeList"));
  fin
    .command("find")
    .description("the financing registered under a movable-property registration number (financiers: yours; auditors: all)")
    .requiredOption("--registration <number>", "registration number")
    .action(run("financeFind"));
  fin
    .command("unregistered")
    .description("active financings whose registration number is still unknown REGISTRATION_GRACE_DAYS after approval (financiers: yours; auditors: all)")
    .option("--all", "follow every page")
    .action(run("financeUnregistered"));
  fin
    .command("register <id>")
    .description("give the registration number of a financing you approved directly on-chain; it must hash to the approved hash (financiers)")
    .requiredOption("--registration <number>", "registration number")
    .action(run("financeRegister"));
}

function declarePaymentRecords(program: Command, run: Run<"payment-records">): void {
  program
    .command("payment-record [buyer]")
    .description("a core enterprise's payment record: confirmed, paid on time, paid late (days late), defaulted, past due (financiers, auditors: any buyer; a buyer: its own); without an address, every buyer you may read")
    .option("--all", "follow every page")
    .action(run("paymentRecord"));
}

function declareCreditLines(program: Command, run: Run<"credit-lines">): void {
  const lines = program.command("credit-lines").description("credit lines (financiers)");
  signing(
    lines
      .command("open")
      .description("open a credit line for a debtor and/or a supplier")
      .option("--debtor <address>", "buyer the line covers")
      .option("--supplier <address>", "supplier the line covers")
      .requiredOption("--limit <yuan>", "maximum utilisation")
      .option("--fen", "limit given in fen")
      .requiredOption("--max-advance-bps <bps>", "advance as basis points of the outstanding amount (1 to 10000)")
      .requiredOption("--discount-bps <bps>", "yearly discount rate, basis points (0 to 10000)")
      .requiredOption("--expiry <date>", "when the line stops financing (ISO 8601, e.g. 2027-06-30 or 2027-06-30T00:00:00Z)"),
  ).action(run("creditLinesOpen"));
  lines
    .command("list")
    .description("credit lines you grant or are named in")
    .option("--open", "open lines only")
    .option("--all", "follow every page")
    .action(run("creditLinesList"));
}

function declareSettlement(program: Command, run: Run<"settlement">): void {
  const settlement = program.command("settlement").description("settlement token: balance, allowances, permits, held payments");
  settlement
    .command("balance")
    .description("your settlement balance and the allowances of the ledger contracts")
    .option("--address <address>", "auditors, compliance officers: another member's")
    .action(run("settlementBalance"));
  settlement
    .command("held")
    .description("what the ledger holds for you: payments made while you could not receive them (suspended, KYC lapsed); readable while suspended")
    .option("--address <address>", "auditors, compliance officers: another member's")
    .action(run("settlementHeld"));
  signing(
    settlement
      .command("claim")
      .description("claim everything the ledger holds for you (a signed act; refused while you cannot receive the token); prints the amount"),
  ).action(run("settlementClaim"));
  settlement
    .command("faucet")
    .description("test money: mint settlement tokens to a verified member (compliance officers; only where the platform enables the faucet, as npm start does)")
    .requiredOption("--to <address>", "the member to credit")
    .requiredOption("--amount <yuan>", "amount to mint (at most 100,000,000.00 yuan a call)")
    .option("--fen", "amount given in fen")
    .option("--no-wait", "return once the mint is queued")
    .action(run("settlementFaucet"));
  settlement
    .command("permit")
    .description("sign an EIP-2612 permit letting a ledger contract draw your tokens (it replaces the current allowance)")
    .requiredOption("--spender <name>", "Receivables (repayments) or Financing (financing advances)")
    .requiredOption("--amount <yuan>", "allowance to grant")
    .option("--fen", "amount given in fen")
    .action(run("settlementPermit"));
}

function declareAudit(program: Command, run: Run<"audit">): void {
  const audit = program.command("audit").description("history, lineage, verification and export (auditors)");
  audit.command("history <id>").description("ledger events of a receivable with tx hash, block, time and signer").action(run("auditHistory"));
  audit.command("lineage <id>").description("the split tree of a receivable, drawn in the terminal").action(run("auditLineage"));
  audit
    .command("verify")
    .description("recompute the service's records from the chain; exit 1 when anything differs")
    .option("--contracts", "also compare against the contracts' view functions (slower)")
    .action(run("auditVerify"));
  audit
    .command("export")
    .description("stream the ledger events to a file as CSV or JSON, with progress")
    .option("--format <format>", "csv or json", "csv")
    .option("--dataset <name>", "events (the ledger feed), payment-records (one row per buyer), reviews (voucher-rule flags) or disputes (the debtors' signed disputes); filters apply to events only", "events")
    .option("--out <file>", "file to write (default: stdout)")
    .option("--receivable <id>", "only this receivable's events")
    .option("--member <address>", "only events naming this address")
    .option("--type <list>", "only these event names, comma-separated")
    .option("--from <time>", "events at or after (ISO 8601)")
    .option("--to <time>", "events before (ISO 8601)")
    .action(run("auditExport"));
  audit
    .command("pack")
    .description("the regulator's export pack of a period [from, to): one CSV per kind of act, a manifest signed by the ledger's operator (docs/EXPORT-PACK.md)")
    .requiredOption("--from <time|block>", "start, inclusive: an ISO 8601 time or a block number")
    .requiredOption("--to <time|block>", "end, exclusive: of the same kind as --from")
    .requiredOption("--out <dir>", "directory to write the files, manifest.json and manifest.sig.json to")
    .action(run("auditPack"));
  audit
    .command("verify-pack <dir>")
    .description("check a pack offline: every file's SHA-256, size and row count, and the manifest's signature by the operator it names; exit 1 naming each file that fails")
    .option("--operator <address>", "the operator address you know independently (deployment record, registry role); the signer must be it")
    .action(run("auditVerifyPack"));
}

function declareLedger(program: Command, run: Run<"ledger">): void {
  const ledger = program.command("ledger").description("leave the ledger with everything: export your records, replay an export on another chain (docs/LEDGER-EXPORT.md)");
  ledger
    .command("export")
    .description("your complete records and history (auditors, compliance: the whole ledger) as NDJSON files with a manifest signed by the operator")
    .requiredOption("--out <dir>", "directory to write the files, manifest.json and manifest.sig.json to")
    .option("--member <address>", "auditors, compliance officers: this member's records only")
    .action(run("ledgerExport"));
  ledger
    .command("replay")
    .description("check a whole-ledger export row by row, load it into a fresh deployment (DATA_DIR, or RPC_URL with ADMIN_KEYSTORE, KEYSTORE_DIR, DEPLOYMENT_FILE) and report every record reproduced")
    .requiredOption("--from <dir>", "the directory `scf ledger export` wrote")
    .option("--data-dir <dir>", "the new embedded platform's data directory (default DATA_DIR, else data/)")
    .option("--operator <address>", "the old ledger's operator, known independently; the export must be signed by it")
    .action(run("ledgerReplay"));
}

function declareAct(program: Command, run: Run<"act">): void {
  program.command("act <actId>").description("the state of a signed act (pending, confirmed, failed)").option("--wait", "wait until it is final").action(run("actShow"));
}

export async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    process.exitCode = report(e, process.argv.includes("--json"));
  }
}

if (require.main === module) void main();
