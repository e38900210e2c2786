package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	"google.golang.org/api/googleapi"
	"google.golang.org/genproto/googleapis/rpc/code"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// Roles that grant the IAM Credentials permissions on a service account.
const (
	roleWorkloadIdentityUser = "roles/iam.workloadIdentityUser"
	roleTokenCreator         = "roles/iam.serviceAccountTokenCreator"
)

// step is one upstream call of the exchange.
type step struct {
	// name is the call, as Google documents it.
	name string
	// service is who answers.
	service string
	// permission and role are what IAM checks on the service account.
	permission string
	role       string
}

var (
	stepSTS         = step{name: "STS token exchange", service: "STS"}
	stepDownscope   = step{name: "access boundary exchange", service: "STS"}
	stepAccessToken = step{name: "generateAccessToken", service: "IAM Credentials", permission: "iam.serviceAccounts.getAccessToken", role: roleWorkloadIdentityUser}
	stepIDToken     = step{name: "generateIdToken", service: "IAM Credentials", permission: "iam.serviceAccounts.getOpenIdToken", role: roleWorkloadIdentityUser}
	// roles/iam.workloadIdentityUser does not include signJwt.
	stepSignJWT   = step{name: "signJwt", service: "IAM Credentials", permission: "iam.serviceAccounts.signJwt", role: roleTokenCreator}
	stepJWTBearer = step{name: "jwt-bearer grant", service: "the OAuth server"}
)

// retry runs one step, retrying only failures classified as transient.
func (p *Provider) retry(ctx context.Context, st step, id *exchange.Identity, req *exchange.Request, fn func(ctx context.Context) error) error {
	return p.retrier.Do(ctx, st.name+" for "+p.Target(), func(actx context.Context) error {
		if err := fn(actx); err != nil {
			return p.classify(ctx, st, err, id, req)
		}
		return nil
	})
}

// classify turns a failed call into a *exchange.ProviderError whose
// Temporary field drives the retry loop. It looks at types and status
// codes only: *OAuthError for STS and the OAuth server, *googleapi.Error
// (inside gax's *apierror.APIError) for IAM Credentials, network errors.
// Nothing of a request (tokens) or a raw body goes into it.
func (p *Provider) classify(ctx context.Context, st step, err error, id *exchange.Identity, req *exchange.Request) error {
	if ctx.Err() != nil {
		// The caller gave up (a failed signature check, a deadline).
		return fmt.Errorf("%s: %w", st.name, err)
	}
	var ste *subjectTokenError
	if errors.As(err, &ste) {
		// Already classified by package exchange (expired, unavailable).
		return fmt.Errorf("getting the OIDC token: %w", ste.err)
	}
	pe := &exchange.ProviderError{Provider: providerName}
	var (
		oe *OAuthError
		ge *googleapi.Error
	)
	switch {
	case errors.As(err, &oe):
		pe.Err = oe
		pe.Code = oe.Code
		pe.Message = oe.Summary()
		if httpclient.IsTransientStatus(oe.Status) {
			p.transient(pe, st, oe.RetryAfter)
			return pe
		}
		p.classifyOAuth(pe, st, oe, id, req)
	case errors.As(err, &ge):
		ae := &APIError{Status: ge.Code, Code: googleStatus(ge), Message: exchange.Truncate(exchange.Sanitize(ge.Message), 300)}
		pe.Err = ae
		pe.Code = ae.Code
		pe.Message = ae.Message
		if pe.Message == "" {
			pe.Message = fmt.Sprintf("HTTP %d %s", ge.Code, http.StatusText(ge.Code))
		}
		if httpclient.IsTransientStatus(ge.Code) {
			p.transient(pe, st, httpclient.RetryAfter(ge.Header))
			return pe
		}
		p.classifyAPI(pe, st, ge.Code, id, req)
	case httpclient.IsNetworkError(err):
		pe.Code = "NetworkError"
		pe.Message = "could not reach " + st.service
		pe.Err = err
		p.transient(pe, st, 0)
		pe.Hint = fmt.Sprintf("could not reach %s; check the runner's network, proxy settings, universe and endpoint overrides", st.service)
	default:
		// A 2xx that did not parse, an answer without a token, a body
		// over the size cap: whatever answered is not behaving like
		// Google, and will not on the next attempt either (permanent). The library's error text may quote the body, so it is
		// kept only as a type name for the debug log.
		pe.Code = "InvalidResponse"
		pe.Message = st.service + " sent an answer that could not be read"
		pe.Kind = exchange.ErrProviderAnswer
		pe.Hint = fmt.Sprintf("the answer to %s did not look like Google's; check universe and the endpoint overrides", st.name)
		pe.Err = &opaqueError{kind: fmt.Sprintf("%T", innermost(err))}
		if errors.Is(err, httpclient.ErrResponseTooLarge) {
			pe.Err = httpclient.ErrResponseTooLarge
		}
	}
	return pe
}

