/**
 * Reading sanctions lists: the UN consolidated list XML and the OFAC SDN CSV (with and without a
 * header, with OFAC's alt.csv aliases), the choice by extension, and the refusals that keep the
 * service from screening against nothing. All names are invented.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  loadSanctionsList,
  parseOfacSdnCsv,
  parseUnConsolidatedXml,
  SanctionsListError,
} from "../../services/src/compliance/sanctions/sanctions-list";

const DATA = join(__dirname, "..", "..", "services", "data", "sanctions");

describe("compliance: sanctions list files", function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), "scf-sanctions-"));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  describe("UN consolidated list XML", function () {
    it("reads the shipped sample: individuals, entities, original script, aliases with quality", function () {
      const list = loadSanctionsList(join(DATA, "un-consolidated-sample.xml"));
      expect(list.format).to.equal("un-xml");
      expect(list.source).to.equal("un-consolidated-sample.xml");
      expect(list.generatedAt).to.equal("2025-01-01T00:00:00.000Z");
      expect(list.entries.map((e) => e.reference)).to.deep.equal(["XXi.001", "XXi.002", "XXi.003", "XXe.001", "XXe.002", "XXe.003", "XXe.004"]);
      const zorvan = list.entries[0];
      expect(zorvan.type).to.equal("individual");
      expect(zorvan.primaryName).to.equal("ZORVAN KETTLEBY QUILLFEATHER");
      expect(zorvan.names).to.deep.equal([
        { name: "ZORVAN KETTLEBY QUILLFEATHER", kind: "primary", lowQuality: false },
        { name: "Zorvan Quill", kind: "alias", lowQuality: false },
        { name: "The Kettle", kind: "alias", lowQuality: true },
      ]);
      expect(list.entries[1].names.map((n) => n.name)).to.include("Вымышлен Жёлтоглазов");
      const hongxu = list.entries[3];
      expect(hongxu.type).to.equal("entity");
      expect(hongxu.names.map((n) => [n.name, n.kind])).to.deep.equal([
        ["HONGXU TRADING COMPANY LIMITED", "primary"],
        ["鸿虚贸易有限公司", "original-script"],
        ["鸿虚集团", "alias"],
        ["Vacant Rainbow Import and Export Ltd.", "alias"],
      ]);
      expect(hongxu.programme).to.equal("Fictional Sample Regime");
    });

    it("reads a list with a single individual, no entities and XML entities in names", function () {
      const list = parseUnConsolidatedXml(
        `<?xml version="1.0"?><CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL>
           <FIRST_NAME>ANNA</FIRST_NAME><SECOND_NAME>O&apos;FICTA</SECOND_NAME><THIRD_NAME></THIRD_NAME>
           <REFERENCE_NUMBER>XXi.900</REFERENCE_NUMBER>
           <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Anna  Ficta &amp; Co</ALIAS_NAME></INDIVIDUAL_ALIAS>
         </INDIVIDUAL></INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>`,
      );
      expect(list.entries).to.have.length(1);
      expect(list.entries[0].primaryName).to.equal("ANNA O'FICTA");
      expect(list.entries[0].names.map((n) => n.name)).to.deep.equal(["ANNA O'FICTA", "Anna Ficta & Co"]);
    });

    it("refuses XML that is not the consolidated list", function () {
      expect(() => parseUnConsolidatedXml("<SDNLIST><entry/></SDNLIST>", "x.xml")).to.throw(SanctionsListError, /no CONSOLIDATED_LIST root/);
    });
  });

  describe("OFAC SDN CSV", function () {
    it("reads the shipped sample (no header, -0- empties, control-Z line) with the aliases of its alt file", function () {
      const list = loadSanctionsList(join(DATA, "ofac-sdn-sample.csv"));
      expect(list.format).to.equal("ofac-csv");
      expect(list.entries.map((e) => [e.reference, e.type])).to.deep.equal([
        ["9001", "individual"],
        ["9002", "entity"],
        ["9003", "vessel"],
        ["9004", "individual"],
        ["9005", "entity"],
      ]);
      expect(list.entries[0].programme).to.equal("FICTIONAL-SAMPLE");
      expect(list.entries[1].names).to.deep.equal([
        { name: "GLASSHOLLOW INDUSTRIES CORP.", kind: "primary", lowQuality: false },
        { name: "GLASS HOLLOW INDUSTRIAL GROUP", kind: "alias", lowQuality: false },
        { name: "ООО Стеклянная Лощина", kind: "alias", lowQuality: false },
      ]);
      expect(list.entries[0].names[1]).to.deep.equal({ name: "THE KETTLE", kind: "alias", lowQuality: true });
    });

    it("reads a file with a header row, in any column order", function () {
      const list = parseOfacSdnCsv(
        'Program,SDN_Name,ent_num,SDN_Type\n"FICT","FICTA, Anna",77,individual\n"FICT","PAPER MILLS OF NOWHERE",78,-0-\n',
      );
      expect(list.entries.map((e) => [e.reference, e.primaryName, e.type, e.programme])).to.deep.equal([
        ["77", "FICTA, Anna", "individual", "FICT"],
        ["78", "PAPER MILLS OF NOWHERE", "entity", "FICT"],
      ]);
    });

    it("refuses a header without ent_num or SDN_Name", function () {
      expect(() => parseOfacSdnCsv("ent_num,name\n1,x\n", "h.csv")).to.throw(SanctionsListError, /ent_num and SDN_Name/);
    });
  });

  describe("loadSanctionsList()", function () {
    it("refuses a missing file, naming the variable to set", function () {
      expect(() => loadSanctionsList(join(dir, "none.xml"))).to.throw(SanctionsListError, /SANCTIONS_LIST_FILE/);
    });

    it("refuses an unsupported extension", function () {
      const f = join(dir, "list.json");
      writeFileSync(f, "[]");
      expect(() => loadSanctionsList(f)).to.throw(SanctionsListError, /unsupported extension ".json"/);
    });

    it("refuses a list with no entries rather than pass everyone", function () {
      const xml = join(dir, "empty.xml");
      writeFileSync(xml, "<CONSOLIDATED_LIST><INDIVIDUALS/><ENTITIES/></CONSOLIDATED_LIST>");
      expect(() => loadSanctionsList(xml)).to.throw(SanctionsListError, /no entries/);
      const csv = join(dir, "sdn.csv");
      writeFileSync(csv, "\x1a\r\n");
      expect(() => loadSanctionsList(csv)).to.throw(SanctionsListError, /no entries/);
    });

    it("refuses malformed CSV with the parser's reason", function () {
      const f = join(dir, "bad.csv");
      writeFileSync(f, '1,"unterminated\n');
      expect(() => loadSanctionsList(f)).to.throw(SanctionsListError, /not readable as CSV/);
    });

    it("picks up alt.csv beside sdn.csv as OFAC ships them", function () {
      writeFileSync(join(dir, "sdn.csv"), '10,"NOWHERE PAPER MILLS",-0- ,"FICT"\n');
      writeFileSync(join(dir, "alt.csv"), '10,1,"aka","EMPTY PAGE WORKS",-0- \n');
      const list = loadSanctionsList(join(dir, "sdn.csv"));
      expect(list.entries[0].names.map((n) => n.name)).to.deep.equal(["NOWHERE PAPER MILLS", "EMPTY PAGE WORKS"]);
    });
  });
});
