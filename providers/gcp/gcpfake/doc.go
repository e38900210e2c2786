// Package gcpfake is an in-process Google STS, IAM Credentials and OAuth
// server that answers over the real JSON protocols, so the real Google
// client libraries (cloud.google.com/go/auth, cloud.google.com/go/iam,
// golang.org/x/oauth2) can be driven against it in tests and in the local
// demo.
//
// # Why a wire-level fake
//
// Func-type fakes of the provider's interfaces prove its classification
// logic, but not that the libraries send what we think (form fields,
// scopes, lifetimes, the access boundary) or that our error handling
// survives their parsing. [Server] speaks what they speak in production:
//
//   - STS, POST /v1/token: the RFC 8693 token exchange, as a form body
//     (what the Go libraries send) or as a JSON body with camelCase fields
//     (what google-github-actions/auth sends). A CI OIDC token
//     (subject_token_type …:jwt) gives a federated token; an access token
//     with options {"accessBoundary": …} gives a downscoped one. Answers
//     {"access_token", "issued_token_type", "token_type": "Bearer",
//     "expires_in"}; failures {"error", "error_description"} with 400 or
//     401.
//   - IAM Credentials, POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken,
//     :generateIdToken and :signJwt, with the federated token as Bearer.
//     Failures are Google API errors, {"error": {"code", "message",
//     "status"}}, e.g. 403 PERMISSION_DENIED "Permission
//     'iam.serviceAccounts.getAccessToken' denied on resource (or it may
//     not exist)."
//   - The OAuth server, POST /token: the jwt-bearer grant of domain-wide
//     delegation, checking the assertion signJwt produced.
//
// # What it checks
//
// STS verifies the subject token with go-oidc against the configured
// issuer and key set, checks the audience against the provider's allowed
// audiences and applies an attribute condition expressed as required claim
// values (glob patterns, see [exchange.Glob]). IAM Credentials checks the
// Bearer token against the tokens it issued and the caller's principal
// (principal://…/subject/…, principalSet://…/attribute.NAME/VALUE or
// principalSet://…/*) against the service account's bindings: roles/iam.workloadIdentityUser
// admits generateAccessToken and generateIdToken, roles/iam.serviceAccountTokenCreator
// also signJwt. The OAuth server verifies the assertion's signature,
// issuer, audience and lifetime (at most an hour) and the delegated users.
//
// # Test hooks
//
// Every request is recorded with its parsed body ([Server.Requests]);
// failures can be scripted per endpoint ahead of normal processing
// ([Server.FailNext]); a total latency per answer models a remote
// endpoint in benchmarks ([Server.SetLatency]); every token is random and
// can be looked up ([Server.Token]).
//
// The fake answers loopback clients only and keeps every token it sees
// in memory: it is meant for tests and local sandboxes.
package gcpfake
