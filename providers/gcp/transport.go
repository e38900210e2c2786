package gcp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials/downscope"
	"cloud.google.com/go/auth/credentials/externalaccount"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// Grant and token types of the exchanges.
const (
	jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// discardLogger is handed to every Google library. Without a logger they
// log to stderr when GOOGLE_SDK_GO_LOGGING_LEVEL is set, request bodies
// (subject tokens) and Authorization headers included.
var discardLogger = slog.New(slog.DiscardHandler)

// OAuthError is an error answer of STS or the OAuth server: the HTTP
// status and the RFC 6749 error fields, never the raw body.
type OAuthError = upstream.OAuthError

// maxErrorBody bounds what is read of an error answer; OAuth errors are a
// few hundred bytes.
const maxErrorBody = 16 << 10

// oauthErrors turns every non-2xx answer into an *OAuthError before a
// library sees the body. cloud.google.com/go/auth reports STS failures as
// fmt.Errorf("status code %d: %s", body), which is neither typed nor free
// of the raw body; this way classification works on the type (errors.As
// through the *url.Error the client wraps it in) and no body reaches an
// error message.
type oauthErrors struct{ base http.RoundTripper }

func (t oauthErrors) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	// 3xx passes: the client's redirect policy handles it.
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return nil, upstream.ParseOAuthError(resp.StatusCode, resp.Header, body, nil)
}

// rewriteURL sends requests for one exact URL to another. The downscope
// package has no endpoint option (it posts to https://sts.<universe>/v1/token),
// so an sts-endpoint override reaches it this way.
type rewriteURL struct {
	base     http.RoundTripper
	from, to *url.URL
}

func (t rewriteURL) RoundTrip(req *http.Request) (*http.Response, error) {
	u := req.URL
	if u.Scheme == t.from.Scheme && u.Host == t.from.Host && u.Path == t.from.Path {
		req = req.Clone(req.Context())
		target := *t.to
		target.RawQuery = u.RawQuery
		req.URL = &target
		req.Host = target.Host
	}
	return t.base.RoundTrip(req)
}

// subjectTokenError marks a failure to get the CI token, so it is not
// mistaken for an STS failure.
type subjectTokenError struct{ err error }

func (e *subjectTokenError) Error() string { return e.err.Error() }
func (e *subjectTokenError) Unwrap() error { return e.err }

// subjectSupplier hands the identity's current token to the auth library.
// It is asked on every attempt, so a token about to expire is replaced
// before STS sees it.
type subjectSupplier struct{ id *exchange.Identity }

func (s subjectSupplier) SubjectToken(ctx context.Context, _ *externalaccount.RequestOptions) (string, error) {
	tok, err := s.id.SubjectToken(ctx)
	if err != nil {
		return "", &subjectTokenError{err: err}
	}
	return tok.Reveal(), nil
}

// stsFederator is the STS token exchange through
// cloud.google.com/go/auth/credentials/externalaccount.
type stsFederator struct {
	client   *http.Client
	tokenURL string
	audience string
	universe string
}

// Federate implements [federator]. The credentials are built per call:
// the library caches tokens, and each attempt must reach STS with the
// identity's current token. The library makes exactly one request per
// call (no retries of its own), so our loop is the only one.
func (f *stsFederator) Federate(ctx context.Context, subject externalaccount.SubjectTokenProvider, scopes []string) (*auth.Token, error) {
	creds, err := externalaccount.NewCredentials(&externalaccount.Options{
		Audience:             f.audience,
		SubjectTokenType:     SubjectTokenType,
		TokenURL:             f.tokenURL,
		Scopes:               scopes,
		UniverseDomain:       f.universe,
		SubjectTokenProvider: subject,
		Client:               f.client,
		Logger:               discardLogger,
	})
	if err != nil {
		return nil, err
	}
	return creds.Token(ctx)
}

// stsDownscoper is the Credential Access Boundary exchange through
// cloud.google.com/go/auth/credentials/downscope, which also makes one
// request per call.
type stsDownscoper struct {
	client   *http.Client
	universe string
}

// staticToken is a token provider that always returns one token.
type staticToken struct{ tok *auth.Token }

func (s staticToken) Token(context.Context) (*auth.Token, error) { return s.tok, nil }

// Downscope implements [downscoper].
func (d *stsDownscoper) Downscope(ctx context.Context, source *auth.Token, rules []downscope.AccessBoundaryRule) (*auth.Token, error) {
	creds, err := downscope.NewCredentials(&downscope.Options{
		Credentials:    auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: staticToken{tok: source}}),
		Rules:          rules,
		Client:         d.client,
		UniverseDomain: d.universe,
		Logger:         discardLogger,
	})
	if err != nil {
		return nil, err
	}
	return creds.Token(ctx)
}

// oauthJWTBearer trades a signed JWT for an access token at Google's OAuth
// server (RFC 7523) through golang.org/x/oauth2/clientcredentials, whose
// EndpointParams may replace grant_type for exactly this kind of grant.
type oauthJWTBearer struct {
	client   *http.Client
	tokenURL string
}

// Exchange implements [jwtBearer].
func (o *oauthJWTBearer) Exchange(ctx context.Context, assertion string) (*oauth2.Token, error) {
	conf := clientcredentials.Config{
		TokenURL: o.tokenURL,
		// Explicit: the default AuthStyleAutoDetect repeats a failed
		// request with the other style, a hidden retry. There is no
		// client secret; the assertion authenticates.
		AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: url.Values{
			"grant_type": {jwtBearerGrant},
			"assertion":  {assertion},
		},
	}
	return conf.Token(context.WithValue(ctx, oauth2.HTTPClient, o.client))
}

// errUnexpected marks an answer that parsed but lacked what it must hold.
var errUnexpected = errors.New("unexpected answer")
