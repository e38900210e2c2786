package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

const (
	requestURLVar   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	requestTokenVar = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// Token implements [exchange.TokenSource]. It asks the runner's token
// endpoint for a token for audience with go-githubactions' GetIDToken,
// masks it — every form [exchange.MaskForms] lists — and only then returns
// it.
//
// Failures are classified by type: a 5xx answer or a network failure is
// retried within the edge's policy and, once the attempts are spent, wraps
// [exchange.ErrUpstreamUnavailable]; a missing request variable, a 4xx, an
// empty or unreadable answer fail at once and wrap
// [exchange.ErrTokenUnavailable]. Errors carry the status code, never the
// response body or the request token.
func (e *Edge) Token(ctx context.Context, audience string) (exchange.Secret, error) {
	if audience == "" {
		return exchange.Secret{}, exchange.InputError("audience", "must not be empty")
	}
	if err := checkRequestURL(e.getenv(requestURLVar)); err != nil {
		return exchange.Secret{}, err
	}
	policy := e.retry
	next := policy.OnRetry
	policy.OnRetry = func(attempt int, err error, wait time.Duration) {
		e.logger.Debug("requesting the OIDC token failed; retrying", "attempt", attempt, "wait", wait, "error", err)
		if next != nil {
			next(attempt, err, wait)
		}
	}
	var raw string
	attempts := 0
	err := httpclient.Retry(ctx, policy, func(ctx context.Context, attempt int) error {
		attempts = attempt
		v, err := e.action.GetIDToken(ctx, audience)
		if err != nil {
			return classifyTokenError(err, e.getenv(requestURLVar))
		}
		raw = v
		return nil
	})
	if err != nil {
		return exchange.Secret{}, tokenFailure(ctx, err, attempts)
	}
	if strings.TrimSpace(raw) == "" {
		return exchange.Secret{}, fmt.Errorf("the runner's token endpoint answered without a token value: %w", exchange.ErrTokenUnavailable)
	}
	tok := exchange.NewSecret(raw)
	for _, form := range exchange.MaskForms(tok) {
		if err := e.Mask(form); err != nil {
			// Returning an unmasked token would let the next log line
			// print it; fail instead.
			return exchange.Secret{}, fmt.Errorf("masking the OIDC token: %w", err)
		}
	}
	e.logger.Debug("received the OIDC token", "audience", audience, "sha256", tok.SHA256())
	return tok, nil
}

// missingRequestVar is the error for an unset ACTIONS_ID_TOKEN_REQUEST_*
// variable, with the fix.
func missingRequestVar(name string) error {
	return fmt.Errorf("%s is not set, so this job cannot request an OIDC token: add `permissions: id-token: write` "+
		"to the job or workflow (pull requests from forks never receive an OIDC token, whatever the permissions), "+
		"or, on a self-hosted runner that has a token of its own, read it from a file with web-identity-token-file "+
		"(the CLI's --token-file): %w",
		name, exchange.ErrTokenPermission)
}

// CredentialSource implements [exchange.CredentialSourcer]: it describes
// the runner's token endpoint, so a credential file (a GCP external_account
// configuration) can fetch fresh tokens for audience by itself for the rest
// of the job, as google-github-actions/auth's files do. The answer is
// ACTIONS_ID_TOKEN_REQUEST_URL with audience set (api-version and any other
// parameter kept), the header "Authorization: Bearer
// <ACTIONS_ID_TOKEN_REQUEST_TOKEN>" and JSON field "value".
//
// The request token is a job-wide secret (it equals ACTIONS_RUNTIME_TOKEN
// and can mint ID tokens for any audience until the job ends); the runner
// masks it, and the header is an [exchange.Secret]. A file that holds it
// must be protected like a credential, which [Edge.Export] does.
//
// It makes no request. A missing variable is an error wrapping
// [exchange.ErrTokenUnavailable] that says to add `permissions: id-token:
// write`; an unusable URL (not https, or http off loopback) wraps it too.
func (e *Edge) CredentialSource(audience string) (*exchange.CredentialSource, error) {
	if audience == "" {
		return nil, exchange.InputError("audience", "must not be empty")
	}
	raw, tok := e.getenv(requestURLVar), e.getenv(requestTokenVar)
	switch {
	case raw == "":
		return nil, missingRequestVar(requestURLVar)
	case tok == "":
		return nil, missingRequestVar(requestTokenVar)
	}
	if err := checkRequestURL(raw); err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not a usable https URL: %w", requestURLVar, exchange.ErrTokenUnavailable)
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	return &exchange.CredentialSource{
		URL:       u.String(),
		Headers:   map[string]exchange.Secret{"Authorization": exchange.NewSecret("Bearer " + tok)},
		JSONField: "value",
	}, nil
}

// checkRequestURL refuses a request URL that would send the request token
// (which is also the job's ACTIONS_RUNTIME_TOKEN) in clear text: only
// https, or http on loopback for tests. An empty value is left to
// GetIDToken, which reports it as *githubactions.EnvMissingError.
func checkRequestURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err == nil {
		err = httpclient.CheckURL(u)
	}
	if err != nil {
		return fmt.Errorf("%s is not a usable https URL: %w", requestURLVar, exchange.ErrTokenUnavailable)
	}
	return nil
}

