// Package gcp trades a CI job's OIDC token for Google Cloud credentials with
// Workload Identity Federation. It replaces google-github-actions/auth, and
// [Config] keeps that action's inputs (in kebab-case) and defaults so
// workflows can switch without rethinking their setup.
//
// The exchange, each step through Google's own libraries:
//
//  1. STS token exchange (cloud.google.com/go/auth/credentials/externalaccount,
//     with a SubjectTokenProvider that asks the identity for its current
//     token on every attempt) gives a federated token for the workload
//     identity provider;
//  2. with service-account, IAM Credentials (cloud.google.com/go/iam/credentials/apiv1)
//     generateAccessToken or generateIdToken impersonates it; with
//     access-token-subject, signJwt plus a jwt-bearer grant at the OAuth
//     server (golang.org/x/oauth2/clientcredentials) gives a Workspace
//     user's token (domain-wide delegation);
//  3. with access-boundary, a second STS exchange
//     (cloud.google.com/go/auth/credentials/downscope) applies a Credential
//     Access Boundary ([ParseAccessBoundary]).
//
// Outputs are masked tokens (auth-token, access-token, id-token), never
// environment variables; the project id goes to the gcloud and client
// library variables. [CredentialsFile] renders an external_account file
// with which client libraries and gcloud refresh by themselves.
//
// Choices, and why:
//
//   - The credentials file is handed to the CI edge only after the
//     exchange succeeded, so a failed run leaves no file that later
//     steps could mistake for working credentials, and it carries
//     token_lifetime_seconds, so
//     access-token-lifetime reaches client libraries too. It cannot carry
//     an access boundary, so the two are refused together.
//   - Retries are few and classified by type: 408, 429, 5xx and network
//     failures of each call are retried within about 20 seconds; every
//     other answer fails at once, because it will not change on a retry.
//     The Google libraries add no loop of their own: the auth library and
//     x/oauth2 make one request per call, and the generated IAM
//     Credentials retry settings (503/504 for up to a minute) are cleared.
//   - Failures carry a hint and, for denials, the claims Google compared, a
//     the attribute condition trust/plan writes for this job (so it lints
//     clean), and for PERMISSION_DENIED the role and the plan's principalSet
//     to grant, as a gcloud command. Errors never contain a token or a raw response body:
//     STS and OAuth error bodies are parsed into [OAuthError] by the HTTP
//     transport before the libraries see them, because
//     cloud.google.com/go/auth reports them untyped with the body quoted.
//   - Domain-wide delegation assertions are clamped to Google's one-hour
//     limit; the default audience and resource names keep
//     iam.googleapis.com in every universe, while universe and the endpoint
//     overrides move the hosts.
//
// # Binary size
//
// Measured with CGO_ENABLED=0 go build -trimpath -ldflags "-s -w"
// ./cmd/oidc-exchange (linux/amd64, Go 1.26):
//
//	before this package                                     11,616,418 bytes
//	+ auth externalaccount and downscope only               12,239,010 bytes
//	+ google.golang.org/api/iamcredentials/v1 (REST)        18,145,442 bytes
//	+ cloud.google.com/go/iam/credentials/apiv1 (REST)      18,911,394 bytes
//	this package as built (apiv1 REST, x/oauth2)            19,062,946 bytes
//
// Both IAM Credentials clients pull google.golang.org/api/transport/http,
// and with it gRPC, s2a and OpenTelemetry, for about 6 MB; apiv1 adds
// 0.77 MB over the discovery-based client, well under the 10 MB that would
// have justified the latter, so this package uses apiv1 on its REST
// transport. That stack is what keeps the binary above 16 MiB and its
// start above 18 MB of RSS: 242 of the binary's 563 packages are linked
// for this client alone (CONTRIBUTING.md, benchmarks).
//
// Every call is reached through a one-method, consumer-side interface, so
// tests can pass func-type fakes; package
// [github.com/oidc-exchange/oidc-exchange/providers/gcp/gcpfake] serves the
// real wire protocols for tests and the demo that drive the real libraries.
package gcp