// APIError is an error answer of a Google API (IAM Credentials): the HTTP
// status, the canonical status name (PERMISSION_DENIED) and the sanitized
// message. It never holds the raw body.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("HTTP %d: %s: %s", e.Status, e.Code, e.Message)
}

// opaqueError stands in for a library error whose text may quote a body.
type opaqueError struct{ kind string }

func (e *opaqueError) Error() string { return "unreadable answer (" + e.kind + ")" }

func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

var statusNameRE = lazyre.New(`^[A-Z][A-Z_]{1,40}$`)

// googleStatus is the canonical status of an API error: the "status"
// field of Google's error JSON when present (a structured field, not
// message text), else the code gax derives from the HTTP status.
func googleStatus(ge *googleapi.Error) string {
	var doc struct {
		Error struct {
			Status string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(ge.Body), &doc) == nil && statusNameRE().MatchString(doc.Error.Status) {
		return doc.Error.Status
	}
	if ae, ok := apierror.FromError(ge); ok && ae.GRPCStatus() != nil {
		if name, ok := code.Code_name[int32(ae.GRPCStatus().Code())]; ok { //nolint:gosec // gRPC codes are 0–16
			return name
		}
	}
	return fmt.Sprintf("HTTP_%d", ge.Code)
}

// transient marks pe as worth another attempt and keeps a server's
// Retry-After, which the loop honours (capped).
func (p *Provider) transient(pe *exchange.ProviderError, st step, retryAfter time.Duration) {
	pe.Kind = exchange.ErrProviderUnavailable
	pe.Temporary = true
	pe.Hint = fmt.Sprintf("%s kept failing on Google's side; re-run the job later and check https://status.cloud.google.com", st.service)
	if retryAfter > 0 {
		pe.Err = &httpclient.TransientError{Err: pe.Err, RetryAfter: retryAfter}
	}
}

// classifyOAuth maps the RFC 6749 codes of STS and the OAuth server.
func (p *Provider) classifyOAuth(pe *exchange.ProviderError, st step, oe *OAuthError, id *exchange.Identity, req *exchange.Request) {
	provider := p.cfg.WorkloadIdentityProvider
	switch st {
	case stepSTS:
		switch oe.Code {
		case "invalid_grant":
			// STS says invalid_grant for an expired token too; the
			// token's own exp tells the cases apart without reading the
			// description.
			if !id.Expiry.IsZero() && !id.Expiry.After(p.now()) {
				pe.Kind = exchange.ErrTokenExpired
				pe.Hint = "the OIDC token expired before STS accepted it; check the runner's clock and re-run the job"
				return
			}
			pe.Kind = exchange.ErrProviderDenied
			pe.Hint = "the workload identity provider rejected this token: its attribute condition does not admit these claims, or its issuer or allowed audiences do not match the token"
			pe.Details = p.stsDenialDetails(id, req)
		case "invalid_target":
			pe.Kind = exchange.ErrProviderRejected
			pe.Hint = fmt.Sprintf("STS knows no enabled workload identity provider %s: check the project number, pool and provider ids in workload-identity-provider, and that neither the pool nor the provider is disabled or deleted", provider)
		case "invalid_request":
			pe.Kind = exchange.ErrProviderRejected
			pe.Hint = "STS rejected the request as malformed: workload-identity-provider must be the provider's full resource name with the project number (and resource names keep iam.googleapis.com in every universe)"
		case "invalid_scope":
			pe.Kind = exchange.ErrProviderRejected
			pe.Hint = "STS refused the requested scopes; check access-token-scopes"
		case "unauthorized_client", "access_denied":
			pe.Kind = exchange.ErrProviderDenied
			pe.Hint = "STS refused this token for the workload identity provider"
			pe.Details = p.stsDenialDetails(id, req)
		default:
			p.rejected(pe, oe.Status, st)
		}
	case stepDownscope:
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = "STS refused the access boundary: check the bucket names, the roles (inRole:roles/storage.…) and the CEL conditions of access-boundary"
		if oe.Status == http.StatusUnauthorized || oe.Status == http.StatusForbidden {
			pe.Kind = exchange.ErrProviderDenied
			pe.Hint = "STS refused to downscope the token; an access boundary applies to Cloud Storage access tokens of service accounts and federated identities"
		}
	case stepJWTBearer:
		switch oe.Code {
		case "unauthorized_client", "access_denied":
			pe.Kind = exchange.ErrProviderDenied
			pe.Hint = fmt.Sprintf("domain-wide delegation is not granted: in the Google Workspace Admin console (Security → API controls → Domain-wide delegation) authorise the client id of %s for the scopes %s",
				p.cfg.ServiceAccount, strings.Join(p.scopes, ","))
		case "invalid_grant":
			pe.Kind = exchange.ErrProviderDenied
			pe.Hint = fmt.Sprintf("the OAuth server refused the assertion for %s: the user may not exist or be suspended, or delegation is not granted for these scopes", p.cfg.AccessTokenSubject)
		case "invalid_scope":
			pe.Kind = exchange.ErrProviderRejected
			pe.Hint = "the OAuth server refused the scopes; check access-token-scopes against the scopes delegated to the service account"
		default:
			p.rejected(pe, oe.Status, st)
		}
	default:
		p.rejected(pe, oe.Status, st)
	}
}

// rejected is the fallback for a permanent 4xx.
func (p *Provider) rejected(pe *exchange.ProviderError, status int, st step) {
	pe.Kind = exchange.ErrProviderRejected
	pe.Hint = fmt.Sprintf("%s rejected the %s", st.service, st.name)
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		pe.Kind = exchange.ErrProviderDenied
		pe.Hint = fmt.Sprintf("%s refused the %s", st.service, st.name)
	}
}

