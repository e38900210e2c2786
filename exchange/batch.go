package exchange

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Batch runs several exchanges from one CI token, in parallel: several
// roles, each with its own provider and its own audit record. The token is
// fetched once and verified by every exchange, as a single run verifies
// it. Nothing is exported unless every exchange succeeded: their
// credentials are then merged and handed to Exporter in one call, so a
// failure of one leaves later steps with none of them rather than with a
// partial set.
type Batch struct {
	// Pipeline is what the exchanges share: platform, token source,
	// verifier, expectations, masker, reporters, logger and clock. Its
	// ProviderName is used; its Provider and Exporter are not.
	Pipeline Pipeline
	// Providers are the exchanges, one per audit record.
	Providers []Provider
	// Exporter receives the merged credentials once all succeeded.
	Exporter Exporter
}

// Run performs every exchange and returns one result per provider, in
// order, with the error of each that failed joined. Every audit record is
// reported, failed or not.
func (b *Batch) Run(ctx context.Context) ([]*Result, error) {
	if len(b.Providers) == 0 {
		return nil, errors.New("no exchange to run")
	}
	tokens := &sharedTokens{source: b.Pipeline.Tokens, verifier: b.Pipeline.Verifier, now: b.Pipeline.now, refreshBefore: b.Pipeline.RefreshBefore}
	if tokens.refreshBefore <= 0 {
		tokens.refreshBefore = DefaultRefreshBefore
	}
	// The masker and reporters write to one log and one file; the
	// exchanges take turns so that lines never interleave.
	var mu sync.Mutex
	masker := lockedMasker{mu: &mu, next: b.Pipeline.Masker}
	reporters := make([]Reporter, 0, len(b.Pipeline.Reporters))
	for _, r := range b.Pipeline.Reporters {
		reporters = append(reporters, lockedReporter{mu: &mu, next: r})
	}

	results := make([]*Result, len(b.Providers))
	errs := make([]error, len(b.Providers))
	collected := make([]collector, len(b.Providers))
	var wg sync.WaitGroup
	for i, prov := range b.Providers {
		p := b.Pipeline
		p.Tokens, p.Provider, p.Exporter, p.Masker, p.Reporters = tokens, prov, &collected[i], masker, reporters
		wg.Go(func() {
			results[i], errs[i] = p.Run(ctx)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", targetOf(prov, i), errs[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return results, err
	}
	parts := make([]*Credentials, len(collected))
	for i := range collected {
		parts[i] = collected[i].creds
	}
	merged, err := MergeCredentials(parts...)
	if err != nil {
		return results, fmt.Errorf("%w: %w", ErrExport, err)
	}
	if err := b.Exporter.Export(ctx, merged); err != nil {
		return results, fmt.Errorf("%w: %w", ErrExport, err)
	}
	return results, nil
}

// targetOf names an exchange of a batch in its error.
func targetOf(p Provider, i int) string {
	if t, ok := p.(Targeter); ok && t.Target() != "" {
		return t.Target()
	}
	return fmt.Sprintf("exchange %d", i+1)
}

// MergeCredentials joins the credentials of several exchanges into one
// export. A variable or output that two of them set to different values is
// an error, because one would silently win; the same value twice (a
// region) is kept once. Expiry is the earliest.
func MergeCredentials(parts ...*Credentials) (*Credentials, error) {
	out := &Credentials{}
	env := map[string]Secret{}
	outputs := map[string]Secret{}
	add := func(kind string, seen map[string]Secret, dst *[]Variable, v Variable) error {
		if prev, ok := seen[v.Name]; ok {
			if prev.Reveal() != v.Value.Reveal() {
				return fmt.Errorf("two exchanges set the %s %s to different values", kind, v.Name)
			}
			return nil
		}
		seen[v.Name] = v.Value
		*dst = append(*dst, v)
		return nil
	}
	for _, c := range parts {
		if c == nil {
			return nil, errors.New("an exchange returned no credentials")
		}
		if out.Provider == "" {
			out.Provider = c.Provider
		}
		for _, v := range c.Env {
			if err := add("variable", env, &out.Env, v); err != nil {
				return nil, err
			}
		}
		for _, v := range c.Outputs {
			if err := add("output", outputs, &out.Outputs, v); err != nil {
				return nil, err
			}
		}
		out.Files = append(out.Files, c.Files...)
		out.Sections = append(out.Sections, c.Sections...)
		if out.Expiry.IsZero() || (!c.Expiry.IsZero() && c.Expiry.Before(out.Expiry)) {
			out.Expiry = c.Expiry
		}
	}
	for i, s := range out.Sections {
		if slices.ContainsFunc(out.Sections[:i], func(o Section) bool { return o.File == s.File && o.Name == s.Name }) {
			return nil, fmt.Errorf("two exchanges write the section [%s] of %s", s.Name, s.File)
		}
	}
	return out, nil
}

// collector is the exporter of one exchange of a batch: it keeps the
// credentials for the batch's single export.
type collector struct{ creds *Credentials }

func (c *collector) Export(_ context.Context, creds *Credentials) error {
	c.creds = creds
	return nil
}

type lockedMasker struct {
	mu   *sync.Mutex
	next Masker
}

func (m lockedMasker) Mask(v string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next.Mask(v)
}

type lockedReporter struct {
	mu   *sync.Mutex
	next Reporter
}

func (r lockedReporter) Report(ctx context.Context, rec *AuditRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next.Report(ctx, rec)
}

// sharedTokens fetches the CI token once for every exchange of a batch,
// and again only when the held one is about to expire, as one run's token
// supplier does: the CI platform rate-limits token requests, and every
// exchange must present the same identity.
type sharedTokens struct {
	source        TokenSource
	verifier      *Verifier
	now           func() time.Time
	refreshBefore time.Duration

	mu     sync.Mutex
	tokens map[string]heldToken
}

type heldToken struct {
	token  Secret
	expiry time.Time
}

var (
	_ TokenSource       = (*sharedTokens)(nil)
	_ CredentialSourcer = (*sharedTokens)(nil)
)

func (s *sharedTokens) Token(ctx context.Context, audience string) (Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.tokens[audience]; ok && (h.expiry.IsZero() || h.expiry.Sub(s.now()) > s.refreshBefore) {
		return h.token, nil
	}
	t, err := s.source.Token(ctx, audience)
	if err != nil {
		return Secret{}, err
	}
	h := heldToken{token: t}
	// Peek only reads the expiry here; every exchange checks the token
	// in full, and a token Peek refuses is handed out to fail there.
	if id, perr := s.verifier.Peek(t.Reveal()); perr == nil && id != nil {
		h.expiry = id.Expiry
	}
	if s.tokens == nil {
		s.tokens = map[string]heldToken{}
	}
	s.tokens[audience] = h
	return t, nil
}

// CredentialSource describes the underlying source, when it can.
func (s *sharedTokens) CredentialSource(audience string) (*CredentialSource, error) {
	if cs, ok := s.source.(CredentialSourcer); ok {
		return cs.CredentialSource(audience)
	}
	return nil, nil
}
