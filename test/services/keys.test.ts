import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { loadServiceWallets, relayerKeystoreFile, writeKeystore, type KeystoreFiles } from "../../services/src/chain/keys";

const PASSWORD = "keys-test-password";

describe("Service keystores: the relayer pool (RELAYER_KEYS)", function () {
  let dir: string;
  const files: KeystoreFiles["files"] = { operator: "operator.json", compliance: "compliance.json", relayer: "relayer.json" };

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), "scf-keys-"));
    for (const name of Object.values(files)) writeKeystore(join(dir, name), Wallet.createRandom(), PASSWORD, true);
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("names the pool's keystores after RELAYER_KEYSTORE: relayer.json, relayer-1.json, …", function () {
    expect([0, 1, 2].map((i) => relayerKeystoreFile("relayer.json", i))).to.deep.equal(["relayer.json", "relayer-1.json", "relayer-2.json"]);
    expect(relayerKeystoreFile("keys/hot", 3)).to.equal("keys/hot-3");
  });

  it("loads the relayer key first, then each further key of the pool in order", async function () {
    const extra = [Wallet.createRandom(), Wallet.createRandom()];
    extra.forEach((w, i) => writeKeystore(join(dir, relayerKeystoreFile("relayer.json", i + 1)), w, PASSWORD, true));
    const wallets = await loadServiceWallets({ dir, files, password: PASSWORD, relayerKeys: 3 });
    expect(wallets.relayers.map((w) => w.address)).to.deep.equal([wallets.relayer.address, ...extra.map((w) => w.address)]);
    expect((await loadServiceWallets({ dir, files, password: PASSWORD })).relayers.map((w) => w.address)).to.deep.equal([wallets.relayer.address]);
  });

  it("names the missing keystore of a pool key", async function () {
    writeKeystore(join(dir, "relayer-1.json"), Wallet.createRandom(), PASSWORD, true);
    const err = await loadServiceWallets({ dir, files, password: PASSWORD, relayerKeys: 3 }).catch((e: Error) => e);
    expect((err as Error).message).to.contain("RELAYER_KEYS=3").and.contain(join(dir, "relayer-2.json"));
  });

  it("names a missing service keystore and the CLI command that creates it", async function () {
    rmSync(join(dir, "operator.json"));
    const err = await loadServiceWallets({ dir, files, password: PASSWORD }).catch((e: Error) => e);
    expect((err as Error).message)
      .to.contain(join(dir, "operator.json"))
      .and.contain(`scf keys new operator --keys-dir ${dir}`)
      .and.not.contain("keys:init");
  });

  it("refuses a pool that holds one key twice (two nonce sequences would collide)", async function () {
    const same = Wallet.createRandom();
    writeKeystore(join(dir, "relayer.json"), same, PASSWORD, true);
    writeKeystore(join(dir, "relayer-1.json"), same, PASSWORD, true);
    const err = await loadServiceWallets({ dir, files, password: PASSWORD, relayerKeys: 2 }).catch((e: Error) => e);
    expect((err as Error).message).to.contain(same.address).and.contain("twice");
  });
});