// classifyAPI maps the HTTP status of an IAM Credentials error.
func (p *Provider) classifyAPI(pe *exchange.ProviderError, st step, status int, id *exchange.Identity, req *exchange.Request) {
	sa := p.cfg.ServiceAccount
	switch status {
	case http.StatusForbidden:
		pe.Kind = exchange.ErrProviderDenied
		pe.Hint = fmt.Sprintf("this job's federated identity lacks %s on %s (or the service account does not exist): grant it %s",
			st.permission, sa, rolesFor(st))
		pe.Details = p.iamDenialDetails(st, id, req)
	case http.StatusUnauthorized:
		pe.Kind = exchange.ErrProviderDenied
		pe.Hint = "IAM Credentials did not accept the federated token; check universe and iamcredentials-endpoint"
	case http.StatusNotFound:
		pe.Kind = exchange.ErrProviderRejected
		pe.Hint = fmt.Sprintf("the service account %s does not exist; check service-account and delegates", sa)
	case http.StatusBadRequest:
		pe.Kind = exchange.ErrProviderRejected
		switch st {
		case stepAccessToken:
			pe.Hint = "IAM Credentials rejected the request: access-token-lifetime above 1h needs the organisation policy constraints/iam.allowServiceAccountCredentialLifetimeExtension to list the service account; also check access-token-scopes, delegates, and that the service account is enabled"
		case stepIDToken:
			pe.Hint = "IAM Credentials rejected the request: check id-token-audience, delegates, and that the service account is enabled"
		default:
			pe.Hint = "IAM Credentials rejected the request: check access-token-subject, delegates, and that the service account is enabled"
		}
	default:
		p.rejected(pe, status, st)
	}
}

