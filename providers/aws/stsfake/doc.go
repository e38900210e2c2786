// Package stsfake is an in-process AWS STS that answers
// AssumeRoleWithWebIdentity over the real Query/XML protocol, so the real
// AWS SDK client can be driven against it in tests and in the local demo.
//
// # Why a wire-level fake
//
// A func-type fake of the SDK interface proves our classification logic,
// but not that the SDK sends what we think (form fields, no signature) or
// that our error handling survives the SDK's own XML parsing. [Server]
// speaks the protocol the SDK speaks in production:
//
//   - POST / with an application/x-www-form-urlencoded body carrying
//     Action=AssumeRoleWithWebIdentity and Version=2011-06-15;
//   - success: 200 text/xml, an AssumeRoleWithWebIdentityResponse in the
//     https://sts.amazonaws.com/doc/2011-06-15/ namespace, with random
//     credentials (an ASIA… key id, a secret that contains "/" and "+");
//   - failure: an ErrorResponse with Error/Type, Error/Code, Error/Message
//     and RequestId, with the HTTP status STS uses for that code.
//
// # What it checks
//
// Like STS it rejects signed requests and missing or malformed parameters
// (ValidationError), session names outside [\w+=,.@-]{2,64}, durations
// outside 900–43200 seconds or above the role's maximum. It verifies the
// WebIdentityToken with go-oidc against the configured issuer and key set
// (InvalidIdentityToken, ExpiredTokenException), then applies a
// [TrustPolicy] — an exact audience and glob patterns for sub — and the
// configured role ARN (AccessDenied).
//
// # Test hooks
//
// Every request is recorded ([Server.Requests]); failures can be scripted
// ahead of normal processing ([Server.FailNext]); and a per-request latency
// models a remote endpoint in benchmarks ([Server.SetLatency]).
//
// Usage:
//
//	keys := oidc.NewRemoteKeySet(ctx, issuerURL+"/keys")
//	fake, err := stsfake.New(stsfake.Config{
//		Issuer:  issuerURL,
//		KeySet:  keys,
//		RoleARN: "arn:aws:iam::111122223333:role/deploy",
//		Trust: stsfake.TrustPolicy{
//			Audience: "sts.amazonaws.com",
//			Subjects: []string{"repo:octo-org/octo-repo:ref:refs/heads/main"},
//		},
//	})
//	srv := httptest.NewServer(fake)
//
// The fake holds every token it receives and every credential it issues in
// memory, for assertions; it is meant for tests and local sandboxes only.
package stsfake
