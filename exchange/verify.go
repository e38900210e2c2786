package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// VerifierConfig configures a [Verifier].
type VerifierConfig struct {
	// Issuer is the exact expected iss; discovery is fetched from it.
	Issuer Issuer
	// Audience is the exact aud the token must carry.
	Audience string
	// HTTPClient is the hardened client for discovery and JWKS. Required
	// unless KeySet is set.
	HTTPClient *http.Client
	// KeySet, when set, replaces discovery and the remote JWKS. Tests use it
	// with the real GitHub JWKS; production leaves it nil.
	KeySet oidc.KeySet
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Retry bounds retries of discovery and JWKS fetches.
	Retry httpclient.Policy
}

// Verifier checks a CI job's OIDC token with go-oidc: RS256 only, exact
// issuer and audience, a valid exp and nbf, a non-empty sub and string-typed
// claims. It discovers the issuer's metadata once and follows jwks_uri, so
// enterprise slug issuers whose JWKS lives elsewhere work.
//
// A Verifier serves one run (one issuer, one audience): discovery, retried
// within the policy, happens once and its result, failure included, is
// kept; the JWKS is cached and refetched on an unknown kid.
type Verifier struct {
	cfg VerifierConfig

	once     sync.Once
	verifier *oidc.IDTokenVerifier
	err      error
}

// NewVerifier validates cfg and returns a verifier. No network call is made
// until [Verifier.Warm] or [Verifier.Verify].
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Issuer.url == "" {
		return nil, InputError("oidc-issuer", "must not be empty")
	}
	if cfg.Audience == "" {
		return nil, InputError("audience", "must not be empty")
	}
	if cfg.HTTPClient == nil && cfg.KeySet == nil {
		return nil, errors.New("verifier needs an HTTP client or a key set")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Retry.MaxAttempts == 0 {
		cfg.Retry = httpclient.DefaultPolicy()
	}
	return &Verifier{cfg: cfg}, nil
}

// Issuer returns the expected issuer.
func (v *Verifier) Issuer() string { return v.cfg.Issuer.url }

// Audience returns the expected audience.
func (v *Verifier) Audience() string { return v.cfg.Audience }

// Issuer is an expected issuer that passed [ValidateIssuer]. Only
// [ParseIssuer] makes one, so the issuer is checked once, where the
// setting is read, and a [Verifier] can rely on it.
type Issuer struct{ url string }

// ParseIssuer validates s with [ValidateIssuer].
func ParseIssuer(s string) (Issuer, error) {
	if err := ValidateIssuer(s); err != nil {
		return Issuer{}, err
	}
	return Issuer{url: s}, nil
}

// String returns the issuer's URL.
func (i Issuer) String() string { return i.url }

