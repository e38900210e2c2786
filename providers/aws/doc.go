// Package aws trades a CI job's OIDC token for temporary AWS credentials
// with STS AssumeRoleWithWebIdentity. It replaces the OIDC path of
// aws-actions/configure-aws-credentials, and [Config] keeps that action's
// input names and defaults so workflows can switch without renaming.
//
// Choices, and why:
//
//   - One round trip. The account id and caller ARN are read from
//     AssumedRoleUser.Arn ([ParseAssumedRoleARN]) instead of a signed
//     GetCallerIdentity call, which also removes the IAM eventual-consistency
//     failures of that self-check.
//   - allowed-account-ids is enforced before anything is returned, so a
//     session in the wrong account is never exported: a check after
//     GITHUB_ENV is written would leave its credentials to later steps.
//   - Retries are few and classified by type: throttling, IDPCommunicationError,
//     5xx and network failures are retried within about 20 seconds; every
//     other STS code fails at once. The SDK's own retryer is switched off so
//     the two loops cannot multiply. Each attempt asks the identity for its
//     token, which is refreshed when it is close to expiry.
//   - Failures carry a hint and, for AccessDenied, the claims STS compared
//     and a trust-policy Condition that would admit exactly this token
//     (see [exchange.ProviderError]). Errors never contain the token, a
//     credential or a raw response body.
//   - The default session name is rendered from the run id and attempt
//     ([DefaultSessionNameTemplate]), so CloudTrail leads back to the run.
//   - Every input of configure-aws-credentials is declared ([Inputs]):
//     supported with its meaning, or refused with what to do instead, so
//     none is silently dropped.
//   - Role chaining is sts:AssumeRole signed per call with the previous
//     session's keys, on the same anonymous client: "> role" hops of
//     roles, or role-chaining from an earlier step's keys
//     ([Config.SourceCredentials]). A session that only signs the next hop
//     lasts 15 minutes, chained ones at most an hour, as AWS allows.
//   - Profiles are [exchange.Section]s of the shared config and
//     credentials files, which the CI edge merges; [Config.Parts] splits
//     roles into one exchange per profile. refresh writes no keys, only a
//     credential_process line that cmd renders.
//
// The STS client is reached through a small consumer-side interface, so
// tests can pass a func-type fake; package
// [github.com/oidc-exchange/oidc-exchange/providers/aws/stsfake] serves the
// real wire protocol for tests that drive the real SDK client.
package aws
