/**
 * The HTTP side of the signed-act protocol, for every act route. `@SignedAct("receivables.accept")`
 * on a route binds it to the registered ActSpec of that name: the handler only gathers the request's
 * validated parts (an ActInput), and the interceptor runs the act through ActPipeline and answers
 * with its status (200 typed data, 202 the act, 201 a kept offer). Every act route honours an
 * Idempotency-Key, and `?wait=` is read by one parser (`@ActWait()`).
 */
import {
  Injectable,
  ParseBoolPipe,
  Query,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type Type,
} from "@nestjs/common";
import { Reflector } from "@nestjs/core";
import { AsyncResource } from "node:async_hooks";
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiQuery } from "@nestjs/swagger";
import type { Response } from "express";
import { from, type Observable } from "rxjs";
import { map, mergeMap } from "rxjs/operators";
import { ActPipeline } from "./act-pipeline.service";
import { SIGNED_ACT, type ActAnswer, type ActInput, type ActRoute } from "./act-spec";
import { ActResponseDto, UnsignedActDto } from "./dto/act.dto";
import { IdempotencyInterceptor } from "./idempotency.interceptor";


export interface SignedActOptions {
  /** The OpenAPI summary. */
  summary?: string;
  /** Interceptors that must run before the idempotency key is read (multipart parsing fills the body). */
  before?: Array<Type<NestInterceptor> | NestInterceptor>;
}

/** `?wait=true|false`, and nothing else (the global pipe refuses any other text, naming `wait`). */
export const ActWait = (): ParameterDecorator => Query("wait", new ParseBoolPipe({ optional: true }));

/** Binds a route to the signed act `act`; the handler returns the act's input. */
export function SignedAct(act: ActRoute, options: SignedActOptions = {}): MethodDecorator {
  return applyDecorators(
    SetMetadata(SIGNED_ACT, act),
    UseInterceptors(...(options.before ?? []), IdempotencyInterceptor, ActAnswerInterceptor),
    ...(options.summary ? [ApiOperation({ summary: options.summary })] : []),
    ApiQuery({ name: "wait", required: false, description: "Answer once the act is confirmed and indexed, or failed" }),
    ApiHeader({ name: "Idempotency-Key", required: false, description: "Same key and body: the first answer again" }),
    ApiOkResponse({ type: UnsignedActDto, description: "No signature in the body: the typed data to sign" }),
    ApiAcceptedResponse({ type: ActResponseDto, description: "Signed: the act, relayed through the outbox" }),
  );
}

/**
 * A two-step route outside the act pipeline (an EIP-2612 permit) whose handler returns an ActAnswer
 * itself: answered with its status, like the acts, and honouring an Idempotency-Key.
 */
export function Answered(): MethodDecorator {
  return UseInterceptors(IdempotencyInterceptor, ActAnswerInterceptor);
}

/** Runs the route's act (when it names one) and answers with the act's status and body: the one `answer()`. */
@Injectable()
export class ActAnswerInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly pipeline: ActPipeline,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const route = this.reflector.get<ActRoute | undefined>(SIGNED_ACT, ctx.getHandler());
    const res = ctx.switchToHttp().getResponse<Response>();
    // The act runs in the async context this interceptor is called in, not the one the handler's
    // value arrives in: the idempotency key held around it (AsyncLocalStorage) binds the recorded act.
    const run = AsyncResource.bind((name: string, input: ActInput) => this.pipeline.run(name, input));
    return next.handle().pipe(
      mergeMap((out: unknown) => {
        if (route === undefined) return from(Promise.resolve(out as ActAnswer));
        const input = out as ActInput;
        return from(run(typeof route === "string" ? route : route(input), input));
      }),
      map((answer) => {
        res.status(answer.status);
        return answer.body;
      }),
    );
  }
}
