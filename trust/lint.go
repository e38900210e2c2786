package trust

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DefaultAudience is the audience configure-aws-credentials and
// oidc-exchange request for AWS.
const DefaultAudience = "sts.amazonaws.com"

// maxFileSize caps one input. IAM trust policies are at most 4096
// characters and provider or credential listings a few KiB each; 4 MiB
// leaves room for large listings while keeping a stray binary from being
// parsed.
const maxFileSize = 4 << 20

// ErrUnknownFormat reports a document that is valid JSON but none of the
// formats [LintFile] reads.
var ErrUnknownFormat = errors.New("unrecognised document")

// FileError is a file that could not be linted: unreadable, not JSON, none
// of the formats [LintFile] reads, or structurally broken. Its message
// names the file once; callers add to it, not another copy of the name.
type FileError struct {
	// File is the name the file was given.
	File string
	// Err is the cause, without the file name.
	Err error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }

// Unwrap returns the cause, so errors.Is(err, [ErrUnknownFormat]) holds
// for an unrecognised document.
func (e *FileError) Unwrap() error { return e.Err }

// Options tune the checks. Start from [DefaultOptions]: the zero value
// treats roles as unprivileged.
type Options struct {
	// Audience is the aud AWS roles are expected to pin; empty means
	// [DefaultAudience] (and sts.amazonaws.com.cn for aws-cn providers).
	Audience string
	// Privileged treats every role as privileged, which raises
	// aws-sub-org-wide to critical and github-pull-request-trust to high.
	// The CLI's default is true.
	Privileged bool
}

// DefaultOptions returns the CLI defaults: the default audience and every
// role treated as privileged.
func DefaultOptions() Options { return Options{Privileged: true} }

// Finding is one problem in one file.
type Finding struct {
	// File is the name passed to [LintFile].
	File string `json:"file"`
	// Check is the [Check.ID].
	Check string `json:"check"`
	// Severity may be below the check's default, as its page explains.
	Severity Severity `json:"severity"`
	// Message says what is wrong, quoting the offending value.
	Message string `json:"message"`
	// Fix says what to do.
	Fix string `json:"fix"`
	// Path is the JSON path of the offending value, e.g.
	// $.Statement[0].Condition.StringLike["token.actions.githubusercontent.com:sub"].
	Path string `json:"path"`
	// Line and Column (1-based, column in Unicode code points) locate Path
	// in File; inside a policy embedded as a string they point at the string.
	Line   int `json:"line"`
	Column int `json:"column"`
}

