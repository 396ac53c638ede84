/**
 * Reads a sanctions list file into entries with every name they are known by. Two published
 * formats, chosen by the file's extension:
 * - `.xml`: the UN Security Council consolidated list (CONSOLIDATED_LIST > INDIVIDUALS > INDIVIDUAL
 *   and ENTITIES > ENTITY; names from FIRST_NAME … FOURTH_NAME, NAME_ORIGINAL_SCRIPT and the
 *   ALIAS_NAME of each INDIVIDUAL_ALIAS / ENTITY_ALIAS, with the alias QUALITY kept);
 * - `.csv`: the US Treasury OFAC SDN file (ent_num, SDN_Name, SDN_Type, Program, …), with or
 *   without a header row (OFAC's own sdn.csv has none); "-0-" is OFAC's empty value. OFAC ships
 *   aliases in a separate alt.csv (ent_num, alt_num, alt_type, alt_name, alt_remarks): when a file
 *   named like the list with "sdn" replaced by "alt" sits beside it, its aliases are added.
 * A file that parses to no entries is refused: an empty list would pass everyone.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { XMLParser } from "fast-xml-parser";

export type ListedType = "individual" | "entity" | "vessel" | "aircraft";

export interface ListedName {
  name: string;
  kind: "primary" | "alias" | "original-script";
  /** The list marks this alias as low quality (a vague or very common name). */
  lowQuality: boolean;
}

export interface SanctionsEntry {
  /** The list's own reference (UN REFERENCE_NUMBER, OFAC ent_num). */
  reference: string;
  type: ListedType;
  primaryName: string;
  names: ListedName[];
  programme: string | null;
}

export interface SanctionsList {
  format: "un-xml" | "ofac-csv";
  /** File name the list was read from. */
  source: string;
  /** When the publisher generated it, if the file says. */
  generatedAt: string | null;
  entries: SanctionsEntry[];
}

export class SanctionsListError extends Error {
  constructor(file: string, problem: string) {
    super(`Sanctions list ${file}: ${problem}`);
    this.name = "SanctionsListError";
  }
}

const text = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v).trim() : "");
const asArray = <T>(v: T | T[] | undefined | null): T[] => (v === undefined || v === null || v === "" ? [] : Array.isArray(v) ? v : [v]);

function addName(names: ListedName[], name: string, kind: ListedName["kind"], lowQuality = false): void {
  const n = name.replace(/\s+/g, " ").trim();
  if (n && !names.some((x) => x.name === n)) names.push({ name: n, kind, lowQuality });
}

type XmlNode = Record<string, unknown>;

/** Parses the UN Security Council consolidated list XML. */
export function parseUnConsolidatedXml(xml: string, source = "list.xml"): SanctionsList {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: true,
  });
  let doc: XmlNode;
  try {
    doc = parser.parse(xml) as XmlNode;
  } catch (err) {
    throw new SanctionsListError(source, `not well-formed XML (${(err as Error).message})`);
  }
  const root = doc.CONSOLIDATED_LIST as XmlNode | undefined;
  if (!root || typeof root !== "object") {
    throw new SanctionsListError(source, "no CONSOLIDATED_LIST root element: is this the UN consolidated list XML?");
  }
  const entries: SanctionsEntry[] = [];
  const individuals = asArray((root.INDIVIDUALS as XmlNode | undefined)?.INDIVIDUAL as XmlNode | XmlNode[]);
  for (const ind of individuals) {
    const parts = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"].map((k) => text(ind[k])).filter(Boolean);
    const primary = parts.join(" ");
    const names: ListedName[] = [];
    addName(names, primary, "primary");
    addName(names, text(ind.NAME_ORIGINAL_SCRIPT), "original-script");
    for (const alias of asArray(ind.INDIVIDUAL_ALIAS as XmlNode | XmlNode[])) {
      addName(names, text(alias.ALIAS_NAME), "alias", /^low$/i.test(text(alias.QUALITY)));
    }
    if (!names.length) continue;
    entries.push({
      reference: text(ind.REFERENCE_NUMBER) || text(ind.DATAID),
      type: "individual",
      primaryName: primary || names[0].name,
      names,
      programme: text(ind.UN_LIST_TYPE) || null,
    });
  }
  const entities = asArray((root.ENTITIES as XmlNode | undefined)?.ENTITY as XmlNode | XmlNode[]);
  for (const ent of entities) {
    const primary = text(ent.FIRST_NAME);
    const names: ListedName[] = [];
    addName(names, primary, "primary");
    addName(names, text(ent.NAME_ORIGINAL_SCRIPT), "original-script");
    for (const alias of asArray(ent.ENTITY_ALIAS as XmlNode | XmlNode[])) {
      addName(names, text(alias.ALIAS_NAME), "alias", /^low$/i.test(text(alias.QUALITY)));
    }
    if (!names.length) continue;
    entries.push({
      reference: text(ent.REFERENCE_NUMBER) || text(ent.DATAID),
      type: "entity",
      primaryName: primary || names[0].name,
      names,
      programme: text(ent.UN_LIST_TYPE) || null,
    });
  }
  const generated = (root as Record<string, unknown>)["@_dateGenerated"];
  return { format: "un-xml", source, generatedAt: text(generated) || null, entries };
}

