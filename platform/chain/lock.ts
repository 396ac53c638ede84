/**
 * `<dataDir>/chain/LOCK`: the pid of the one process serving a data directory. A second process is
 * refused; a lock left by a process that no longer runs (SIGKILL) is taken over.
 */
import * as fs from "node:fs";
import * as path from "node:path";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes `<chainDir>/LOCK` and returns its release. */
export function acquireLock(chainDir: string, log: (l: string) => void): () => void {
  const lockFile = path.join(chainDir, "LOCK");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockFile, "wx");
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(lockFile, "utf8").trim() === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = Number(fs.readFileSync(lockFile, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(`durable chain: ${chainDir} is in use by process ${owner} (${lockFile})`);
      }
      if (owner === process.pid) throw new Error(`durable chain: ${chainDir} is already served by this process`);
      log(`durable chain: taking over the lock left by process ${owner || "?"} (no longer running)`);
      fs.unlinkSync(lockFile);
    }
  }
  throw new Error(`durable chain: could not take ${lockFile}`);
}
