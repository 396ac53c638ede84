/**
 * Measurement only (the query benchmark's Fastify variant), never loaded by the product: preloaded
 * into a service process with `--require`, it makes `createApp` build the same AppModule on Nest's
 * Fastify adapter instead of Express. What createApp does that is Express-only becomes a no-op:
 * body parsers (Fastify parses JSON itself), `trust proxy`, `x-powered-by`, the console's static
 * assets (GET API routes do not use them); helmet still runs, as middleware through @fastify/middie.
 * @nestjs/platform-fastify is not a dependency of the project: install it outside the tree
 *   mkdir /tmp/fx && cd /tmp/fx && npm init -y && npm install --legacy-peer-deps @nestjs/platform-fastify@11.2.8
 * and pass the variant to the benchmark:
 *   --variants "fastify:NODE_PATH=/tmp/fx/node_modules,NODE_OPTIONS=--require <this file>"
 */
"use strict";
/* eslint-disable @typescript-eslint/no-require-imports */
const { NestFactory } = require("@nestjs/core");
const { FastifyAdapter } = require("@nestjs/platform-fastify");

const create = NestFactory.create.bind(NestFactory);
NestFactory.create = async (module, options) => {
  const app = await create(module, new FastifyAdapter(), options);
  const noop = () => app;
  return new Proxy(app, {
    get(target, key) {
      if (key === "useBodyParser" || key === "set" || key === "disable" || key === "useStaticAssets") return noop;
      const v = Reflect.get(target, key);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
};
