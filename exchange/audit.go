package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// AuditSchema names the version of the audit record's layout. Fields are only
// ever added within one version; renaming or removing one bumps it.
const AuditSchema = "oidc-exchange/audit/v1"

// Outcomes of an exchange.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// AuditRecord is the one record written per exchange. It names who
// exchanged what for which target until when, and holds SHA-256 fingerprints
// in place of every token and credential. Every key is always present, so
// log pipelines can rely on the shape; unknown values are "".
type AuditRecord struct {
	Schema     string `json:"schema"`
	Time       string `json:"time"`
	Outcome    string `json:"outcome"`
	ErrorClass Class  `json:"error_class"`
	ErrorCode  string `json:"error_code"`
	CI         string `json:"ci"`

	Issuer            string `json:"issuer"`
	Subject           string `json:"sub"`
	Audience          string `json:"aud"`
	TokenVerified     bool   `json:"token_verified"`
	Repository        string `json:"repository"`
	RepositoryID      string `json:"repository_id"`
	RepositoryOwnerID string `json:"repository_owner_id"`
	Ref               string `json:"ref"`
	SHA               string `json:"sha"`
	WorkflowRef       string `json:"workflow_ref"`
	JobWorkflowRef    string `json:"job_workflow_ref"`
	RunID             string `json:"run_id"`
	RunAttempt        string `json:"run_attempt"`
	Actor             string `json:"actor"`
	EventName         string `json:"event_name"`
	Environment       string `json:"environment"`
	JTI               string `json:"jti"`
	TokenSHA256       string `json:"token_sha256"`

	Provider             string   `json:"provider"`
	Target               string   `json:"target"`
	SessionName          string   `json:"session_name"`
	SessionPolicySHA256  string   `json:"session_policy_sha256"`
	CredentialSHA256     string   `json:"credential_sha256"`
	Scopes               []string `json:"scopes"`
	AccessBoundarySHA256 string   `json:"access_boundary_sha256"`
	RequestedAudiences   []string `json:"requested_audiences"`
	RequestedResources   []string `json:"requested_resources"`
	ExpiresAt            string   `json:"expires_at"`

	LatencyMS Latency `json:"latency_ms"`
	Version   string  `json:"version"`
}

// Latency is the wall time of each phase in milliseconds. Verification
// overlaps the exchange, so the phases do not add up to the total.
type Latency struct {
	Token    int64 `json:"token"`
	Verify   int64 `json:"verify"`
	Exchange int64 `json:"exchange"`
	Export   int64 `json:"export"`
	Total    int64 `json:"total"`
}

func millis(d time.Duration) int64 { return d.Milliseconds() }

// fillIdentity copies the token's claims into the record.
func (r *AuditRecord) fillIdentity(id *Identity) {
	if id == nil {
		return
	}
	r.Issuer = id.Issuer
	r.Subject = id.Subject
	r.Audience = strings.Join(id.Audience, ",")
	r.Repository = id.Claim("repository")
	r.RepositoryID = id.Claim("repository_id")
	r.RepositoryOwnerID = id.Claim("repository_owner_id")
	r.Ref = id.Claim("ref")
	r.SHA = id.Claim("sha")
	r.WorkflowRef = id.Claim("workflow_ref")
	r.JobWorkflowRef = id.Claim("job_workflow_ref")
	r.RunID = id.Claim("run_id")
	r.RunAttempt = id.Claim("run_attempt")
	r.Actor = id.Claim("actor")
	r.EventName = id.Claim("event_name")
	r.Environment = id.Claim("environment")
	r.JTI = id.Claim("jti")
}

// fillCredentials copies the provider's audit facts into the record.
func (r *AuditRecord) fillCredentials(c *Credentials) {
	if c == nil {
		return
	}
	a := c.Audit
	if a.Target != "" {
		r.Target = a.Target
	}
	r.SessionName = a.SessionName
	r.SessionPolicySHA256 = a.SessionPolicySHA256
	r.CredentialSHA256 = a.CredentialSHA256
	r.AccessBoundarySHA256 = a.AccessBoundarySHA256
	if len(a.Audiences) > 0 {
		r.RequestedAudiences = append([]string(nil), a.Audiences...)
	}
	if len(a.Resources) > 0 {
		r.RequestedResources = append([]string(nil), a.Resources...)
	}
	if len(a.Scopes) > 0 {
		r.Scopes = append([]string(nil), a.Scopes...)
	}
	if !c.Expiry.IsZero() {
		r.ExpiresAt = c.Expiry.UTC().Format(time.RFC3339)
	}
}

// JSON is the record as one line of JSON, without a trailing newline.
func (r *AuditRecord) JSON() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		// A struct of strings and ints cannot fail to marshal.
		panic(fmt.Sprintf("marshalling audit record: %v", err))
	}
	return b
}