// errNotJSON replaces the library's JSON error, whose text quotes bytes of
// the response.
var errNotJSON = errors.New("the token endpoint's answer is not the expected JSON object (or exceeds 64 kB)")

// classifyTokenError turns an error of GetIDToken into one whose text is
// safe to print and whose type decides retries.
func classifyTokenError(err error, requestURL string) error {
	var failed *githubactions.RequestFailedError
	if errors.As(err, &failed) {
		// Keep the status, drop the body: it is the runner's, not ours to
		// print, and an error page may echo request data.
		// 408, 429 and 5xx were turned into transient errors by the
		// client's transport (with the server's Retry-After); whatever
		// reaches here is permanent.
		return &httpclient.StatusError{URL: redactedURL(requestURL), StatusCode: failed.StatusCode}
	}
	if errors.Is(err, httpclient.ErrResponseTooLarge) {
		return fmt.Errorf("reading the token endpoint's answer: %w", httpclient.ErrResponseTooLarge)
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) {
		return errNotJSON
	}
	if httpclient.IsNetworkError(err) {
		return httpclient.MarkTransient(err)
	}
	return err
}

// tokenFailure wraps the final error of the retry loop in the sentinel
// that tells the user what to do.
func tokenFailure(ctx context.Context, err error, attempts int) error {
	var missing *githubactions.EnvMissingError
	switch {
	case errors.As(err, &missing):
		return missingRequestVar(missing.Name)
	case httpclient.IsRetryable(err):
		return fmt.Errorf("requesting the OIDC token from the runner failed %d times: %w: %w",
			attempts, exchange.ErrUpstreamUnavailable, err)
	case ctx.Err() != nil:
		return fmt.Errorf("requesting the OIDC token from the runner: %w", err)
	default:
		return fmt.Errorf("requesting the OIDC token from the runner: %w: %w", exchange.ErrTokenUnavailable, err)
	}
}

// redactedURL is the request URL without user information, for errors.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return requestURLVar
	}
	return u.Redacted()
}

// tokenClient returns a copy of c for the token endpoint: its requests
// carry Accept: application/json, which the endpoint documents and
// go-githubactions does not send, and 408, 429 and 5xx answers become
// transient errors that keep the endpoint's Retry-After, which
// go-githubactions' error would drop. Timeout, redirect policy and the
// size-capping transport of c are kept.
func tokenClient(c *http.Client) *http.Client {
	c = httpclient.ClassifyTransientStatus(c)
	return httpclient.WrapTransport(c, func(base http.RoundTripper) http.RoundTripper { return acceptJSON{base: base} })
}

type acceptJSON struct{ base http.RoundTripper }

// RoundTrip implements http.RoundTripper. It clones the request, as the
// RoundTripper contract forbids modifying it.
func (a acceptJSON) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Accept", "application/json")
	return a.base.RoundTrip(r)
}
