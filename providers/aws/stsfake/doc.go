// Package stsfake is an in-process AWS STS that answers
// AssumeRoleWithWebIdentity and AssumeRole over the real Query/XML
// protocol, so the real AWS SDK client can be driven against it in tests
// and in the local demo, web identity and role chaining alike.
//
// # Why a wire-level fake
//
// A func-type fake of the SDK interface proves our classification logic,
// but not that the SDK sends what we think (form fields, a signature or
// none) or that our error handling survives the SDK's own XML parsing.
// [Server] speaks the protocol the SDK speaks in production:
//
//   - POST / with an application/x-www-form-urlencoded body carrying
//     Action=AssumeRoleWithWebIdentity or Action=AssumeRole and
//     Version=2011-06-15;
//   - success: 200 text/xml, an AssumeRoleWithWebIdentityResponse or an
//     AssumeRoleResponse in the https://sts.amazonaws.com/doc/2011-06-15/
//     namespace, each in the element order of STS's documented sample,
//     with random credentials (an ASIA… key id, a secret that contains
//     "/" and "+");
//   - failure: an ErrorResponse with Error/Type, Error/Code, Error/Message
//     and RequestId, with the HTTP status STS uses for that code
//     ([StatusFor]).
//
// # Roles
//
// The fake holds roles in any number of accounts: the first in
// [Config.RoleARN], more in [Config.Roles]. A session's ARN carries its
// role's account. Each [Role] may trust web identities ([TrustPolicy]: an
// exact audience and glob patterns for sub), the sessions of other roles
// ([Role.TrustedRoles], optionally with an external id), or both. Any
// other role is AccessDenied, as STS says for a role that does not exist.
//
// # AssumeRoleWithWebIdentity
//
// Like STS it rejects signed requests and missing or malformed parameters
// (ValidationError), session names outside [\w+=,.@-]{2,64}, durations
// outside 900–43200 seconds or above the role's maximum. It verifies the
// WebIdentityToken with go-oidc against the configured issuer and key set
// (InvalidIdentityToken, ExpiredTokenException); an audience that is no
// role's is InvalidIdentityToken, as for a client id the IAM OIDC provider
// does not list. Then it applies the named role's trust (AccessDenied).
//
// # AssumeRole
//
// AssumeRole must be signed with SigV4, in the Authorization header, by
// credentials the fake issued: a web-identity session, an earlier
// AssumeRole's, or one minted with [Server.Issue] to stand for credentials
// an earlier step exported. The fake checks the header's shape and the
// X-Amz-Date (IncompleteSignature), the credential scope's date, service
// and terminator (SignatureDoesNotMatch; any region is accepted and
// recorded), the key and its X-Amz-Security-Token (InvalidClientTokenId),
// the session's expiry against [Config.Now] (ExpiredToken), and then the
// signature itself: it signs a copy of the request, reduced to the headers
// the client signed, with the session's secret at the client's X-Amz-Date,
// using the SDK's own signer, and compares (SignatureDoesNotMatch). An
// unsigned call is MissingAuthenticationToken.
//
// Then the parameters (RoleArn, RoleSessionName, DurationSeconds,
// ExternalId, Policy, PolicyArns.member.N.arn, Tags.member.N.Key/Value at
// most 50 with keys of 1–128 and values of up to 256 characters,
// TransitiveTagKeys.member.N, SourceIdentity, SerialNumber, TokenCode),
// the target role's trust of the caller's role and its external id
// (AccessDenied, "User: <caller session ARN> is not authorized to perform:
// sts:AssumeRole on resource: <role>"), and the duration: every caller is a
// role session, so the role-chaining limit of one hour applies
// ([ChainedMaxSeconds]; no DurationSeconds gets an hour), and so does the
// role's maximum.
//
// # What is not simulated
//
//   - Policy evaluation is a stand-in: trust is the lists above, not IAM
//     policy documents; session policies are checked for shape and size
//     only, and PackedPolicySize is the share of 2048 bytes that policies
//     and tags use. PackedPolicyTooLarge, RegionDisabledException,
//     IDPCommunicationError and throttling come only from [Server.FailNext].
//   - No MFA: the fake knows no devices, so SerialNumber or TokenCode is
//     AccessDenied once the shapes are checked.
//   - SourceIdentity is checked for shape, answered, and carried on to
//     chained sessions that set none; no trust policy requires it and a
//     chained call may change it. Session tags are validated and recorded
//     in the form, but neither carried on nor matched against anything.
//   - No IAM users or root: every caller is a role session, and every
//     AssumeRole is role chaining.
//   - No clock-skew check: a signature is verified at the X-Amz-Date it
//     names, however far that is from [Config.Now], so tests may move the
//     fake's clock freely. Only header signatures: a presigned query is
//     IncompleteSignature, and a Date header does not stand in for
//     X-Amz-Date.
//
// # Test hooks
//
// Every request is recorded ([Server.Requests]) with its action, role and,
// for AssumeRole, the signing region, access key and source session's
// role; failures can be scripted ahead of normal processing, for any
// request or for one action ([Server.FailNext]); answers can be shaped
// like other STS implementations' ([Server.ShapeAnswers]); and a
// per-request latency models a remote endpoint in benchmarks
// ([Server.SetLatency]).
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
//		Roles: []stsfake.Role{{
//			ARN:          "arn:aws:iam::444455556666:role/prod",
//			TrustedRoles: []string{"arn:aws:iam::111122223333:role/deploy"},
//		}},
//	})
//	srv := httptest.NewServer(fake)
//
// The fake holds every token it receives and every credential it issues in
// memory, for assertions; it is meant for tests and local sandboxes only.
package stsfake
