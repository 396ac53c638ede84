/**
 * Content-addressed storage for uploaded documents: each file is written once under
 * DOCUMENTS_DIR, named by its SHA-256, so uploading the same bytes twice stores them once and the
 * name itself proves the content.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Inject, Injectable } from "@nestjs/common";
import { APP_CONFIG, type AppConfig } from "../config/env";

@Injectable()
export class DocumentsStore {
  private readonly dir: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.dir = config.paths.documents;
    mkdirSync(this.dir, { recursive: true });
  }

  static sha256(content: Buffer): string {
    return createHash("sha256").update(content).digest("hex");
  }

  /** Stores `content` (atomically: temp file then rename) and returns its SHA-256 hex. */
  put(content: Buffer): string {
    const sha = DocumentsStore.sha256(content);
    const path = join(this.dir, sha);
    if (!existsSync(path)) {
      const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(tmp, content);
      renameSync(tmp, path);
    }
    return sha;
  }

  get(sha256: string): Buffer | null {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
    const path = join(this.dir, sha256);
    return existsSync(path) ? readFileSync(path) : null;
  }
}
