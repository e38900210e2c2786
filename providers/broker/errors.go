package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// Error codes of RFC 6749 §5.2 and RFC 8693 §2.2.2, and the non-standard
// ones brokers are known to send.
const (
	codeInvalidRequest          = "invalid_request"
	codeInvalidClient           = "invalid_client"
	codeInvalidGrant            = "invalid_grant"
	codeUnauthorizedClient      = "unauthorized_client"
	codeUnsupportedGrantType    = "unsupported_grant_type"
	codeInvalidScope            = "invalid_scope"
	codeInvalidTarget           = "invalid_target"
	codeAccessDenied            = "access_denied"         // Dex, for expired or sub-less tokens, with 401
	codeRequestNotSupported     = "request_not_supported" // Dex, for subject_token_type …:jwt
	codeServerError             = upstream.CodeServerError
	codeTemporarilyUnavailable  = upstream.CodeTemporarilyUnavailable
	codeInvalidResponse         = "InvalidResponse"
	codeNetworkError            = "NetworkError"
	codeRedirect                = "Redirect"
	codeResponseTooLarge        = "ResponseTooLarge"
	codeMetadataNotFound        = "MetadataNotFound"
	codeInvalidMetadata         = "InvalidMetadata"
	codeIssuerMismatch          = "IssuerMismatch"
	codeInsecureTokenEndpoint   = "InsecureTokenEndpoint"
	codeIssuedTokenTypeMismatch = "IssuedTokenTypeMismatch"
)

// codeInfo is how one error code is classified and explained.
type codeInfo struct {
	kind      error
	temporary bool
	// denial adds the claims table and what was requested to the
	// explanation.
	denial bool
	hint   string
}

// errorCodes maps each known error code to its kind and one hint.
// Classification is by code first, whatever the status: Dex answers
// access_denied with 401, which by status alone would look like a client
// authentication failure.
var errorCodes = map[string]codeInfo{
	codeInvalidRequest: {kind: exchange.ErrProviderRejected,
		hint: "the broker rejected the request as malformed or the subject token as unacceptable: check subject-token-type, requested-token-type, broker-audience, broker-resource and broker-extra-params (Dex needs connector_id), and broker-request-format (form for IdPs such as Dex, Keycloak and zitadel; json for the SaaS brokers)"},
	codeInvalidClient: {kind: exchange.ErrProviderRejected,
		hint: "the broker did not authenticate the client: check broker-client-id, broker-client-secret and broker-client-auth (client_secret_basic or client_secret_post, whichever the client is registered for; zitadel reads only client_secret_basic for token exchange); Dex and Keycloak require client authentication"},
	codeInvalidGrant: {kind: exchange.ErrProviderDenied, denial: true,
		hint: "the broker refused this job's token: its trust configuration does not admit the token's issuer, audience or claims, or the token was already used or expired"},
	codeUnauthorizedClient: {kind: exchange.ErrProviderDenied, denial: true,
		hint: "this client may not use the token-exchange grant: allow urn:ietf:params:oauth:grant-type:token-exchange for the client at the broker, or its policy for this job's claims"},
	codeUnsupportedGrantType: {kind: exchange.ErrProviderRejected,
		hint: "the endpoint does not support RFC 8693 token exchange: check broker-url, and enable the grant at the broker (Dex: oauth2.grantTypes; Keycloak: token exchange)"},
	codeInvalidScope: {kind: exchange.ErrProviderRejected,
		hint: "the broker refused the requested scope: check broker-scope against what the broker grants this client"},
	codeInvalidTarget: {kind: exchange.ErrProviderDenied, denial: true,
		hint: "the broker will not issue a token for the requested audience or resource: check broker-audience and broker-resource, and that the broker's policy admits this job for them"},
	codeAccessDenied: {kind: exchange.ErrProviderDenied, denial: true,
		hint: "the broker denied the exchange: its policy does not admit this job's claims (Dex answers this for an expired token or one without sub)"},
	codeRequestNotSupported: {kind: exchange.ErrProviderRejected,
		hint: "the broker does not support a parameter of this request: Dex wants subject-token-type " + TokenTypeIDToken + " and requested-token-type access_token or id_token"},
	codeServerError: {kind: exchange.ErrProviderUnavailable, temporary: true,
		hint: "the broker failed on its side; re-run the job later"},
	codeTemporarilyUnavailable: {kind: exchange.ErrProviderUnavailable, temporary: true,
		hint: "the broker is temporarily unavailable; re-run the job later"},
}

// expiredCodes are the answers brokers give for an expired subject token.
var expiredCodes = map[string]bool{codeInvalidGrant: true, codeAccessDenied: true, codeInvalidRequest: true}