const OFAC_COLUMNS = ["ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type", "Tonnage", "GRT", "Vess_flag", "Vess_owner", "Remarks"];
const ofacValue = (v: string | undefined): string => {
  const t = (v ?? "").trim();
  return t === "-0-" ? "" : t;
};

function readCsvRows(csv: string, source: string): string[][] {
  try {
    return parseCsv(csv, { relax_column_count: true, skip_empty_lines: true, bom: true, trim: true }) as string[][];
  } catch (err) {
    throw new SanctionsListError(source, `not readable as CSV (${(err as Error).message})`);
  }
}

function ofacType(sdnType: string): ListedType {
  const t = sdnType.toLowerCase();
  if (t === "individual") return "individual";
  if (t === "vessel") return "vessel";
  if (t === "aircraft") return "aircraft";
  return "entity";
}

/**
 * Parses an OFAC SDN CSV, and OFAC's alt.csv if given. Rows are positional in OFAC's column order
 * unless the first row is a header naming ent_num and SDN_Name.
 */
export function parseOfacSdnCsv(csv: string, source = "sdn.csv", altCsv?: string): SanctionsList {
  const rows = readCsvRows(csv, source);
  let columns = OFAC_COLUMNS;
  if (rows.length && rows[0].some((c) => c.toLowerCase() === "ent_num")) {
    columns = rows.shift()!.map((c) => c.trim());
  }
  const col = (name: string) => columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
  const iNum = col("ent_num");
  const iName = col("SDN_Name");
  const iType = col("SDN_Type");
  const iProgram = col("Program");
  if (iNum < 0 || iName < 0) throw new SanctionsListError(source, "the header must name the columns ent_num and SDN_Name");
  const byNum = new Map<string, SanctionsEntry>();
  const entries: SanctionsEntry[] = [];
  for (const r of rows) {
    const num = ofacValue(r[iNum]);
    const name = ofacValue(r[iName]);
    // OFAC ends its file with a control character line; anything without a number and a name is not an entry.
    if (!num || !name) continue;
    const names: ListedName[] = [];
    addName(names, name, "primary");
    const e: SanctionsEntry = {
      reference: num,
      type: ofacType(iType >= 0 ? ofacValue(r[iType]) : ""),
      primaryName: name,
      names,
      programme: iProgram >= 0 ? ofacValue(r[iProgram]) || null : null,
    };
    byNum.set(num, e);
    entries.push(e);
  }
  if (altCsv !== undefined) {
    const alt = readCsvRows(altCsv, source.replace(/sdn/i, "alt"));
    let altCols = ["ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks"];
    if (alt.length && alt[0].some((c) => c.toLowerCase() === "ent_num")) altCols = alt.shift()!.map((c) => c.trim().toLowerCase());
    const aNum = altCols.indexOf("ent_num");
    const aType = altCols.indexOf("alt_type");
    const aName = altCols.indexOf("alt_name");
    for (const r of alt) {
      const e = byNum.get(ofacValue(r[aNum]));
      const name = ofacValue(r[aName]);
      // OFAC marks vague aliases "weak aka"; the screener treats them as the UN's low-quality ones.
      if (e && name) addName(e.names, name, "alias", /weak/i.test(ofacValue(r[aType])));
    }
  }
  return { format: "ofac-csv", source, generatedAt: null, entries };
}

/** Loads a list file, choosing the parser by extension (.xml: UN, .csv: OFAC). */
export function loadSanctionsList(file: string): SanctionsList {
  const source = basename(file);
  if (!existsSync(file)) {
    throw new SanctionsListError(file, "file not found; set SANCTIONS_LIST_FILE to the UN consolidated list XML or an OFAC SDN CSV");
  }
  const ext = extname(file).toLowerCase();
  let list: SanctionsList;
  if (ext === ".xml") {
    list = parseUnConsolidatedXml(readFileSync(file, "utf8"), source);
  } else if (ext === ".csv") {
    const altName = source.replace(/sdn/i, "alt");
    const altFile = join(dirname(file), altName);
    const alt = altName !== source && existsSync(altFile) ? readFileSync(altFile, "utf8") : undefined;
    list = parseOfacSdnCsv(readFileSync(file, "utf8"), source, alt);
  } else {
    throw new SanctionsListError(file, `unsupported extension "${ext}": use .xml (UN consolidated list) or .csv (OFAC SDN)`);
  }
  if (!list.entries.length) throw new SanctionsListError(file, "contains no entries; refusing to screen against an empty list");
  return list;
}
