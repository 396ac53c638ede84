/** EIP-712 domains and types, and the state of any signed act. */
import { Controller, Get, Param } from "@nestjs/common";
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from "@nestjs/swagger";
import { CurrentUser, Public, type AuthUser } from "../auth/auth.decorators";
import { ActsService } from "./acts.service";
import { ActResponseDto, actView } from "./dto/act.dto";
import { ApiProblems } from "../common/problem-details";

@ApiTags("signed acts")
@Controller()
export class ActsController {
  constructor(private readonly acts: ActsService) {}

  @Get("eip712")
  @Public()
  @ApiOperation({ summary: "EIP-712 domains (chain id, contract addresses) and the types of every participant act" })
  eip712() {
    return this.acts.describe();
  }

  @Get("acts/:id")
  @ApiBearerAuth()
  @ApiOperation({ summary: "A signed act: pending, confirmed (tx hash, block) or failed (reason)" })
  @ApiOkResponse({ type: ActResponseDto })
  @ApiProblems(401, [403, "Not the signer, an auditor or a compliance officer"], [404, "No such act"])
  async get(@CurrentUser() user: AuthUser, @Param("id") id: string): Promise<ActResponseDto> {
    return actView(await this.acts.get(user, id));
  }
}
