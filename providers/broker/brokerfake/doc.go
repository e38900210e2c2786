// Package brokerfake is an in-process RFC 8693 token broker with RFC 8414
// and OpenID Connect discovery, speaking the real wire format, so the
// broker provider can be driven against it in tests and in
// `go run ./cmd/oidc-exchange-demo broker`.
//
// # What it serves
//
//   - POST <IssuerPath>/token: token exchange. The body may be
//     application/x-www-form-urlencoded (the RFC), or application/json with
//     snake_case names (Pulumi, Octopus, JFrog) or camelCase names
//     (grantType, subjectToken, …: GCP STS); [Config.Formats] limits which.
//     Success is 200 application/json {"access_token", "issued_token_type",
//     "token_type", "expires_in", "scope"} with a random opaque token per
//     call; failures are {"error", "error_description"} with 400, or 401
//     invalid_client (with WWW-Authenticate: Basic when basic
//     authentication is accepted).
//   - GET /.well-known/oauth-authorization-server<IssuerPath> (RFC 8414,
//     path inserted) and GET <IssuerPath>/.well-known/openid-configuration,
//     naming the fake's own URL as issuer, or [Config.MetadataIssuer];
//     [Config.Metadata] selects which of the two exist.
//
// # What it checks
//
// In the order a broker would: the body format; client authentication
// when [Config.ClientID] is set (client_secret_basic with form-urlencoded
// credentials, or client_secret_post, as [Config.ClientAuths] allows);
// grant_type (unsupported_grant_type); subject_token,
// subject_token_type, requested_token_type and [Config.RequiredParams]
// such as Dex's connector_id (invalid_request); audience and resource
// against [Config.Audiences] and [Config.Resources] (invalid_target);
// scope against [Config.Scopes] (invalid_scope). Then it verifies the
// subject token with go-oidc against [Config.Issuer] and [Config.KeySet]
// for the REQUIRED [Config.Audience], the broker's own, so a token minted
// for a cloud cannot be replayed to it; applies [Config.Claims] as glob
// patterns ([exchange.Glob]); and with [Config.SingleUseJTI] refuses a jti
// seen before. Every token failure is invalid_grant with a description.
//
// # Test hooks
//
// Every token request is recorded with its raw and parsed body, the
// client authentication used and the answer ([Server.Requests],
// [Server.Issued]); answers can be scripted ahead of normal processing,
// including raw bodies for garbage and HTML pages and Retry-After
// ([Server.FailNext]); a total latency per answer, the fake's own work
// included, models a remote broker ([Server.SetLatency]).
//
// Usage:
//
//	fake, err := brokerfake.New(brokerfake.Config{
//		Issuer:   issuerURL,
//		KeySet:   oidc.NewRemoteKeySet(ctx, issuerURL+"/keys"),
//		Audience: "https://broker.example",
//		Claims:   map[string]string{"repository_owner_id": "123456", "ref": "refs/heads/main"},
//	})
//	srv := httptest.NewServer(fake) // token endpoint: srv.URL + brokerfake.TokenPath
//
// The fake answers loopback clients only and keeps every token it sees
// and issues in memory: it is meant for tests and local sandboxes.
package brokerfake
