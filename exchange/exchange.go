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
