package exchange

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"
)

// Redacted is what every printing path of a [Secret] shows.
const Redacted = "REDACTED"

// Secret holds a sensitive string. Its zero value is the empty secret.
type Secret struct{ value string }

// NewSecret wraps v.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the raw value. Call it only to mask, export or send it.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// SHA256 is the hex SHA-256 of the value, the handle the audit record keeps
// in place of the secret itself.
func (s Secret) SHA256() string { return SHA256Hex(s.value) }

// String implements fmt.Stringer.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer so %#v is redacted too.
func (s Secret) GoString() string { return Redacted }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON keeps secrets out of JSON encodings.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText keeps secrets out of text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// SHA256Hex is the lower-case hex SHA-256 of s; empty input gives "".
func SHA256Hex(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Variable is one name/value pair handed to later steps, either as an
// environment variable or as a step output.
type Variable struct {
	Name  string
	Value Secret
	// Sensitive values are masked before anything is printed and never
	// appear in logs, summaries or audit records.
	Sensitive bool
}

// PlainVariable is a non-sensitive variable, such as a region.
func PlainVariable(name, value string) Variable {
	return Variable{Name: name, Value: NewSecret(value)}
}

// SecretVariable is a sensitive variable.
func SecretVariable(name string, value Secret) Variable {
	return Variable{Name: name, Value: value, Sensitive: true}
}

// Display is the value as it may be shown to a person: the value itself
// when it is not sensitive, REDACTED otherwise.
func (v Variable) Display() string {
	if v.Sensitive {
		return Redacted
	}
	return v.Value.Reveal()
}

// LogValue implements slog.LogValuer.
func (v Variable) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", v.Name), slog.String("value", v.Display()))
}

// File is a credentials file for later steps, such as a GCP
// external_account configuration. The CI edge decides where it lives (never
// the workspace), creates it with mode 0600, exports its path and removes it
// in the post step.
type File struct {
	// Prefix and Ext shape the file name: Prefix + random + Ext.
	Prefix string
	Ext    string
	// Content is never printed. It is not registered as a mask either:
	// every line of a JSON document would become one (actions/runner #326);
	// the secrets inside it are masked on their own.
	Content Secret
	// PathEnv lists environment variables that receive the file's path,
	// PathOutputs step outputs that do.
	PathEnv     []string
	PathOutputs []string
}

// Section is one named section of a shared INI file that several steps of
// a job write to (an AWS config or credentials file). Unlike a [File], the
// file is not this step's own: earlier steps, later steps and the user may
// keep their sections there, and tools find it through one well-known
// variable, so the CI edge merges the section into it instead of creating
// a file per step. It removes the section again in the post step, and the
// file when it created it and nothing else is left.
type Section struct {
	// File says which shared file: "aws-config" or "aws-credentials" (a
	// short kebab-case name; the edge derives the file name from it).
	File string
	// PathEnv names the variable through which consumers find the file
	// (AWS_CONFIG_FILE). When the step's environment already sets it, the
	// edge merges into that file; otherwise into a file of its own in the
	// runner temp directory. Either way the variable is exported with the
	// host path.
	PathEnv string
	// Name is the section name without brackets: "profile dev", "dev".
	Name string
	// Keys are the section's keys in order. Secret values (keys,
	// tokens) are masked by the pipeline like every other secret.
	Keys []Variable
	// Replace lets the section replace one of the same name that is
	// already in the file; without it, an existing section is an error
	// that names it (the peer's overwrite-aws-profile).
	Replace bool
}

// Credentials is what a provider returns and what is exported on success.
type Credentials struct {
	// Provider is the provider's registry name, e.g. "aws".
	Provider string
	// Env holds variables for later steps; Outputs holds step outputs.
	Env     []Variable
	Outputs []Variable
	// Files are credential files to write for later steps.
	Files []File
	// Sections are sections to merge into shared files for later steps;
	// their sensitive keys count among [Credentials.Secrets].
	Sections []Section
	// Expiry is when the issued credential stops working.
	Expiry time.Time
	// Audit holds what the audit record says about the issued credential.
	Audit ProviderAudit
}

// ProviderAudit are the provider's contributions to the audit record. None
// of them is secret; secrets appear only as SHA-256 fingerprints.
type ProviderAudit struct {
	// Target is what was assumed or requested: a role ARN, a service account.
	Target string
	// SessionName is the name the upstream logs the session under
	// (CloudTrail correlates by the AWS role session name).
	SessionName string
	// SessionPolicySHA256 fingerprints an inline session policy.
	SessionPolicySHA256 string
	// CredentialSHA256 fingerprints the issued credential's public handle
	// (an access-key id, a token).
	CredentialSHA256 string
	// Scopes lists requested scopes or managed policies.
	Scopes []string
	// AccessBoundarySHA256 fingerprints a GCP Credential Access Boundary.
	AccessBoundarySHA256 string
	// Audiences and Resources are what an RFC 8693 request asked for.
	Audiences []string
	Resources []string
}

// Secrets returns every sensitive value of c, each once, in a stable order:
// those of Env, of Outputs, then of each section's Keys.
func (c *Credentials) Secrets() []Secret {
	if c == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []Secret
	groups := [][]Variable{c.Env, c.Outputs}
	for _, s := range c.Sections {
		groups = append(groups, s.Keys)
	}
	for _, group := range groups {
		for _, v := range group {
			if v.Sensitive && !v.Value.IsZero() && !seen[v.Value.Reveal()] {
				seen[v.Value.Reveal()] = true
				out = append(out, v.Value)
			}
		}
	}
	return out
}

// MaskForms returns the strings a masker must register for one secret: the
// value, each of its trimmed non-empty lines, and any encoded form this
// program itself emits (Go's JSON escaping differs from the runner's).
func MaskForms(s Secret) []string {
	v := s.Reveal()
	if strings.TrimSpace(v) == "" {
		return nil
	}
	forms := []string{v}
	seen := map[string]bool{v: true}
	add := func(f string) {
		if strings.TrimSpace(f) != "" && !seen[f] {
			seen[f] = true
			forms = append(forms, f)
		}
	}
	if strings.ContainsAny(v, "\r\n") {
		for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
			add(strings.TrimSpace(line))
		}
	}
	if q := jsonEscaped(v); q != v {
		add(q)
	}
	return forms
}
