package exchange

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Identity is what the CI job's token says about the job. Claims are read
// from the token's payload; [Pipeline] releases credentials only once the
// token's signature has been verified too.
type Identity struct {
	Issuer   string
	Subject  string
	Audience []string
	Expiry   time.Time
	IssuedAt time.Time
	// Claims holds every claim of the payload. GitHub encodes its custom
	// claims (ids, booleans) as strings; [Identity.Claim] reads them.
	Claims map[string]any
	// Source hands out the raw token to present upstream; see
	// [Identity.SubjectToken]. The pipeline sets it to a source that
	// re-fetches a token about to expire and checks the fresh one as it
	// checked the first.
	Source SubjectTokenSource
}

// SubjectTokenSource gives a provider the token to present upstream, once
// per attempt.
type SubjectTokenSource interface {
	SubjectToken(ctx context.Context) (Secret, error)
}

// Claim returns a string claim, or "" when it is absent or not a string.
func (id *Identity) Claim(name string) string {
	if id == nil {
		return ""
	}
	s, _ := id.Claims[name].(string)
	return s
}

// ClaimNames lists the token's claims, sorted.
func (id *Identity) ClaimNames() []string {
	names := make([]string, 0, len(id.Claims))
	for k := range id.Claims {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// SubjectToken returns the raw token to present upstream. When the token
// held is close to expiry it fetches, checks and starts verifying a fresh
// one first, so retries never send a token that is about to die. Providers
// call it once per attempt.
func (id *Identity) SubjectToken(ctx context.Context) (Secret, error) {
	if id.Source == nil {
		return Secret{}, fmt.Errorf("identity has no token source: %w", ErrTokenUnavailable)
	}
	return id.Source.SubjectToken(ctx)
}

// IdentityFromClaims fills the registered claims (iss, sub, aud, exp, iat)
// from a token's payload. It checks nothing: [Verifier.Peek] and
// [Verifier.Verify] build identities with it after their checks.
func IdentityFromClaims(claims map[string]any) *Identity {
	id := &Identity{Claims: claims}
	id.Issuer, _ = claims["iss"].(string)
	id.Subject, _ = claims["sub"].(string)
	switch aud := claims["aud"].(type) {
	case string:
		id.Audience = []string{aud}
	case []any:
		for _, a := range aud {
			if s, ok := a.(string); ok {
				id.Audience = append(id.Audience, s)
			}
		}
	}
	id.Expiry = numericDate(claims["exp"])
	id.IssuedAt = numericDate(claims["iat"])
	return id
}

// numericDate is the time of a NumericDate claim, or the zero time for
// anything else (the grammar has refused other types already).
func numericDate(v any) time.Time {
	t, err := numericDateOf(v)
	if err != nil {
		return time.Time{}
	}
	return t.Truncate(time.Second)
}