// LintFile detects the format of data, runs every check that applies and
// returns the findings ordered by position. name is used only to label the
// findings. It fails with a [*FileError] on input that is not JSON, is not
// one of the formats below (wrapping [ErrUnknownFormat]), or is
// structurally broken:
//
//   - an AWS IAM role trust policy, `aws iam get-role` output (the policy
//     as an object or URL-encoded string) or `aws iam list-roles` output,
//     or a bare statement object or array of statements;
//   - `gcloud iam workload-identity-pools providers describe` (or `list`)
//     output, and `gcloud … get-iam-policy` output;
//   - `az ad app federated-credential list` (or `show`, or `az identity
//     federated-credential list`) output, or a Graph API {"value": […]}.
func LintFile(name string, data []byte, opts Options) ([]Finding, error) {
	if len(data) > maxFileSize {
		return nil, &FileError{File: name, Err: fmt.Errorf("%d bytes is over the %d-byte limit for one document", len(data), maxFileSize)}
	}
	doc, err := parseDocument(data, "$")
	if err != nil {
		return nil, &FileError{File: name, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	l := &linter{file: name, opts: opts}
	l.duplicates(doc)
	if err := l.lint(doc); err != nil {
		return nil, &FileError{File: name, Err: err}
	}
	sortFindings(l.findings)
	return l.findings, nil
}

// linter collects the findings for one file.
type linter struct {
	file     string
	opts     Options
	findings []Finding
	checks   map[string]Check // the catalogue by ID, built on first use
}

// add records a finding at at. sev 0 and fix "" take the check's defaults.
func (l *linter) add(id string, sev Severity, at loc, msg, fix string) {
	if l.checks == nil {
		l.checks = map[string]Check{}
		for _, c := range Checks() {
			l.checks[c.ID] = c
		}
	}
	c, ok := l.checks[id]
	if !ok {
		panic("trust: finding for unknown check " + id) // a programming error, caught by the tests
	}
	if sev == 0 {
		sev = c.Severity
	}
	if fix == "" {
		fix = c.Fix
	}
	f := Finding{File: l.file, Check: id, Severity: sev, Message: msg, Fix: fix, Path: at.path}
	if at.doc != nil {
		pos := at.doc.position(at.off)
		f.Line, f.Column = pos.line, pos.column
	}
	l.findings = append(l.findings, f)
}

func (l *linter) duplicates(d *document) {
	for _, dup := range d.dups {
		first := d.position(dup.firstOff)
		fix := "" // the catalogue's fix is about IAM Condition operators
		if !strings.HasSuffix(strings.TrimSuffix(dup.path, memberPath("", dup.key)), ".Condition") {
			fix = fmt.Sprintf("Keep a single %q key with the value you mean; the linter, like the cloud, judged the last one.", dup.key)
		}
		l.add(idJSONDuplicateKey, 0, loc{doc: d, path: dup.path, off: dup.off},
			fmt.Sprintf("key %q appears again (first at line %d, column %d); decoders and IAM keep only the last, so the first is silently ignored",
				dup.key, first.line, first.column), fix)
	}
}

// format is a document kind LintFile reads.
type format int

const (
	formatUnknown format = iota
	formatAWSPolicy
	formatAWSStatement
	formatAWSStatements
	formatAWSRole
	formatAWSRoles
	formatGCPProvider
	formatGCPProviders
	formatGCPPolicy
	formatAzureCredential
	formatAzureCredentials
	formatAzureGraph
)

// detect tells the format from the shape of the root value.
func detect(n *node) format {
	switch n.kind {
	case kindObject:
		switch {
		case n.has("Statement"):
			return formatAWSPolicy
		case isAWSStatement(n):
			return formatAWSStatement
		case n.get("Role").has("AssumeRolePolicyDocument"):
			return formatAWSRole
		case n.get("Roles").is(kindArray):
			return formatAWSRoles
		case isGCPProvider(n):
			return formatGCPProvider
		case n.get("bindings").is(kindArray) || (n.has("etag") && len(n.members) <= 3):
			return formatGCPPolicy
		case isAzureCredential(n):
			return formatAzureCredential
		case n.get("value").is(kindArray) && allItems(n.get("value"), isAzureCredential):
			return formatAzureGraph
		}
	case kindArray:
		switch {
		case len(n.items) == 0:
			return formatUnknown
		case allItems(n, isAzureCredential):
			return formatAzureCredentials
		case allItems(n, isGCPProvider):
			return formatGCPProviders
		case allItems(n, isAWSStatement):
			return formatAWSStatements
		}
	default:
		// A scalar is no document we know.
	}
	return formatUnknown
}

func allItems(n *node, f func(*node) bool) bool {
	if len(n.items) == 0 {
		return false
	}
	for _, it := range n.items {
		if !f(it) {
			return false
		}
	}
	return true
}

// isAWSStatement recognises a policy statement on its own, as people copy
// it out of a policy or a Terraform jsonencode block: an Effect and
// something it applies to.
func isAWSStatement(n *node) bool {
	return n.kind == kindObject && n.has("Effect") &&
		(n.has("Principal") || n.has("NotPrincipal") || n.has("Action") || n.has("NotAction"))
}

func isGCPProvider(n *node) bool {
	return n.kind == kindObject && (n.get("oidc").is(kindObject) || n.has("attributeMapping") ||
		containsAll(n.get("name").text(), "/workloadIdentityPools/", "/providers/"))
}

func isAzureCredential(n *node) bool {
	return n.kind == kindObject && n.has("issuer") && (n.has("subject") || n.has("claimsMatchingExpression") || n.has("audiences"))
}

func (l *linter) lint(d *document) error {
	root := d.root
	switch detect(root) {
	case formatAWSPolicy:
		return l.awsPolicy(d, root)
	case formatAWSStatement:
		return l.awsStatements(d, []*node{root})
	case formatAWSStatements:
		return l.awsStatements(d, root.items)
	case formatAWSRole:
		return l.awsRole(d, root.get("Role"))
	case formatAWSRoles:
		for _, r := range root.get("Roles").elems() {
			if err := l.awsRole(d, r); err != nil {
				return err
			}
		}
		return nil
	case formatGCPProvider:
		l.gcpProvider(d, root)
		return nil
	case formatGCPProviders:
		for _, p := range root.items {
			l.gcpProvider(d, p)
		}
		return nil
	case formatGCPPolicy:
		return l.gcpPolicy(d, root)
	case formatAzureCredential:
		l.azureCredential(d, root)
		return nil
	case formatAzureCredentials:
		for _, c := range root.items {
			l.azureCredential(d, c)
		}
		return nil
	case formatAzureGraph:
		for _, c := range root.get("value").elems() {
			l.azureCredential(d, c)
		}
		return nil
	case formatUnknown:
	}
	what := "JSON " + kindName(root.kind)
	if root.kind == kindArray && len(root.items) == 0 {
		what = "an empty JSON array"
	}
	return fmt.Errorf("%w (%s): want an AWS IAM trust policy (or its statements) or `aws iam get-role` output, "+
		"`gcloud iam workload-identity-pools providers describe` or `get-iam-policy` output, "+
		"or `az ad app federated-credential list` output", ErrUnknownFormat, what)
}

func kindName(k kind) string {
	switch k {
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	case kindString:
		return "string"
	case kindNumber:
		return "number"
	case kindBool:
		return "boolean"
	default:
		return "null"
	}
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Message, b.Message),
		)
	})
}
