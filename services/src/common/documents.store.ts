/**
 * Content-addressed storage for uploaded documents: each file is written once under
 * DOCUMENTS_DIR, named by its SHA-256, so uploading the same bytes twice stores them once and the
 * name itself proves the content.
 * Large uploads (onboarding) stream to disk into a staging folder (`.staging` inside
 * DOCUMENTS_DIR, so the move into place is a rename on one file system) and are moved into the
 * store only once the request that brought them has been accepted; whatever a refused or broken
 * request leaves in staging, and any stored file no record references, is swept away at boot and
 * periodically, once older than DOCUMENTS_ORPHAN_GRACE_MS (younger ones may belong to a request
 * still being handled).
 * Documents are served only as attachments with their stored type and `nosniff`, so a browser
 * never renders an uploaded file inline.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Inject, Injectable, Logger, StreamableFile, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import { SchedulerRegistry } from "@nestjs/schedule";
import { InjectDataSource } from "@nestjs/typeorm";
import contentDisposition from "content-disposition";
import { diskStorage, type StorageEngine } from "multer";
import { DataSource } from "typeorm";
import { APP_CONFIG, type AppConfig } from "../config/env";

const SHA256_NAME = /^[0-9a-f]{64}$/;
/** How long a measured size of the folder is trusted before it is measured again (other replicas and
 * the sweep change it too). */
const USAGE_TTL_MS = 30_000;

/** What multer's disk storage leaves on the request for one staged file. */
export interface StagedFile {
  originalname: string;
  mimetype: string;
  size: number;
  path: string;
}

@Injectable()
export class DocumentsStore {
  private readonly dir: string;
  readonly stagingDir: string;
  private usage: { bytes: number; at: number } | null = null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.dir = config.paths.documents;
    this.stagingDir = stagingDirOf(config);
    mkdirSync(this.stagingDir, { recursive: true });
  }

  static sha256(content: Buffer): string {
    return createHash("sha256").update(content).digest("hex");
  }

  /** SHA-256 hex of a file, read as a stream (never whole in memory). */
  static async sha256OfFile(path: string): Promise<string> {
    const hash = createHash("sha256");
    await pipeline(createReadStream(path), hash);
    return hash.digest("hex");
  }

  /** Stores `content` (atomically: temp file then rename) and returns its SHA-256 hex. */
  put(content: Buffer): string {
    const sha = DocumentsStore.sha256(content);
    const path = join(this.dir, sha);
    if (existsSync(path)) {
      // Fresh again, so the sweep cannot take it (as an orphan) before the new reference commits.
      const now = new Date();
      utimesSync(path, now, now);
    } else {
      const tmp = join(this.stagingDir, `${sha}.${process.pid}.${Date.now()}.tmp`);
      writeFileSync(tmp, content);
      renameSync(tmp, path);
      if (this.usage) this.usage.bytes += content.length;
    }
    return sha;
  }

  /** Moves a staged file whose SHA-256 is `sha256` into the store (or drops it if the bytes are there already). */
  async adopt(staged: StagedFile, sha256: string): Promise<void> {
    const path = join(this.dir, sha256);
    if (existsSync(path)) {
      // Fresh again, so the sweep cannot take it (as an orphan) before the new reference commits.
      const now = new Date();
      await utimes(path, now, now);
      await rm(staged.path, { force: true });
    } else {
      await rename(staged.path, path);
      if (this.usage) this.usage.bytes += staged.size;
    }
  }

  /** Removes staged files a request did not adopt. */
  static async discard(files: ReadonlyArray<{ path?: string }>): Promise<void> {
    await Promise.all(files.map((f) => (f.path ? rm(f.path, { force: true }) : undefined)));
  }

  get(sha256: string): Buffer | null {
    if (!SHA256_NAME.test(sha256)) return null;
    const path = join(this.dir, sha256);
    return existsSync(path) ? readFileSync(path) : null;
  }

  /** Bytes held in the store and in staging (measured at most every USAGE_TTL_MS). */
  async usedBytes(): Promise<number> {
    if (this.usage && Date.now() - this.usage.at < USAGE_TTL_MS) return this.usage.bytes;
    let total = 0;
    for (const d of [this.dir, this.stagingDir]) {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isFile()) total += (await stat(join(d, e.name)).catch(() => ({ size: 0 }))).size;
      }
    }
    this.usage = { bytes: total, at: Date.now() };
    return total;
  }

  /**
   * Deletes staged files and stored files not in `referenced` whose last change is older than
   * `before` (epoch ms); returns how many files went.
   */
  async sweep(referenced: ReadonlySet<string>, before: number): Promise<number> {
    let removed = 0;
    const drop = async (path: string) => {
      const s = await stat(path).catch(() => null);
      if (s?.isFile() && s.mtimeMs < before) {
        await rm(path, { force: true });
        removed++;
      }
    };
    for (const name of await readdir(this.stagingDir)) await drop(join(this.stagingDir, name));
    for (const name of await readdir(this.dir)) {
      if (SHA256_NAME.test(name) && !referenced.has(name)) await drop(join(this.dir, name));
    }
    this.usage = null;
    return removed;
  }
}

