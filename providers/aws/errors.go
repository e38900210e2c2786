package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// STS error codes the provider tells apart. Matching is on the code the
// SDK parsed from Error/Code, never on message text.
const (
	codeAccessDenied          = "AccessDenied"
	codeIDPRejectedClaim      = "IDPRejectedClaim"
	codeExpiredTokenException = "ExpiredTokenException"
	codeExpiredToken          = "ExpiredToken"
	codeInvalidIdentityToken  = "InvalidIdentityToken"
	codeIDPCommunicationError = "IDPCommunicationError"
	codeValidationError       = "ValidationError"
	codeMalformedPolicy       = "MalformedPolicyDocument"
	codePackedPolicyTooLarge  = "PackedPolicyTooLarge"
	codeRegionDisabled        = "RegionDisabledException"
	codeThrottling            = "Throttling"
	codeThrottlingException   = "ThrottlingException"
	// codeUnknown is what the SDK reports when an error body is not STS
	// XML, e.g. a proxy's HTML error page.
	codeUnknown = "UnknownError"
)

// classify turns a failed call into a *exchange.ProviderError whose
// Temporary field drives the retry loop. Nothing of the request (the token)
// and nothing of the raw body goes into it; Message is STS's Error/Message.
func (p *Provider) classify(ctx context.Context, err error, id *exchange.Identity, req *exchange.Request) error {
	if ctx.Err() != nil {
		// The caller gave up (a failed signature check, a deadline);
		// retrying or blaming STS would both be wrong.
		return fmt.Errorf("calling STS: %w", err)
	}
	var (
		apiErr smithy.APIError
		code   string
		status int
	)
	pe := &exchange.ProviderError{Provider: providerName, Err: err}
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
		if code != codeUnknown {
			pe.Code = code
			pe.Message = apiErr.ErrorMessage()
		}
	}
	var withStatus interface{ HTTPStatusCode() int }
	if errors.As(err, &withStatus) {
		status = withStatus.HTTPStatusCode()
	}
	if pe.Message == "" && status != 0 {
		pe.Message = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	}

	switch code {
	case codeThrottling, codeThrottlingException:
		p.transient(pe, err, "STS throttled every attempt; spread out parallel jobs or raise retry-max-attempts")
	case codeIDPCommunicationError:
		p.transient(pe, err, "STS could not fetch the OIDC issuer's signing keys; this is usually brief, re-run the job")
	case codeAccessDenied, codeIDPRejectedClaim:
		pe.Kind = exchange.ErrProviderDenied
		pe.Hint = "the role's trust policy does not allow this repository, ref or environment"
		if code == codeIDPRejectedClaim {
			pe.Hint = "STS rejected a claim of this token; the role's trust policy does not allow this repository, ref or environment"
		}
		if id != nil && req != nil {
			pe.Details = p.denialDetails(id, req)
		}
	case codeExpiredTokenException, codeExpiredToken:
		pe.Kind = exchange.ErrTokenExpired
		pe.Hint = "the OIDC token expired before STS accepted it; check the runner's clock and re-run the job"
	case codeInvalidIdentityToken:
		// Permanent: AWS itself retries this once after an IdP key
		// rotation; a second failure means the setup is wrong.
		var issuer, audience string
		if req != nil {
			issuer, audience = req.Issuer, req.Audience
		}
		pe.Kind = exchange.ErrTokenInvalid
		pe.Hint = fmt.Sprintf("STS did not accept the token: the role's account needs an IAM OIDC identity provider for %s whose audiences include %q",
			githubfacts.ConditionKeyPrefix(issuer), audience)
	case codeValidationError:
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = "STS rejected a parameter: role-duration-seconds may exceed the role's MaxSessionDuration, or role-to-assume or role-session-name is malformed"
	case codeMalformedPolicy:
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = "inline-session-policy is not a valid IAM policy; check its Version, Statement, Effect, Action and Resource"
	case codePackedPolicyTooLarge:
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = "the session policies are too large once packed; shorten inline-session-policy or use fewer managed-session-policies"
	case codeRegionDisabled:
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = fmt.Sprintf("STS is not activated in %s for the role's account; activate the region in the IAM account settings or choose another aws-region", p.cfg.Region)
	default:
		switch {
		case errors.Is(err, httpclient.ErrProxyRefused):
			var proxy *httpclient.ProxyError
			errors.As(err, &proxy)
			pe.Code = "ProxyRefused"
			pe.Message = fmt.Sprintf("the proxy %s refused the request to STS", proxyHost(proxy))
			pe.Kind = exchange.ErrProviderRejected
			pe.Hint = "check the credentials in http-proxy or HTTPS_PROXY, that the proxy allows the STS host, or list it in no-proxy"
		case status != 0 && httpclient.IsTransientStatus(status):
			p.transient(pe, err, "STS kept failing on its side; re-run the job later and check https://health.aws.amazon.com")
		case status >= 400:
			pe.Kind = exchange.ErrProviderRejected
			pe.Hint = "STS rejected the request"
		case apiErr == nil && httpclient.IsNetworkError(err):
			pe.Code = "NetworkError"
			pe.Message = "could not reach STS"
			p.transient(pe, err, "could not reach STS; check the runner's network, proxy settings and sts-endpoint")
		default:
			// A 2xx that did not parse, a body over the size cap: STS (or
			// whatever answered at sts-endpoint) is not behaving, and will
			// not on the next attempt either.
			pe.Code = "InvalidAnswer"
			pe.Message = "STS sent an answer that could not be read"
			pe.Kind = exchange.ErrProviderAnswer
			pe.Hint = "the answer did not look like STS's; check sts-endpoint"
			if p.cfg.STSEndpoint != "" {
				pe.Hint = fmt.Sprintf("the answer did not look like STS's; check sts-endpoint %s", p.cfg.STSEndpoint)
			}
		}
	}
	return pe
}

