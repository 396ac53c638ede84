/**
 * platform/compiled.js, the launcher of every compiled entry point (`npm start`, the CLI, the demo,
 * the benchmarks), run as a child process on a miniature project in a temporary directory: its own
 * tsconfig.build.json, one TypeScript source and its "compiled" JavaScript in dist/. A missing or
 * stale build must be refused with the command that fixes it, never run.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../platform/project-root";

function run(root: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(root, "platform", "compiled.js"), ...args], { cwd: root, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("platform/compiled.js: runs only a build that matches its sources", function () {
  let root: string;

  beforeEach(function () {
    root = mkdtempSync(join(tmpdir(), "scf-compiled-"));
    mkdirSync(join(root, "platform"));
    copyFileSync(join(PROJECT_ROOT, "platform", "compiled.js"), join(root, "platform", "compiled.js"));
    writeFileSync(join(root, "tsconfig.json"), "{}\n");
    writeFileSync(join(root, "tsconfig.build.json"), JSON.stringify({ include: ["src"], exclude: ["src/dev-only.ts"] }));
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "src", "hello.ts"), "console.log('hello');\n");
    writeFileSync(join(root, "src", "dev-only.ts"), "export {};\n");
    mkdirSync(join(root, "dist", "src"), { recursive: true });
    writeFileSync(
      join(root, "dist", "src", "hello.js"),
      "console.log(JSON.stringify({ args: process.argv.slice(2), main: require.main === module }));\n",
    );
  });

  afterEach(function () {
    rmSync(root, { recursive: true, force: true });
  });

  it("refuses to run without a recorded build, telling the user to run npm run build", function () {
    const r = run(root, "src/hello", "--x", "1");
    expect(r.code).to.equal(1);
    expect(r.out).to.equal("");
    expect(r.err).to.include("the compiled runtime is missing").and.include("run `npm run build`");
  });

  it("runs the compiled entry as the main module with the caller's arguments once the build is recorded", function () {
    expect(run(root, "--stamp").code).to.equal(0);
    const r = run(root, "src/hello", "--x", "1");
    expect(r.err).to.equal("");
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.out)).to.deep.equal({ args: ["--x", "1"], main: true });
  });

  it("refuses a build older than its sources, naming the changed, new and removed files", function () {
    writeFileSync(join(root, "src", "gone.ts"), "export {};\n");
    expect(run(root, "--stamp").code).to.equal(0);
    writeFileSync(join(root, "src", "hello.ts"), "console.log('hello, again');\n");
    writeFileSync(join(root, "src", "new.ts"), "export {};\n");
    rmSync(join(root, "src", "gone.ts"));
    const r = run(root, "src/hello");
    expect(r.code).to.equal(1);
    expect(r.out).to.equal("");
    expect(r.err)
      .to.include("the compiled runtime in dist/ is stale: 3 source file(s) differ")
      .and.include("src/hello.ts (changed)")
      .and.include("src/new.ts (new)")
      .and.include("src/gone.ts (removed)")
      .and.include("run `npm run build`");
  });

  it("ignores files the build excludes (a change there does not make the build stale)", function () {
    expect(run(root, "--stamp").code).to.equal(0);
    writeFileSync(join(root, "src", "dev-only.ts"), "export const changed = true;\n");
    expect(run(root, "src/hello").code).to.equal(0);
  });

  describe("stat first: a file's recorded hash stands while its size, mtime and ctime do", function () {
    const stampFile = () => join(root, "dist", "build-stamp.json");
    /** Replaces the recorded hash of src/hello.ts, leaving its recorded stat as it is. */
    const forgeRecordedHash = () => {
      const stamp = JSON.parse(readFileSync(stampFile(), "utf8"));
      stamp.inputs["src/hello.ts"] = "0".repeat(64);
      writeFileSync(stampFile(), JSON.stringify(stamp));
    };
    // Files stamped 2 s or more after their last change are trusted by their stat.
    const settle = () => new Promise((r) => setTimeout(r, 2_200));

    it("does not read an unchanged file again: its recorded hash is trusted", async function () {
      await settle();
      expect(run(root, "--stamp").code).to.equal(0);
      forgeRecordedHash();
      expect(run(root, "src/hello").code, "a forged hash of an unchanged file goes unread").to.equal(0);
    });

    it("sees an edit that keeps the size and sets the mtime back (the ctime moved)", async function () {
      const file = join(root, "src", "hello.ts");
      // A whole second: utimes takes seconds as a float, and a millisecond fraction may come back
      // a nanosecond short, which would make this a test of a changed mtime instead.
      const old = new Date(Math.floor((Date.now() - 3_600_000) / 1000) * 1000);
      utimesSync(file, old, old);
      await settle();
      expect(run(root, "--stamp").code).to.equal(0);
      expect(statSync(file).mtimeMs).to.equal(old.getTime());
      writeFileSync(file, "console.log('jello');\n");
      utimesSync(file, old, old);
      expect(statSync(file).mtimeMs, "the mtime is set back exactly").to.equal(old.getTime());
      const r = run(root, "src/hello");
      expect(r.code).to.equal(1);
      expect(r.err).to.include("1 source file(s) differ").and.include("src/hello.ts (changed)");
    });

    it("hashes again a file changed within 2 s before the stamp, whose timestamps may not tell a later edit apart", function () {
      expect(run(root, "--stamp").code).to.equal(0);
      forgeRecordedHash();
      const r = run(root, "src/hello");
      expect(r.code).to.equal(1);
      expect(r.err).to.include("src/hello.ts (changed)");
    });

    it("accepts the stamp of a build recorded before stats were (hashes only), hashing every file", function () {
      expect(run(root, "--stamp").code).to.equal(0);
      const { builtAt, inputs } = JSON.parse(readFileSync(stampFile(), "utf8"));
      writeFileSync(stampFile(), JSON.stringify({ builtAt, inputs }));
      expect(run(root, "src/hello").code).to.equal(0);
      writeFileSync(join(root, "src", "hello.ts"), "console.log('changed');\n");
      expect(run(root, "src/hello").err).to.include("src/hello.ts (changed)");
    });
  });

  it("refuses an entry the build does not contain", function () {
    expect(run(root, "--stamp").code).to.equal(0);
    const r = run(root, "src/absent");
    expect(r.code).to.equal(1);
    expect(r.err).to.include("dist/src/absent.js is not in the build");
  });

  it("runs a copy of dist/ shipped without its sources as it is", function () {
    rmSync(join(root, "tsconfig.build.json"));
    rmSync(join(root, "src"), { recursive: true });
    const r = run(root, "src/hello");
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.out).main).to.equal(true);
  });
});
