package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/oidc-exchange/oidc-exchange/internal/version"
)

// DefaultRunBudget bounds a whole run when no other limit is set: every
// retry loop ends within its own cap (20 s by default, attempts in flight
// included), and the run as a whole within this, whatever the endpoints do.
// Healthy runs take well under a second; this leaves a slow-but-working
// token endpoint and a throttled STS their retries.
const DefaultRunBudget = 30 * time.Second

// DefaultRefreshBefore is how close to expiry a held token is replaced by a
// fresh one before another attempt. GitHub tokens live about five minutes;
// a minute leaves room for an STS round trip and clock skew.
const DefaultRefreshBefore = 60 * time.Second

// Pipeline runs one exchange in the one order that keeps secrets safe:
//
//  1. start discovery of the issuer (overlaps the token fetch);
//  2. fetch the token (the source masks it);
//  3. peek at its payload and check issuer, audience, expiry and the claim
//     expectations, failing before any provider call;
//  4. verify the signature while the provider exchanges the token;
//  5. once both succeeded, mask every issued secret, export, and report.
//
// The audit record is reported on failure too.
type Pipeline struct {
	// Platform names the CI platform in the audit record.
	Platform     string
	Tokens       TokenSource
	Verifier     *Verifier
	Expectations Expectations
	ProviderName string
	Provider     Provider
	Masker       Masker
	Exporter     Exporter
	Reporters    []Reporter
	Logger       *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RefreshBefore overrides [DefaultRefreshBefore].
	RefreshBefore time.Duration
}

// Result is what a successful run produced.
type Result struct {
	Credentials *Credentials
	Audit       *AuditRecord
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run performs the exchange. On failure it returns the error and the audit
// record (also reported); nothing is exported.
func (p *Pipeline) Run(ctx context.Context) (*Result, error) {
	start := p.now()
	rec := &AuditRecord{
		Schema:   AuditSchema,
		Time:     start.UTC().Format(time.RFC3339),
		CI:       p.Platform,
		Provider: p.ProviderName,
		Scopes:   []string{},
		// Lists are [] rather than null so the record's shape is stable.
		RequestedAudiences: []string{},
		RequestedResources: []string{},
		Version:            version.Get().Version,
	}
	if t, ok := p.Provider.(Targeter); ok {
		rec.Target = t.Target()
	}
	creds, err := p.run(ctx, rec, start)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// The caller's deadline is the run's budget: whatever was waiting
		// when it ran out, the run timed out, and another run may not.
		budget := "its budget"
		if dl, ok := ctx.Deadline(); ok {
			budget = dl.Sub(start).Round(time.Second).String()
		}
		err = fmt.Errorf("timed out after %s: %w: %w", budget, ErrTimedOut, err)
	}
	rec.LatencyMS.Total = millis(p.now().Sub(start))
	if err != nil {
		rec.Outcome = OutcomeFailure
		rec.ErrorClass = Classify(err)
		rec.ErrorCode = ErrorCode(err)
	} else {
		rec.Outcome = OutcomeSuccess
	}
	var reportErrs []error
	for _, r := range p.Reporters {
		if rerr := r.Report(ctx, rec); rerr != nil {
			reportErrs = append(reportErrs, rerr)
		}
	}
	if err != nil {
		if len(reportErrs) > 0 {
			p.logger().Warn("writing the audit record failed", "error", errors.Join(reportErrs...))
		}
		return &Result{Audit: rec}, err
	}
	if len(reportErrs) > 0 {
		// The credentials are already exported; a missing audit record is
		// a failure the user must see, not a silent gap.
		return &Result{Credentials: creds, Audit: rec}, fmt.Errorf("writing the audit record: %w", errors.Join(reportErrs...))
	}
	return &Result{Credentials: creds, Audit: rec}, nil
}

func (p *Pipeline) run(ctx context.Context, rec *AuditRecord, start time.Time) (*Credentials, error) {
	log := p.logger()
	p.Verifier.Warm(ctx)

	// The provider call and the signature check run together; a failed
	// check cancels the call, and credentials are released only after both.
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sup := &tokenSupplier{
		onVerifyError: func(err error) { cancel(err) },
		source:        p.Tokens,
		verifier:      p.Verifier,
		expectations:  p.Expectations,
		now:           p.now,
		refreshBefore: p.RefreshBefore,
		logger:        log,
	}
	if sup.refreshBefore <= 0 {
		sup.refreshBefore = DefaultRefreshBefore
	}
	id, err := sup.first(ctx)
	rec.LatencyMS.Token = millis(p.now().Sub(start))
	rec.fillIdentity(id)
	if t := sup.token; !t.IsZero() {
		rec.TokenSHA256 = t.SHA256()
	}
	if err != nil {
		return nil, err
	}
	log.Debug("token accepted for exchange", "iss", id.Issuer, "sub", Sanitize(id.Subject), "jti", id.Claim("jti"))

	req := &Request{Issuer: p.Verifier.Issuer(), Audience: p.Verifier.Audience()}
	if cs, ok := p.Tokens.(CredentialSourcer); ok {
		if req.CredentialSource, err = cs.CredentialSource(req.Audience); err != nil {
			return nil, fmt.Errorf("describing the token source: %w", err)
		}
	}
	exchangeStart := p.now()
	creds, perr := p.Provider.Exchange(pctx, id, req)
	rec.LatencyMS.Exchange = millis(p.now().Sub(exchangeStart))
	verr := sup.wait()
	if !sup.verifiedAt.IsZero() {
		rec.LatencyMS.Verify = millis(sup.verifiedAt.Sub(sup.arrivedAt))
	}
	rec.TokenVerified = verr == nil && sup.verifiedCount > 0
	if creds != nil {
		creds.Provider = p.ProviderName
		rec.fillCredentials(creds)
		// Mask whatever arrived even when we are about to fail: it is
		// cheap, and a later log line can then never show it.
		if err := p.mask(creds); err != nil {
			return nil, err
		}
	}
	switch {
	case verr != nil:
		return nil, verr
	case perr != nil:
		return nil, perr
	case creds == nil:
		return nil, fmt.Errorf("provider %s returned no credentials", p.ProviderName)
	}

	exportStart := p.now()
	if err := p.Exporter.Export(ctx, creds); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExport, err)
	}
	rec.LatencyMS.Export = millis(p.now().Sub(exportStart))
	return creds, nil
}