func rolesFor(st step) string {
	if st.role == roleTokenCreator {
		return roleTokenCreator + " (" + roleWorkloadIdentityUser + " does not include " + st.permission + ")"
	}
	return roleWorkloadIdentityUser + " or " + roleTokenCreator
}

// stsDenialDetails explains an STS refusal: the claims the attribute
// condition saw, the provider, and a condition pinning this repository.
func (p *Provider) stsDenialDetails(id *exchange.Identity, req *exchange.Request) string {
	var b strings.Builder
	b.WriteString("Claims of this job's token:\n")
	b.WriteString(exchange.ClaimsTable(id, githubfacts.DenialClaims()...))
	fmt.Fprintf(&b, "Workload identity provider: %s\n", p.cfg.WorkloadIdentityProvider)
	aud := req.Audience
	fmt.Fprintf(&b, "The provider's issuer URI must be %s, and its allowed audiences must include %s",
		exchange.Sanitize(req.Issuer), exchange.Sanitize(aud))
	if def := DefaultAudience(p.cfg.WorkloadIdentityProvider); aud != def {
		fmt.Fprintf(&b, " (without an allowed-audiences list it accepts only %s)", def)
	}
	b.WriteString(".\n")
	if suggestion, err := p.suggest(id, req); err != nil {
		fmt.Fprintf(&b, "No attribute condition is suggested: %v.", err)
	} else {
		b.WriteString("The attribute condition oidc-exchange plan writes for this job:\n")
		b.WriteString("  " + suggestion.GCPCondition)
	}
	return b.String()
}

// iamDenialDetails explains a PERMISSION_DENIED of IAM Credentials: the
// role to grant and the principal set to grant it to, ready to paste.
func (p *Provider) iamDenialDetails(st step, id *exchange.Identity, req *exchange.Request) string {
	var b strings.Builder
	role := st.role
	suggestion, err := p.suggest(id, req)
	if err != nil {
		fmt.Fprintf(&b, "Grant %s on the service account %s to this job's principal; no principal is suggested: %v.\n", role, p.cfg.ServiceAccount, err)
	} else {
		member := suggestion.Principal
		fmt.Fprintf(&b, "Grant %s on the service account %s to this job's principal:\n", role, p.cfg.ServiceAccount)
		fmt.Fprintf(&b, "  %s\n", member)
		fmt.Fprintf(&b, "  gcloud iam service-accounts add-iam-policy-binding %s --role=%s --member='%s'\n", p.cfg.ServiceAccount, role, member)
		if suggestion.Mapping != "" {
			fmt.Fprintf(&b, "The provider must map %s. ", suggestion.Mapping)
		}
	}
	if role == roleWorkloadIdentityUser {
		fmt.Fprintf(&b, "%s grants %s too. ", roleTokenCreator, st.permission)
	}
	if len(p.cfg.Delegates) > 0 {
		b.WriteString("With delegates, each account in the chain needs " + roleTokenCreator + " on the next. ")
	}
	b.WriteString("A new binding can take a few minutes to apply.\n")
	b.WriteString("Claims of this job's token:\n")
	b.WriteString(exchange.ClaimsTable(id, githubfacts.DenialClaims()...))
	fmt.Fprintf(&b, "Workload identity provider: %s\n", p.cfg.WorkloadIdentityProvider)
	if err == nil {
		b.WriteString("The attribute condition oidc-exchange plan writes for this job:\n")
		b.WriteString("  " + suggestion.GCPCondition)
	}
	return b.String()
}

// suggest asks the planner for the trust of this job, on this provider's
// pool, so that the principal it names is the one to bind.
func (p *Provider) suggest(id *exchange.Identity, req *exchange.Request) (*plan.Suggestion, error) {
	r := plan.Request{Cloud: plan.GCP}
	// projects/N/locations/global/workloadIdentityPools/P/providers/X
	parts := strings.Split(p.cfg.WorkloadIdentityProvider, "/")
	if len(parts) == 8 {
		r.ProjectNumber, r.PoolID, r.ProviderID = parts[1], parts[5], parts[7]
	}
	return plan.Suggest(r, req.Issuer, req.Audience, id)
}