// Markdown renders the record as a job-summary table. Every value is
// escaped: claims are attacker-influenced (branch and environment names).
func (r *AuditRecord) Markdown() string {
	var b strings.Builder
	title := "oidc-exchange: credentials issued"
	if r.Outcome != OutcomeSuccess {
		title = "oidc-exchange: exchange failed"
	}
	fmt.Fprintf(&b, "### %s\n\n| | |\n| --- | --- |\n", title)
	row := func(k, v string) {
		if v == "" {
			return
		}
		fmt.Fprintf(&b, "| %s | %s |\n", k, markdownCell(v))
	}
	row("Outcome", r.Outcome)
	if r.ErrorClass != ClassNone {
		row("Error", string(r.ErrorClass)+" "+r.ErrorCode)
	}
	row("Provider", r.Provider)
	row("Target", r.Target)
	row("Session name", r.SessionName)
	row("Expires", r.ExpiresAt)
	row("Scopes", strings.Join(r.Scopes, ", "))
	row("Requested audiences", strings.Join(r.RequestedAudiences, ", "))
	row("Requested resources", strings.Join(r.RequestedResources, ", "))
	row("Session policy SHA-256", r.SessionPolicySHA256)
	row("Access boundary SHA-256", r.AccessBoundarySHA256)
	row("Credential SHA-256", r.CredentialSHA256)
	row("Issuer", r.Issuer)
	row("Subject", r.Subject)
	row("Audience", r.Audience)
	row("Token verified", fmt.Sprint(r.TokenVerified))
	row("Repository", joinID(r.Repository, r.RepositoryID))
	row("Owner id", r.RepositoryOwnerID)
	row("Ref", r.Ref)
	row("Commit", r.SHA)
	row("Environment", r.Environment)
	row("Workflow", r.WorkflowRef)
	row("Job workflow", r.JobWorkflowRef)
	row("Event", r.EventName)
	row("Actor", r.Actor)
	row("Run", joinRun(r.RunID, r.RunAttempt))
	row("Token jti", r.JTI)
	row("Token SHA-256", r.TokenSHA256)
	row("Latency", fmt.Sprintf("token %d ms, verify %d ms, exchange %d ms, total %d ms",
		r.LatencyMS.Token, r.LatencyMS.Verify, r.LatencyMS.Exchange, r.LatencyMS.Total))
	return b.String()
}

func joinID(name, id string) string {
	if id == "" {
		return name
	}
	return name + " (id " + id + ")"
}

func joinRun(id, attempt string) string {
	if id == "" || attempt == "" {
		return id
	}
	return id + " attempt " + attempt
}

func markdownCell(v string) string {
	v = html.EscapeString(Sanitize(v))
	return "`" + strings.NewReplacer("|", `\|`, "`", "'").Replace(v) + "`"
}

// AuditFile appends each record as one JSON line to a file, for the
// audit-log input. A file it creates gets mode 0600.
type AuditFile struct {
	Path string
	// Created, when set, is called with a file Report has just created,
	// before anything is written to it. A container action runs as root
	// in a directory the runner user owns: the GitHub edge gives the file
	// to that user here, or later steps could not read it.
	Created func(f *os.File) error
}

var _ Reporter = (*AuditFile)(nil)

// Report implements [Reporter].
func (f *AuditFile) Report(_ context.Context, rec *AuditRecord) error {
	fh, err := f.open()
	if err != nil {
		return fmt.Errorf("opening audit log: %w", err)
	}
	if _, err := fh.Write(append(rec.JSON(), '\n')); err != nil {
		fh.Close()
		return fmt.Errorf("writing audit log: %w", err)
	}
	return fh.Close()
}

// open appends to the file, or creates it exclusively, so Created runs
// only for a file this call made and never changes one someone else owns.
func (f *AuditFile) open() (*os.File, error) {
	for range 2 {
		fh, err := os.OpenFile(f.Path, os.O_APPEND|os.O_WRONLY, 0)
		if !errors.Is(err, fs.ErrNotExist) {
			return fh, err
		}
		fh, err = os.OpenFile(f.Path, os.O_APPEND|os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // created in between: append to it
		}
		if err != nil {
			return nil, err
		}
		if f.Created != nil {
			if err := f.Created(fh); err != nil {
				fh.Close()
				// Nothing half-made stays behind.
				_ = os.Remove(f.Path)
				return nil, err
			}
		}
		return fh, nil
	}
	return nil, fmt.Errorf("%s keeps appearing and disappearing", f.Path)
}

// AuditLine writes each record as one JSON line to W, for CLI runs where
// stderr is the log.
type AuditLine struct {
	W io.Writer
}

var _ Reporter = (*AuditLine)(nil)

// Report implements [Reporter].
func (a *AuditLine) Report(_ context.Context, rec *AuditRecord) error {
	_, err := a.W.Write(append(rec.JSON(), '\n'))
	return err
}