// MinSecretLength is the shortest value accepted as a secret from a
// provider, per value and per line. The runner masks every registered
// value, and every line of a multi-line one, wherever it appears in the
// job's log: a one-character "secret" blanks that character in every later
// line. No credential is this short; AWS's shortest, the access key id, has
// 16 characters, and an account id masked on request 12.
const MinSecretLength = 8

func (p *Pipeline) mask(c *Credentials) error {
	// Check everything first: a bad value must not become a mask, nor
	// may the good ones be half-registered.
	for _, s := range c.Secrets() {
		for _, form := range MaskForms(s) {
			if n := len([]rune(strings.TrimSpace(form))); n < MinSecretLength {
				return &ProviderError{
					Provider: p.ProviderName, Code: "InvalidAnswer", Kind: ErrProviderAnswer,
					Message: fmt.Sprintf("the provider answered with a secret value (or a line of one) of %d characters, too short to be a credential", n),
					Hint: "the endpoint is not the service it should be, or is broken; registered as a mask, the value would hide " +
						"every occurrence of it in the job's log",
				}
			}
		}
	}
	for _, s := range c.Secrets() {
		for _, form := range MaskForms(s) {
			if err := p.Masker.Mask(form); err != nil {
				return fmt.Errorf("masking credentials: %w", err)
			}
		}
	}
	return nil
}

// ErrorCode is the short code the audit record keeps for a failure: the
// upstream's code when there is one, else the outcome table's.
func ErrorCode(err error) string {
	var pe *ProviderError
	if errors.As(err, &pe) && pe.Code != "" {
		return pe.Code
	}
	return OutcomeOf(err).Code
}

var _ SubjectTokenSource = (*tokenSupplier)(nil)

// tokenSupplier holds the job's current token. Every token it hands out has
// passed Peek and the expectations, and has a signature verification
// running; wait joins them all.
type tokenSupplier struct {
	source        TokenSource
	verifier      *Verifier
	expectations  Expectations
	now           func() time.Time
	refreshBefore time.Duration
	logger        *slog.Logger
	onVerifyError func(error)

	mu            sync.Mutex
	token         Secret
	identity      *Identity
	wg            sync.WaitGroup
	verifyErr     error
	arrivedAt     time.Time
	verifiedAt    time.Time
	verifiedCount int
}

func (s *tokenSupplier) first(ctx context.Context) (*Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetchLocked(ctx)
}

// fetchLocked gets a token, checks it and starts verifying it.
func (s *tokenSupplier) fetchLocked(ctx context.Context) (*Identity, error) {
	raw, err := s.source.Token(ctx, s.verifier.Audience())
	if err != nil {
		return nil, err
	}
	if raw.IsZero() {
		return nil, fmt.Errorf("the CI platform returned an empty token: %w", ErrTokenUnavailable)
	}
	s.token = raw
	if s.arrivedAt.IsZero() {
		s.arrivedAt = s.now()
	}
	id, err := s.verifier.Peek(raw.Reveal())
	if err != nil {
		return id, err
	}
	if err := s.expectations.Check(id); err != nil {
		return id, err
	}
	id.Source = s
	s.identity = id
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_, verr := s.verifier.Verify(ctx, raw.Reveal())
		s.mu.Lock()
		s.verifiedAt = s.now()
		if verr != nil && s.verifyErr == nil {
			s.verifyErr = verr
		}
		if verr == nil {
			s.verifiedCount++
		}
		s.mu.Unlock()
		if verr != nil && s.onVerifyError != nil {
			s.onVerifyError(verr)
		}
	}()
	return id, nil
}

// SubjectToken returns the held token, or a fresh one when the held one
// expires within refreshBefore.
func (s *tokenSupplier) SubjectToken(ctx context.Context) (Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.identity == nil || s.identity.Expiry.IsZero() || s.identity.Expiry.Sub(s.now()) > s.refreshBefore {
		return s.token, nil
	}
	s.logger.Debug("token expires soon; fetching a fresh one", "exp", s.identity.Expiry)
	old := s.identity
	id, err := s.fetchLocked(ctx)
	if err != nil {
		return Secret{}, fmt.Errorf("refreshing the token: %w", err)
	}
	// The job's identity cannot change within a run; a fresh token that
	// claims a different subject is refused rather than silently used.
	if id.Subject != old.Subject {
		return Secret{}, fmt.Errorf("%w: refreshed token has a different sub", ErrTokenInvalid)
	}
	*old = *id
	return s.token, nil
}

// wait blocks until every started verification finished and returns the
// first failure.
func (s *tokenSupplier) wait() error {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verifyErr
}
