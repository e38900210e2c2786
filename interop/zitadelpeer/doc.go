// Package zitadelpeer runs a real, independent RFC 8693 token endpoint for
// the interoperability suite: the OpenID Provider of
// github.com/zitadel/oidc/v3/pkg/op (v3.52.0) on 127.0.0.1, in-process.
//
// Everything on the wire is zitadel's: request parsing, client
// authentication, token type checks, error codes and statuses, token
// minting and signing, discovery and the JWKS. This package supplies only
// what zitadel leaves to its storage interface, written the way a workload
// broker in front of GitHub Actions would write it:
//
//   - subject tokens from the configured upstream issuer are verified with
//     go-oidc (signature, issuer, expiry, and audience: unlike Dex, this
//     broker refuses a token minted for somebody else);
//   - the token's claims must equal the configured policy, else
//     access_denied;
//   - actor tokens, unknown scopes and unlisted audiences are refused;
//   - issued access tokens are JWTs carrying the workload's repository
//     claims, so a test can verify what it was given against the peer's
//     own JWKS.
//
// It exists so our broker client is proven against a server we did not
// write. Dex, the peer issue #4 names, cannot be built from the module
// proxy reachable here; see interop/README.md.
package zitadelpeer
