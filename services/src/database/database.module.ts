import { Global, Module } from "@nestjs/common";
import { DbWriter } from "./db-writer";

@Global()
@Module({ providers: [DbWriter], exports: [DbWriter] })
export class DatabaseModule {}
