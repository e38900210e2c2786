package exchangetest

import (
	"context"
	"errors"
	"sync"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Events records the order in which the pipeline touched its seams, so
// tests can assert mask-before-export and nothing-exported-on-failure.
type Events struct {
	mu  sync.Mutex
	log []string
}

// Add appends an event.
func (e *Events) Add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

// List returns the events so far.
func (e *Events) List() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

// StaticTokens is a TokenSource that returns tokens from Mint, recording
// each fetch and its audience.
type StaticTokens struct {
	Mint   func(audience string) string
	Err    error
	Events *Events
	mu     sync.Mutex
	calls  int
}

var _ exchange.TokenSource = (*StaticTokens)(nil)

// Token implements exchange.TokenSource.
func (s *StaticTokens) Token(_ context.Context, audience string) (exchange.Secret, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	if s.Events != nil {
		s.Events.Add("token:" + audience)
	}
	if s.Err != nil {
		return exchange.Secret{}, s.Err
	}
	return exchange.NewSecret(s.Mint(audience)), nil
}

// Calls counts fetches.
func (s *StaticTokens) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// ProviderFunc adapts a function to exchange.Provider.
type ProviderFunc func(ctx context.Context, id *exchange.Identity, req *exchange.Request) (*exchange.Credentials, error)

var _ exchange.Provider = ProviderFunc(nil)

// Exchange implements exchange.Provider.
func (f ProviderFunc) Exchange(ctx context.Context, id *exchange.Identity, req *exchange.Request) (*exchange.Credentials, error) {
	return f(ctx, id, req)
}

// RecordingMasker records masked values.
type RecordingMasker struct {
	Events *Events
	mu     sync.Mutex
	Values []string
}

var _ exchange.Masker = (*RecordingMasker)(nil)

// Mask implements exchange.Masker.
func (m *RecordingMasker) Mask(v string) error {
	m.mu.Lock()
	m.Values = append(m.Values, v)
	m.mu.Unlock()
	if m.Events != nil {
		m.Events.Add("mask")
	}
	return nil
}

// RecordingExporter records exported credentials.
type RecordingExporter struct {
	Events   *Events
	Err      error
	Exported []*exchange.Credentials
}

var _ exchange.Exporter = (*RecordingExporter)(nil)

// Export implements exchange.Exporter.
func (e *RecordingExporter) Export(_ context.Context, c *exchange.Credentials) error {
	if e.Events != nil {
		e.Events.Add("export")
	}
	if e.Err != nil {
		return e.Err
	}
	e.Exported = append(e.Exported, c)
	return nil
}

// RecordingReporter records audit records.
type RecordingReporter struct {
	Events  *Events
	Records []*exchange.AuditRecord
}

var _ exchange.Reporter = (*RecordingReporter)(nil)

// Report implements exchange.Reporter.
func (r *RecordingReporter) Report(_ context.Context, rec *exchange.AuditRecord) error {
	if r.Events != nil {
		r.Events.Add("audit:" + rec.Outcome)
	}
	r.Records = append(r.Records, rec)
	return nil
}

// ErrFake is returned by fakes told to fail.
var ErrFake = errors.New("fake failure")
