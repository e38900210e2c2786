package exchange

import "context"

// TokenSource fetches the CI job's OIDC token for an audience.
// Implementations mask the token with the CI platform before returning it,
// so nothing printed afterwards can reveal it.
type TokenSource interface {
	Token(ctx context.Context, audience string) (Secret, error)
}

// Request carries what every provider needs besides its own configuration.
type Request struct {
	// Issuer and Audience are the verified iss and aud; providers use them
	// to explain trust-policy mismatches (condition keys are issuer-scoped).
	Issuer   string
	Audience string
	// CredentialSource tells a provider that writes a self-refreshing
	// credentials file (GCP external_account) where later processes can
	// fetch fresh tokens; nil when the token source cannot say.
	CredentialSource *CredentialSource
}

// CredentialSource describes how a process other than this one can obtain
// fresh subject tokens for the same audience, for credential files that
// refresh by themselves during long jobs. Exactly one of URL or File is
// set.
type CredentialSource struct {
	// URL answers a GET with the token; Headers are sent with it. GitHub's
	// are the runner's ID-token URL and its request token, which can mint
	// tokens for the rest of the job: a file holding them is a secret.
	URL     string
	Headers map[string]Secret
	// File holds the token, rewritten by whoever rotates it.
	File string
	// JSONField names the field of a JSON answer holding the token; ""
	// means the whole body is the token.
	JSONField string
}

// CredentialSourcer is implemented by token sources that can describe
// themselves as a [CredentialSource].
type CredentialSourcer interface {
	CredentialSource(audience string) (*CredentialSource, error)
}

// Provider trades a CI identity for credentials. Implementations return
// *ProviderError for upstream failures and must not print anything.
type Provider interface {
	Exchange(ctx context.Context, id *Identity, req *Request) (*Credentials, error)
}

// Masker registers a value with the CI platform's log masking.
type Masker interface {
	Mask(value string) error
}

// Exporter hands credentials to later steps or to the caller.
type Exporter interface {
	Export(ctx context.Context, c *Credentials) error
}

// Reporter receives the audit record of every exchange, failed or not.
type Reporter interface {
	Report(ctx context.Context, rec *AuditRecord) error
}

// NoopMasker masks nothing, for CLI runs outside any CI platform, where
// nothing is logged that a platform could mask.
type NoopMasker struct{}

// Mask implements [Masker].
func (NoopMasker) Mask(string) error { return nil }

var _ Masker = NoopMasker{}

// Targeter is implemented by providers that know their target before the
// exchange (a role ARN), so the audit record of a failed exchange still
// names what was asked for.
type Targeter interface {
	Target() string
}
