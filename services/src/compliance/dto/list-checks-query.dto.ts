/** Query of GET /compliance/checks: which subject's checks to read. */
import { ApiProperty } from "@nestjs/swagger";
import { IsString, Matches } from "class-validator";

export class ListChecksQueryDto {
  @ApiProperty({
    description:
      'The subject as "<type>:<id>", type one of application, member, invoice, financing; the id as the checks were stored ' +
      "(application id, member address, invoice subject id, receivable id).",
    example: "member:0x8ba1f109551bD432803012645Ac136ddd64DBA72",
  })
  @IsString()
  @Matches(/^(application|member|invoice|financing):\S{1,80}$/, {
    message: 'subject must be "<type>:<id>" with type one of application, member, invoice, financing and an id of 1 to 80 characters without spaces',
  })
  subject!: string;
}