function stagingDirOf(config: AppConfig): string {
  return join(config.paths.documents, ".staging");
}

/**
 * Multer storage streaming each uploaded file to the staging folder under a random name, and
 * decoding multipart file names as UTF-8 (browsers and curl send UTF-8 bytes in `filename="…"`,
 * which multer would otherwise read as latin1: `å¢å¼ç¨…` for `增值税`).
 */
export function stagedUploads(config: AppConfig): { storage: StorageEngine; defParamCharset: "utf8" } {
  const destination = stagingDirOf(config);
  mkdirSync(destination, { recursive: true });
  return {
    storage: diskStorage({ destination, filename: (_req, _file, cb) => cb(null, `${randomUUID()}.upload`) }),
    defParamCharset: "utf8",
  };
}

/**
 * A stored document as a download: an attachment with its stored content type and its file name
 * as RFC 6266 / RFC 5987 (`filename*=UTF-8''…`, with an ASCII fallback), never inline. Pair with
 * `X-Content-Type-Options: nosniff` (DOWNLOAD_HEADERS) so browsers keep to the declared type.
 */
export function attachment(content: Buffer, filename: string, contentType: string): StreamableFile {
  return new StreamableFile(content, {
    type: contentType || "application/octet-stream",
    length: content.length,
    disposition: contentDisposition(filename || "document", { type: "attachment" }),
  });
}

export const NOSNIFF = ["X-Content-Type-Options", "nosniff"] as const;

/** Multipart file names as sent (UTF-8), for multer's options where uploads stay in memory. */
export const MULTIPART_UTF8 = { defParamCharset: "utf8" } as const;

/** Sweeps orphaned documents at boot and every DOCUMENTS_SWEEP_INTERVAL_MS. */
@Injectable()
export class DocumentsSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DocumentsSweeper.name);
  private static readonly JOB = "documents.sweep";

  constructor(
    private readonly store: DocumentsStore,
    // The sweep reads the documents two features reference (onboarding, receivables) in one query.
    @InjectDataSource() private readonly ds: DataSource,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const run = () => void this.sweep().catch((err: Error) => this.logger.warn(`sweeping documents failed: ${err.message}`));
    run();
    const timer = setInterval(run, this.config.DOCUMENTS_SWEEP_INTERVAL_MS);
    timer.unref();
    this.scheduler.addInterval(DocumentsSweeper.JOB, timer);
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist("interval", DocumentsSweeper.JOB)) this.scheduler.deleteInterval(DocumentsSweeper.JOB);
  }

  /** One pass: files nothing references (KYC documents, receivable documents) and staging leftovers. */
  async sweep(now = Date.now()): Promise<number> {
    const rows = (await this.ds.query(
      "SELECT sha256 FROM application_documents UNION SELECT sha256 FROM receivable_documents",
    )) as Array<{ sha256: string }>;
    const removed = await this.store.sweep(new Set(rows.map((r) => r.sha256)), now - this.config.DOCUMENTS_ORPHAN_GRACE_MS);
    if (removed) this.logger.log(`removed ${removed} orphaned document file(s)`);
    return removed;
  }
}
