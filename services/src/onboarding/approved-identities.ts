/**
 * The legal identities members registered with: their approved applications. A narrow reader the
 * onboarding feature exports, so participant lookups and invoice-number reads never touch the
 * applications table themselves.
 */
import { Injectable } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { In, type Repository } from "typeorm";
import { ApplicationEntity } from "./entities/application.entity";

/** Rows per `IN (…)`: under every engine's bound-parameter limit. */
const IN_CHUNK = 500;

@Injectable()
export class ApprovedIdentities {
  constructor(@InjectRepository(ApplicationEntity) private readonly applications: Repository<ApplicationEntity>) {}

  /** The latest approved application of each address (every approved member's when `addresses` is null). */
  async ofAddresses(addresses: string[] | null): Promise<Map<string, ApplicationEntity>> {
    if (addresses && !addresses.length) return new Map();
    const apps: ApplicationEntity[] = [];
    if (addresses === null) apps.push(...(await this.applications.find({ where: { status: "approved" }, order: { createdAt: "ASC" } })));
    else {
      for (let i = 0; i < addresses.length; i += IN_CHUNK) {
        apps.push(...(await this.applications.find({ where: { status: "approved", applicant: In(addresses.slice(i, i + IN_CHUNK)) }, order: { createdAt: "ASC" } })));
      }
      apps.sort((a, b) => a.createdAt - b.createdAt);
    }
    return new Map(apps.map((a) => [a.applicant, a]));
  }

  /** Every tax id (entity id, upper-cased) an approved application registered, once each. */
  async entityIds(): Promise<string[]> {
    const apps = await this.applications.find({ select: { entityId: true }, where: { status: "approved" } });
    return [...new Set(apps.map((a) => a.entityId.toUpperCase()))];
  }
}