// classify turns a failed call into a *exchange.ProviderError whose
// Temporary field drives the retry loop. It looks at types, codes and
// statuses, never at message text; nothing of the request and nothing of
// a raw body goes into it.
func (p *Provider) classify(ctx context.Context, err error, id *exchange.Identity, req *exchange.Request) error {
	if ctx.Err() != nil {
		// The caller gave up (a failed signature check, a deadline).
		return fmt.Errorf("calling the broker: %w", err)
	}
	pe := &exchange.ProviderError{Provider: providerName}
	var (
		oe  *OAuthError
		inv *invalidResponseError
	)
	switch {
	case errors.As(err, &oe):
		pe.Err = oe
		pe.Code = oe.Code
		pe.Message = oe.Summary()
		p.classifyAnswer(pe, oe, id, req)
	case errors.Is(err, httpclient.ErrResponseTooLarge):
		pe.Code = codeResponseTooLarge
		pe.Message = fmt.Sprintf("the broker's answer is larger than %d bytes", maxResponseSize)
		pe.Kind = exchange.ErrProviderAnswer
		pe.Hint = "the answer was far larger than any token answer; check that broker-url points at the token endpoint"
		pe.Err = httpclient.ErrResponseTooLarge
	case errors.As(err, &inv):
		pe.Code = codeInvalidResponse
		pe.Message = inv.reason
		pe.Kind = exchange.ErrProviderAnswer
		pe.Hint = "the broker answered 2xx without a usable RFC 8693 token answer; check that broker-url points at the token endpoint and broker-request-format is what it expects"
		pe.Err = inv
	case httpclient.IsNetworkError(err):
		pe.Code = codeNetworkError
		pe.Message = "could not reach the broker"
		pe.Err = err
		p.transient(pe, 0, "could not reach the broker, or it did not answer in time; check the runner's network, proxy settings and broker-url")
	default:
		pe.Code = codeInvalidResponse
		pe.Message = "the broker's answer could not be read"
		pe.Kind = exchange.ErrProviderAnswer
		pe.Hint = "check that broker-url points at the token endpoint"
		pe.Err = err
	}
	return pe
}

// classifyAnswer classifies an error answer by its code, then its status.
func (p *Provider) classifyAnswer(pe *exchange.ProviderError, oe *OAuthError, id *exchange.Identity, req *exchange.Request) {
	info, known := errorCodes[oe.Code]
	switch {
	case known && info.temporary:
		p.transient(pe, oe.RetryAfter, info.hint)
	case known:
		pe.Kind = info.kind
		pe.Hint = info.hint
		if oe.Code == codeInvalidClient {
			pe.Hint += fmt.Sprintf(" (this request used %s", p.auth)
			if p.cfg.ClientID != "" {
				pe.Hint += " with client id " + exchange.Sanitize(p.cfg.ClientID)
			}
			pe.Hint += ")"
		}
		// A token that had expired when the broker answered explains a
		// refusal better than any hint: Dex says access_denied, zitadel
		// invalid_request ("subject_token is invalid"), the RFC
		// invalid_grant.
		if expiredCodes[oe.Code] && !id.Expiry.IsZero() && !id.Expiry.After(p.now()) {
			pe.Kind = exchange.ErrTokenExpired
			pe.Hint = "the OIDC token expired before the broker accepted it; check the runner's clock and re-run the job"
			info.denial = false
		}
		if info.denial {
			pe.Details = p.denialDetails(id, req)
		}
	case httpclient.IsTransientStatus(oe.Status):
		p.transient(pe, oe.RetryAfter, fmt.Sprintf("the broker kept failing with HTTP %d; re-run the job later", oe.Status))
	case oe.Status >= 300 && oe.Status < 400:
		pe.Code = codeRedirect
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = "the broker answered with a redirect, which is not followed because it would resend the subject token; set broker-url to the final token endpoint"
	case oe.Status == http.StatusUnauthorized || oe.Status == http.StatusForbidden:
		pe.Kind = exchange.ErrProviderDenied
		pe.Hint = "the broker refused the exchange without saying why in OAuth terms; check broker-client-id and broker-client-secret, and that its policy admits this job"
		pe.Details = p.denialDetails(id, req)
	default:
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = "the broker rejected the request; check broker-url and broker-request-format"
	}
	if oe.URI != "" {
		if pe.Details != "" {
			pe.Details += "\n"
		}
		pe.Details += "The broker's explanation: " + oe.URI
	}
}

// transient marks pe as worth another attempt and keeps a server's
// Retry-After, which the loop honours (capped).
func (p *Provider) transient(pe *exchange.ProviderError, retryAfter time.Duration, hint string) {
	pe.Kind = exchange.ErrProviderUnavailable
	pe.Temporary = true
	pe.Hint = hint
	if retryAfter > 0 {
		pe.Err = &httpclient.TransientError{Err: pe.Err, RetryAfter: retryAfter}
	}
}

// denialDetails explains a refusal: the claims the broker's policy saw and
// what was asked of it.
func (p *Provider) denialDetails(id *exchange.Identity, req *exchange.Request) string {
	var b strings.Builder
	b.WriteString("Claims of this job's token:\n")
	b.WriteString(exchange.ClaimsTable(id, githubfacts.DenialClaims()...))
	fmt.Fprintf(&b, "Requested from %s:\n", p.Target())
	rows := [][]string{}
	for _, a := range p.cfg.Audiences {
		rows = append(rows, []string{"audience", a})
	}
	if len(p.cfg.Audiences) == 0 {
		rows = append(rows, []string{"audience", ""})
	}
	for _, r := range p.cfg.Resources {
		rows = append(rows, []string{"resource", r})
	}
	rows = append(rows,
		[]string{"scope", p.scope},
		[]string{"requested_token_type", p.requestedType},
		[]string{"subject_token_type", p.subjectType},
	)
	if p.cfg.ClientID != "" {
		rows = append(rows, []string{"client_id", p.cfg.ClientID})
	}
	b.WriteString(exchange.Table([]string{"parameter", "value sent"}, rows))
	fmt.Fprintf(&b, "The broker's policy must admit tokens of %s for the audience %s, and should pin the repository by its immutable ids (repository_id, repository_owner_id): names can be re-registered after a rename or deletion.",
		exchange.Sanitize(req.Issuer), exchange.Sanitize(req.Audience))
	return b.String()
}