// ValidateIssuer accepts an https URL without query, fragment or userinfo,
// or plain http on a loopback host (tests, the demo). A path is allowed
// (GHES "/_services/token", enterprise slugs) but each segment must be a
// plain slug-like name, so a crafted issuer cannot smuggle dot-segments.
func ValidateIssuer(issuer string) error {
	if issuer == "" {
		return InputError("oidc-issuer", "must not be empty")
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return InputError("oidc-issuer", "not a URL: %v", err)
	}
	if err := httpclient.CheckURL(u); err != nil {
		return InputError("oidc-issuer", "%v", err)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(issuer, "?") || strings.HasSuffix(issuer, "#") {
		return InputError("oidc-issuer", "must not have a query or fragment")
	}
	if strings.HasSuffix(u.Path, "/") {
		return InputError("oidc-issuer", "must not end with a slash: the token's iss never does")
	}
	if u.Path == "" {
		return nil
	}
	for _, seg := range strings.Split(strings.TrimPrefix(u.Path, "/"), "/") {
		// GHES's "_services" is the one segment with a leading underscore.
		if !githubfacts.ValidSlug(strings.TrimPrefix(seg, "_")) {
			return InputError("oidc-issuer", "path segment %q is not a plain name", Sanitize(seg))
		}
	}
	return nil
}

// noKeys is the key set of [Verifier.Peek], which never checks signatures.
type noKeys struct{}

func (noKeys) VerifySignature(context.Context, string) ([]byte, error) {
	return nil, errors.New("peek does not verify signatures")
}

// Peek checks everything about a token but its signature, without a
// network call: the strict grammar of [parseToken] (compact RS256 JWS, no
// key-bearing headers, no duplicate or case-variant keys, typed registered
// claims), then the issuer, exactly the expected audience, exp and nbf, an
// iat no further ahead than [ClockSkew], a non-empty sub and string-typed
// GitHub claims. Every token the pipeline sends has passed it, so a token
// it refuses never leaves the runner. Nothing it returns is trusted until
// [Verifier.Verify] succeeds on the same token; [Pipeline] enforces that.
func (v *Verifier) Peek(raw string) (*Identity, error) {
	if _, err := parseToken(raw); err != nil {
		return nil, err
	}
	pv := oidc.NewVerifier(v.cfg.Issuer.url, noKeys{}, &oidc.Config{
		// Issuer and audience are compared right below so that a mismatch
		// gets its own error; Verify checks both again with ClientID set.
		SkipClientIDCheck: true,
		SkipIssuerCheck:   true,
		// Peek must work before the JWKS is fetched. Verify checks the
		// signature before any credential is released.
		InsecureSkipSignatureCheck: true,
		SupportedSigningAlgs:       []string{oidc.RS256},
		Now:                        v.cfg.Now,
	})
	tok, err := pv.Verify(context.Background(), raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, fmt.Errorf("token expired at %s: %w", expired.Expiry.UTC().Format(time.RFC3339), ErrTokenExpired)
		}
		return nil, fmt.Errorf("%w: %v", ErrTokenInvalid, err) //nolint:errorlint // shown, not wrapped: ErrTokenInvalid alone must classify it, whatever go-oidc wrapped
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: reading claims: %v", ErrTokenInvalid, err) //nolint:errorlint // shown, not wrapped: ErrTokenInvalid alone must classify it, whatever go-oidc wrapped
	}
	id := IdentityFromClaims(claims)
	if id.Issuer != v.cfg.Issuer.url {
		return id, fmt.Errorf("token issuer %q, expected %q (set oidc-issuer to match your GitHub deployment): %w",
			Sanitize(id.Issuer), v.cfg.Issuer, ErrIssuerMismatch)
	}
	if len(id.Audience) != 1 || id.Audience[0] != v.cfg.Audience {
		// Exactly the one audience: a token that names several was minted
		// to be accepted by each of them, and so can be replayed among them.
		return id, fmt.Errorf("token audience %q, expected exactly %q: %w",
			Sanitize(strings.Join(id.Audience, ",")), v.cfg.Audience, ErrAudienceMismatch)
	}
	if !id.IssuedAt.IsZero() && id.IssuedAt.After(v.cfg.Now().Add(ClockSkew)) {
		return id, fmt.Errorf("%w: token was issued at %s, more than %s in the future (check the runner's clock)",
			ErrTokenInvalid, id.IssuedAt.Format(time.RFC3339), ClockSkew)
	}
	for _, name := range githubfacts.StringClaims() {
		if raw, ok := claims[name]; ok {
			if _, isString := raw.(string); !isString {
				return id, fmt.Errorf("%w: claim %q is not a string", ErrTokenInvalid, name)
			}
		}
	}
	if id.Subject == "" {
		// Other JWTs signed by GitHub's key (runner credentials) carry no
		// sub and no aud; requiring both keeps them out.
		return id, fmt.Errorf("%w: token has no sub claim", ErrTokenInvalid)
	}
	return id, nil
}

// Warm starts discovery in the background so that it overlaps with the
// token fetch. It is safe to call more than once.
func (v *Verifier) Warm(ctx context.Context) {
	go func() { _, _ = v.idTokenVerifier(ctx) }()
}

