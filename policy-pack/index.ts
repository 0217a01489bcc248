// The policy pack Pulumi runs with `pulumi preview --policy-pack policy-pack`. Constructing a
// PolicyPack starts its gRPC server, so the policies themselves live in policies.ts where tests can
// load them without this side effect.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("openai-apim-guardrails", { policies });
