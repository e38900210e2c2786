package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// Well-known paths of authorization server metadata.
const (
	wellKnownOAuth = "/.well-known/oauth-authorization-server"
	wellKnownOIDC  = "/.well-known/openid-configuration"
)

// metadataURLs lists where an issuer's metadata may be, in the order they
// are tried: RFC 8414 §3.1 inserts its well-known path between the host
// and the issuer's path; OpenID Connect Discovery appends its own to the
// issuer. Without a path both sit at the root.
func metadataURLs(issuer *url.URL) []string {
	path := strings.TrimSuffix(issuer.EscapedPath(), "/")
	base := issuer.Scheme + "://" + issuer.Host
	return []string{base + wellKnownOAuth + path, base + path + wellKnownOIDC}
}

// tokenEndpoint returns the configured or discovered token endpoint.
// Discovery runs once per provider; a failure is not cached, so a later
// exchange tries again.
func (p *Provider) tokenEndpoint(ctx context.Context) (*url.URL, error) {
	p.mu.Lock()
	ep := p.endpoint
	p.mu.Unlock()
	if ep != nil {
		return ep, nil
	}
	p.discover.Lock()
	defer p.discover.Unlock()
	p.mu.Lock()
	ep = p.endpoint
	p.mu.Unlock()
	if ep != nil {
		return ep, nil
	}
	err := p.retrier.Do(ctx, "discovering the token endpoint of "+display(p.issuer), func(actx context.Context) error {
		u, err := p.fetchMetadata(actx)
		if err != nil {
			return err
		}
		ep = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.endpoint = ep
	p.mu.Unlock()
	p.logger.Debug("discovered the token endpoint", "issuer", p.cfg.Discovery, "token_endpoint", display(ep))
	return ep, nil
}

// fetchMetadata tries each metadata URL in turn; a URL that answers a
// permanent error (404 and the like) passes on to the next.
func (p *Provider) fetchMetadata(ctx context.Context) (*url.URL, error) {
	var tried []string
	for _, mu := range metadataURLs(p.issuer) {
		status, doc, err := p.get(ctx, mu)
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("fetching %s: %w", mu, err)
		case err != nil:
			pe := &exchange.ProviderError{Provider: providerName, Err: err}
			if httpclient.IsNetworkError(err) {
				pe.Code = codeNetworkError
				pe.Message = "could not reach " + mu
				p.transient(pe, 0, "could not reach the broker's metadata; check the runner's network, proxy settings and broker-discovery")
				return nil, pe
			}
			pe.Code = codeInvalidMetadata
			pe.Message = "could not read " + mu
			pe.Kind = exchange.ErrProviderRejected
			pe.Hint = "check that broker-discovery is the broker's issuer URL"
			return nil, pe
		case httpclient.IsTransientStatus(status):
			pe := &exchange.ProviderError{Provider: providerName, Code: fmt.Sprintf("HTTP_%d", status),
				Message: fmt.Sprintf("%s answered HTTP %d", mu, status)}
			p.transient(pe, 0, fmt.Sprintf("the broker's metadata kept failing with HTTP %d; re-run the job later", status))
			return nil, pe
		case status < 200 || status > 299:
			tried = append(tried, fmt.Sprintf("%s (HTTP %d)", mu, status))
			continue
		}
		return p.checkMetadata(mu, doc)
	}
	return nil, &exchange.ProviderError{
		Provider: providerName, Code: codeMetadataNotFound, Kind: exchange.ErrProviderRejected,
		Message: "no authorization server metadata at " + strings.Join(tried, " or "),
		Hint:    "broker-discovery must be the broker's issuer URL exactly (e.g. Keycloak's https://host/realms/<realm>, Dex's issuer); or set broker-url to the token endpoint instead",
	}
}

// get fetches one metadata document; redirects are followed as the
// hardened client allows (https, re-validated), since the issuer check
// below pins the result.
func (p *Provider) get(ctx context.Context, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, http.NoBody)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := readCapped(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, data, nil
}

// checkMetadata validates a metadata document: a JSON object whose issuer
// is exactly the configured one (RFC 8414 §3.3, which stops a document
// from naming another server's endpoint) and whose token_endpoint is
// https, or http on loopback.
func (p *Provider) checkMetadata(from string, doc []byte) (*url.URL, error) {
	var md struct {
		Issuer              any   `json:"issuer"`
		TokenEndpoint       any   `json:"token_endpoint"`
		GrantTypesSupported []any `json:"grant_types_supported"`
	}
	reject := func(code, msg, hint string) error {
		return &exchange.ProviderError{Provider: providerName, Code: code, Kind: exchange.ErrProviderRejected, Message: msg, Hint: hint}
	}
	if err := json.Unmarshal(doc, &md); err != nil {
		return nil, reject(codeInvalidMetadata, from+" is not a JSON metadata document",
			"check that broker-discovery is the broker's issuer URL")
	}
	issuer, _ := md.Issuer.(string)
	if issuer != p.cfg.Discovery {
		return nil, reject(codeIssuerMismatch,
			fmt.Sprintf("the metadata at %s names the issuer %q, not %q", from, exchange.Sanitize(exchange.Truncate(issuer, 200)), p.cfg.Discovery),
			"broker-discovery must be the issuer exactly as the broker's metadata names it (RFC 8414 §3.3), trailing slash included")
	}
	te, _ := md.TokenEndpoint.(string)
	if te == "" {
		return nil, reject(codeInvalidMetadata, "the metadata at "+from+" has no token_endpoint",
			"the broker does not advertise a token endpoint; set broker-url instead")
	}
	u, err := url.Parse(te)
	if err == nil {
		err = httpclient.CheckURL(u)
	}
	if err == nil && (u.Fragment != "" || strings.Contains(te, "#")) {
		err = fmt.Errorf("a token endpoint must not have a fragment")
	}
	if err != nil {
		return nil, reject(codeInsecureTokenEndpoint,
			fmt.Sprintf("the metadata names the token endpoint %q: %v", exchange.Sanitize(exchange.Truncate(te, 200)), err),
			"the subject token is sent only over https (http only on loopback); fix the broker's metadata or set broker-url")
	}
	if md.GrantTypesSupported != nil && !slices.Contains(md.GrantTypesSupported, any(GrantTypeTokenExchange)) {
		p.logger.Debug("the broker's metadata does not list the token-exchange grant; trying anyway", "from", from)
	}
	return u, nil
}