// STS codes of a signed call (role chaining) whose credentials are bad.
const (
	codeInvalidClientTokenID  = "InvalidClientTokenId"
	codeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	codeMissingAuthentication = "MissingAuthenticationToken"
	codeIncompleteSignature   = "IncompleteSignature"
)

// classifyHop classifies a failed sts:AssumeRole of role chaining. Its
// denials are about the target role's trust in the source session, not
// about the token's claims, so they get their own hints.
func (p *Provider) classifyHop(ctx context.Context, err error, role string) error {
	cerr := p.classify(ctx, err, nil, nil)
	var pe *exchange.ProviderError
	if !errors.As(cerr, &pe) {
		return cerr
	}
	source := "the session of the previous role"
	if p.cfg.RoleChaining && role == p.target {
		source = "the session in the environment (exported by an earlier step)"
	}
	switch pe.Code {
	case codeAccessDenied:
		pe.Details = ""
		pe.Hint = fmt.Sprintf("the trust policy of %s must allow sts:AssumeRole by %s, and role-external-id must match its sts:ExternalId condition, if any", role, source)
	case codeValidationError:
		pe.Hint = fmt.Sprintf("STS rejected a parameter of the chained call: AWS limits a session obtained by role chaining to 1 hour (role-duration-seconds ≤ %d), and role-external-id must be 2–1224 characters", MaxChainedDurationSeconds)
	case codeExpiredToken, codeExpiredTokenException:
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = fmt.Sprintf("%s has expired; assume the first role again before chaining", source)
	case codeInvalidClientTokenID, codeSignatureDoesNotMatch, codeMissingAuthentication, codeIncompleteSignature:
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = fmt.Sprintf("STS did not accept %s as credentials; with role-chaining, the step before must export AWS keys (output-env-credentials)", source)
	}
	return pe
}

// proxyHost names a proxy by host:port only; its URL may hold a password.
func proxyHost(p *httpclient.ProxyError) string {
	if p == nil {
		return "(unknown)"
	}
	return p.Proxy
}

// transient marks pe as worth another attempt and keeps a server's
// Retry-After, which the retry loop honours (capped).
func (p *Provider) transient(pe *exchange.ProviderError, err error, hint string) {
	pe.Kind = exchange.ErrProviderUnavailable
	pe.Temporary = true
	pe.Hint = hint
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if d := httpclient.RetryAfter(re.Response.Header); d > 0 {
			pe.Err = &httpclient.TransientError{Err: err, RetryAfter: d}
		}
	}
}

// denialDetails explains an AccessDenied: the claims STS compared, the
// role, and the condition `oidc-exchange plan` writes for this job, which
// admits this token and lints clean.
func (p *Provider) denialDetails(id *exchange.Identity, req *exchange.Request) string {
	var b strings.Builder
	b.WriteString("Claims of this job's token:\n")
	b.WriteString(exchange.ClaimsTable(id, githubfacts.DenialClaims()...))
	fmt.Fprintf(&b, "Role: %s\n", p.target)
	suggestion, err := plan.Suggest(plan.Request{Cloud: plan.AWS}, req.Issuer, req.Audience, id)
	if err != nil {
		fmt.Fprintf(&b, "No trust-policy condition is suggested: %v.", err)
		return b.String()
	}
	b.WriteString("The trust-policy condition oidc-exchange plan writes for this job:\n")
	b.WriteString(suggestion.AWSCondition)
	if suggestion.ByName {
		b.WriteString("It pins the repository by name, as the token carries no ids: names can be re-registered after a rename or deletion.")
	} else {
		b.WriteString("It pins the repository by its immutable id. If STS denies a job whose sub matches, your account may not expose the repository_id key: drop it and keep only the immutable subject.")
	}
	return b.String()
}
