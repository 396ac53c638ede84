/** Onboarding endpoints: any signed-in address applies; compliance officers decide. */
import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Param,
  ParseBoolPipe,
  ParseUUIDPipe,
  Post,
  Query,
  StreamableFile,
  UploadedFiles,
  UseInterceptors,
} from "@nestjs/common";
import { FilesInterceptor } from "@nestjs/platform-express";
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from "@nestjs/swagger";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import {
  ApplicationPageDto,
  ApplicationResponseDto,
  ApproveApplicationDto,
  CreateApplicationDto,
  ListApplicationsQueryDto,
  RejectApplicationDto,
} from "./dto/application.dto";
import { NOSNIFF } from "../common/documents.store";
import { OnboardingService, type UploadedDocument } from "./onboarding.service";
import { ApiProblems } from "../common/problem-details";
import { ApplicationUploadGate } from "./upload-gate";

@ApiTags("onboarding")
@ApiBearerAuth()
@ApiProblems(400, 401)
@Controller("onboarding/applications")
export class OnboardingController {
  constructor(private readonly onboarding: OnboardingService) {}

  @Post()
  @UseInterceptors(ApplicationUploadGate, FilesInterceptor("documents", 10))
  @ApiConsumes("multipart/form-data", "application/json")
  @ApiOperation({ summary: "Apply for membership (KYC documents as multipart field 'documents'); screening runs at once" })
  @ApiCreatedResponse({ type: ApplicationResponseDto })
  @ApiProblems(
    [409, "Already a member, an application already open, or the legal entity already registered"],
    [413, "A document, the applicant's documents together, or the document store over its cap"],
  )
  submit(
    @CurrentUser() user: AuthUser,
    @Body() dto: CreateApplicationDto,
    @UploadedFiles() files: UploadedDocument[] | undefined,
  ): Promise<ApplicationResponseDto> {
    return this.onboarding.submit(user.address, dto, files ?? []);
  }

  @Get()
  @ApiOperation({ summary: "Applications: your own, or all for compliance officers and auditors" })
  @ApiOkResponse({ type: ApplicationPageDto })
  list(@CurrentUser() user: AuthUser, @Query() q: ListApplicationsQueryDto): Promise<ApplicationPageDto> {
    return this.onboarding.list(user, q);
  }

  @Get(":id")
  @ApiOperation({ summary: "One application (applicant, compliance officers, auditors)" })
  @ApiOkResponse({ type: ApplicationResponseDto })
  @ApiProblems([403, "Not the applicant, a compliance officer or an auditor"], [404, "No such application"])
  get(@CurrentUser() user: AuthUser, @Param("id", ParseUUIDPipe) id: string): Promise<ApplicationResponseDto> {
    return this.onboarding.get(user, id);
  }

  @Get(":id/documents/:documentId")
  @Header(...NOSNIFF)
  @ApiProduces("application/octet-stream")
  @ApiOperation({ summary: "Download a KYC document as an attachment (applicant, compliance officers, auditors)" })
  @ApiOkResponse({ description: "The document, with its stored content type, as an attachment" })
  @ApiProblems([403, "Not the applicant, a compliance officer or an auditor"], [404, "No such application or document"])
  download(
    @CurrentUser() user: AuthUser,
    @Param("id", ParseUUIDPipe) id: string,
    @Param("documentId", ParseUUIDPipe) documentId: string,
  ): Promise<StreamableFile> {
    return this.onboarding.download(user, id, documentId);
  }

  @Post(":id/approve")
  @HttpCode(202)
  @RequireRoles("compliance")
  @ApiQuery({ name: "wait", required: false, description: "Wait until the registration is mined or failed" })
  @ApiOperation({ summary: "Approve: registers the applicant on-chain with a KYC expiry (compliance officers)" })
  @ApiAcceptedResponse({ type: ApplicationResponseDto })
  @ApiProblems([403, "Not a compliance officer"], [404, "No such application"], [409, "The application is already decided"])
  approve(
    @CurrentUser() user: AuthUser,
    @Param("id", ParseUUIDPipe) id: string,
    @Body() dto: ApproveApplicationDto,
    @Query("wait", new ParseBoolPipe({ optional: true })) wait?: boolean,
  ): Promise<ApplicationResponseDto> {
    return this.onboarding.approve(user, id, dto, wait ?? false);
  }

  @Post(":id/reject")
  @HttpCode(200)
  @RequireRoles("compliance")
  @ApiOperation({ summary: "Reject with a reason shown to the applicant (compliance officers)" })
  @ApiOkResponse({ type: ApplicationResponseDto })
  @ApiProblems([403, "Not a compliance officer"], [404, "No such application"], [409, "The application is already decided"])
  reject(
    @CurrentUser() user: AuthUser,
    @Param("id", ParseUUIDPipe) id: string,
    @Body() dto: RejectApplicationDto,
  ): Promise<ApplicationResponseDto> {
    return this.onboarding.reject(user, id, dto.reason);
  }
}
