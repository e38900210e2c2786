// Package githubfacts holds what the project knows about GitHub's OIDC
// tokens and how the clouds name them: the issuers of each GitHub
// deployment, the claim names, the sub formats and the AWS condition-key
// prefix of an issuer.
//
// These facts used to be written out wherever they were needed, in the
// verifier, the GitHub edge, the providers' error messages, the trust
// linter and the trust planner, and the copies drifted (one accepted an
// enterprise slug of any length, another only 100 characters). Kept here
// once, a new GitHub deployment or a new claim is a change in one file, and
// the linter and the planner cannot disagree about what an issuer is.
//
// The package is a leaf: it imports only the standard library, so that
// exchange, the CI edges, the providers and the trust tooling can all
// import it without an import running back up. Its functions build their
// tables on each call or once, never at package init.
//
// Which claims a verified token must carry as strings is [StringClaims];
// which an error shows when a cloud denies a token is [DenialClaims].
// [ClassifyHostPath] reads an issuer the lenient way a linter must (AWS
// names providers without a scheme); [ClassifyIssuer] is the strict
// reading a planner writes from. [NameSubject] and [ImmutableSubject] are
// the two sub formats GitHub issues by default.
package githubfacts
