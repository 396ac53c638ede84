/**
 * The content-addressed document store (KYC documents, receivable documents) and its orphan
 * sweeper: one store for the whole service, imported by the features that keep documents.
 */
import { Module } from "@nestjs/common";
import { DocumentsStore, DocumentsSweeper } from "./documents.store";

@Module({ providers: [DocumentsStore, DocumentsSweeper], exports: [DocumentsStore] })
export class DocumentsModule {}
