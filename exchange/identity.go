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

	supplier *tokenSupplier
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
	if id.supplier == nil {
		return Secret{}, fmt.Errorf("identity has no token supplier: %w", ErrTokenUnavailable)
	}
	return id.supplier.current(ctx)
}

// NewIdentityForTest builds an identity whose SubjectToken returns raw,
// for provider tests that do not run a whole pipeline.
func NewIdentityForTest(claims map[string]any, raw string) *Identity {
	id := identityFromClaims(claims)
	id.supplier = &tokenSupplier{token: NewSecret(raw), identity: id, fixed: true}
	return id
}

// identityFromClaims fills the registered claims from a payload map.
func identityFromClaims(claims map[string]any) *Identity {
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