// Verify checks the token fully: everything Peek checks, then the signature
// against the issuer's JWKS with go-oidc, which checks issuer, audience (as
// its ClientID, never skipped), exp and nbf once more.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Identity, error) {
	// Peek first: it needs no network and gives typed errors for the
	// common mistakes (audience, issuer, expiry).
	id, err := v.Peek(raw)
	if err != nil {
		return nil, err
	}
	iv, err := v.idTokenVerifier(ctx)
	if err != nil {
		return nil, err
	}
	probe := &keySetProbe{}
	if _, err := iv.Verify(context.WithValue(ctx, keySetProbeKey{}, probe), raw); err != nil {
		var expired *oidc.TokenExpiredError
		switch {
		case errors.As(err, &expired):
			return nil, fmt.Errorf("token expired at %s: %w", expired.Expiry.UTC().Format(time.RFC3339), ErrTokenExpired)
		case httpclient.IsRetryable(probe.get()):
			return nil, fmt.Errorf("fetching the issuer's JWKS: %w: %w", ErrUpstreamUnavailable, probe.get())
		}
		return nil, fmt.Errorf("%w: %v", ErrTokenInvalid, err) //nolint:errorlint // shown, not wrapped: ErrTokenInvalid alone must classify it, whatever go-oidc wrapped
	}
	return id, nil
}

func (v *Verifier) idTokenVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.once.Do(func() { v.verifier, v.err = v.discover(ctx) })
	return v.verifier, v.err
}

func (v *Verifier) discover(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	config := &oidc.Config{
		ClientID:             v.cfg.Audience,
		SupportedSigningAlgs: []string{oidc.RS256},
		Now:                  v.cfg.Now,
	}
	if v.cfg.KeySet != nil {
		return oidc.NewVerifier(v.cfg.Issuer.url, v.cfg.KeySet, config), nil
	}
	client := httpclient.ClassifyTransientStatus(v.cfg.HTTPClient)
	cctx := oidc.ClientContext(ctx, client)
	var provider *oidc.Provider
	err := httpclient.Retry(ctx, v.cfg.Retry, func(ctx context.Context, _ int) error {
		var err error
		provider, err = oidc.NewProvider(oidc.ClientContext(ctx, client), v.cfg.Issuer.url)
		return err
	})
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		switch {
		case errors.As(err, &mismatch):
			return nil, fmt.Errorf("discovery at %s names issuer %q: %w", v.cfg.Issuer, Sanitize(mismatch.Discovered), ErrIssuerMismatch)
		case httpclient.IsRetryable(err) || httpclient.IsNetworkError(err):
			return nil, fmt.Errorf("fetching OIDC discovery from %s: %w: %w", v.cfg.Issuer, ErrUpstreamUnavailable, err)
		}
		return nil, fmt.Errorf("fetching OIDC discovery from %s: %w: %v", v.cfg.Issuer, ErrTokenInvalid, err) //nolint:errorlint // shown, not wrapped: ErrTokenInvalid alone must classify it, whatever go-oidc wrapped
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return nil, fmt.Errorf("%w: discovery document of %s has no jwks_uri", ErrTokenInvalid, v.cfg.Issuer)
	}
	ju, err := url.Parse(meta.JWKSURI)
	if err == nil {
		err = httpclient.CheckURL(ju)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: jwks_uri of %s: %v", ErrTokenInvalid, v.cfg.Issuer, err) //nolint:errorlint // shown, not wrapped: ErrTokenInvalid alone must classify it, whatever go-oidc wrapped
	}
	keys := &retryingKeySet{remote: oidc.NewRemoteKeySet(cctx, meta.JWKSURI), policy: v.cfg.Retry}
	return oidc.NewVerifier(v.cfg.Issuer.url, keys, config), nil
}

// retryingKeySet retries JWKS fetches that failed transiently and records
// the last failure in a probe carried by the context, because go-oidc
// flattens key-set errors to text and the type would otherwise be lost.
type retryingKeySet struct {
	remote *oidc.RemoteKeySet
	policy httpclient.Policy
}

type keySetProbeKey struct{}

type keySetProbe struct {
	mu  sync.Mutex
	err error
}

func (p *keySetProbe) set(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func (p *keySetProbe) get() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (k *retryingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	var payload []byte
	err := httpclient.Retry(ctx, k.policy, func(ctx context.Context, _ int) error {
		var err error
		payload, err = k.remote.VerifySignature(ctx, jwt)
		if err != nil && httpclient.IsNetworkError(err) && !httpclient.IsRetryable(err) {
			err = httpclient.MarkTransient(err)
		}
		return err
	})
	if probe, ok := ctx.Value(keySetProbeKey{}).(*keySetProbe); ok && err != nil {
		probe.set(err)
	}
	return payload, err
}
