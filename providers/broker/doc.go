// Package broker trades a CI job's OIDC token at any RFC 8693 token
// endpoint: an internal token broker, an IdP that implements token exchange
// (Keycloak, Dex, Okta-style), or a SaaS platform that federates workload
// identities with an RFC 8693-shaped request (Pulumi Cloud, JFrog, Octopus
// Deploy). The issued token is exported to later steps as one environment
// variable ([Config.ExportEnv], default [DefaultExportEnv]) and as the
// masked token output.
//
// # The request
//
// One POST to the token endpoint ([Config.URL], or the token_endpoint of
// the issuer's RFC 8414 / OpenID Connect metadata with [Config.Discovery])
// with, in this order:
//
//	grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//	subject_token=<the CI token>
//	subject_token_type=<jwt (default) or id_token>
//	requested_token_type=<access_token (default) or any token type URI>
//	audience=… (repeated)   resource=… (repeated)   scope=…
//	client_id / client_secret (client_secret_post, or a public client's id)
//	extra parameters (broker-extra-params)
//
// [FormatForm] sends them form-encoded, as the RFC says. [FormatJSON] sends a
// JSON object with the same names; a parameter given once is a string and
// one given several times an array of strings, since JSON objects cannot
// repeat a key and every JSON endpoint known takes a single audience as a
// string. [FormatJSONCamel] renames the RFC's parameters to camelCase
// (grantType, subjectToken, …), as GCP STS accepts them. Accept is
// application/json; with [ClientAuthBasic] the client id and secret are
// form-urlencoded, then sent as HTTP Basic credentials (RFC 6749 §2.3.1).
//
// Which format a platform wants, from its own clients and documentation:
//
//	Keycloak, Dex, Okta-style IdPs, internal brokers   form (Dex: client auth, connector_id, id_token)
//	GCP STS (sts.googleapis.com/v1/token)              form or json-camel
//	Pulumi Cloud (/api/oauth/token)                    json, id_token, requested type urn:pulumi:token-type:access_token:<kind>
//	Octopus Deploy (/token/v1)                         json, audience = the service account id
//	JFrog Platform (/access/api/v1/oidc/token)         json, id_token, provider_name as an extra parameter
//
// # The answer
//
// A 2xx answer must be JSON (application/json or application/*+json) with
// a non-empty access_token of printable ASCII. token_type, when present,
// must be Bearer or N_A (any case; the output spells them canonically).
// expires_in may be a number or a numeric string (Octopus); without it the
// credentials have no expiry and the expires-at output is "". A
// refresh_token is never exported, logged or returned, and a refresh token
// is never requested (requested-token-type refuses it): it is long-lived.
//
// issued_token_type must fulfil the request: the requested type itself;
// for an access_token request also jwt, since many brokers issue JWT
// access tokens and say so; for a vendor's own type also access_token or
// jwt. Any other type (an ID token, a refresh token, SAML) is refused with
// [exchange.ErrProviderRejected] and nothing is exported. RFC 8693 requires
// issued_token_type, but token endpoints that grew out of RFC 6749 omit it:
// an answer without it is accepted only when an access token was
// requested, and reported as one.
//
// # Failures
//
// Error answers are classified by their RFC 6749 / 8693 error code first,
// then by status, so Dex's 401 access_denied is a denial, not a client
// authentication failure. When the subject token had expired by the time
// the broker answered invalid_grant (the RFC), access_denied (Dex) or
// invalid_request (zitadel), the failure is [exchange.ErrTokenExpired]
// with a hint about clocks and re-running, whatever the code. invalid_grant,
// access_denied, unauthorized_client and invalid_target are
// [exchange.ErrProviderDenied] and explained with the token's claims and
// the parameters sent; invalid_client, invalid_request,
// unsupported_grant_type, invalid_scope and request_not_supported are
// [exchange.ErrProviderRejected]. Each code has one hint. error_description
// is sanitized, capped and scrubbed of the subject token, the client secret
// and anything JWT-shaped; error_uri is shown when it is https. Bodies are
// never quoted: an HTML error page is reported by its status alone.
//
// Only 5xx, 408, 429, server_error, temporarily_unavailable and network
// failures are retried, within [DefaultRetryMaxAttempts] attempts and about
// 20 seconds, honouring Retry-After; then the failure is
// [exchange.ErrProviderUnavailable]. Each attempt asks the identity for its
// token, which is refreshed when close to expiry. Answers are read up to
// 1 MiB whatever HTTP client is injected; a 2xx answer that is not a usable
// token answer (not JSON, no access_token, an unknown token_type, over the
// cap) is [exchange.ErrProviderAnswer], permanent. Redirects of the token request
// are not followed (a 307 would resend the subject token elsewhere).
//
// Package [github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake]
// is an in-process broker speaking this protocol, for tests and the demo.
package broker
