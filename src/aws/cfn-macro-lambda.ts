// The Lambda entry point of the `Vigil` CloudFormation macro (handler: cfn-macro-lambda.handler).
// Image configs are read from registries with the function's own credentials (its role for ECR).

import { createMacroHandler } from "../protect/ecs/cfn-macro.js";
import { resolveImageConfig } from "../registry/image-config.js";

export const handler = createMacroHandler({
  env: process.env,
  resolver: async (ref, platform) => {
    const config = await resolveImageConfig(ref, platform, { env: process.env });
    return { entrypoint: config.entrypoint, cmd: config.cmd, ...(config.os === undefined ? {} : { os: config.os }) };
  },
});
