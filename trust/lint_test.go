package trust_test

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/trust"
)

var update = flag.Bool("update", false, "rewrite golden files")

// wantBad lists, for every bad case under testdata/checks, exactly the
// distinct check IDs LintFile must report (at any severity, info included).
// Most bad cases are clean apart from the check they exercise; where
// another check is a true consequence of the same mistake it is listed too.
var wantBad = map[string][]string{
	"aws/aws-aud-not-pinned.bad.json":               {"aws-aud-not-pinned"},
	"aws/aws-aud-not-pinned.bad-stringlike.json":    {"aws-aud-not-pinned"},
	"aws/aws-aud-unexpected.bad.json":               {"aws-aud-unexpected"},
	"aws/aws-key-prefix-mismatch.bad.json":          {"aws-key-prefix-mismatch"},
	"aws/aws-max-session-long.bad.json":             {"aws-max-session-long"},
	"aws/aws-operator-fails-open.bad.json":          {"aws-operator-fails-open"},
	"aws/aws-operator-fails-open.bad-ifexists.json": {"aws-operator-fails-open"},
	"aws/aws-operator-fails-open.bad-negated.json":  {"aws-operator-fails-open"},
	"aws/aws-principal-wildcard.bad.json":           {"aws-principal-wildcard"},
	"aws/aws-principal-wildcard.bad-federated.json": {"aws-principal-wildcard"},
	"aws/aws-stringequals-wildcard.bad.json":        {"aws-stringequals-wildcard"},
	"aws/aws-sub-any-ref.bad.json":                  {"aws-sub-any-ref"},
	"aws/aws-sub-any-ref.bad-branches.json":         {"aws-sub-any-ref"},
	"aws/aws-sub-any-repo.bad.json":                 {"aws-sub-any-repo"},
	"aws/aws-sub-any-repo.bad-owner-prefix.json":    {"aws-sub-any-repo"},
	"aws/aws-sub-any-repo.bad-star.json":            {"aws-sub-any-repo"},
	// The principal is a Terraform placeholder; the condition keys name
	// GitHub's issuer, so the policy is judged as GitHub's.
	"aws/aws-sub-any-repo.bad-templated-principal.json": {"aws-sub-any-repo", "json-template-placeholder"},
	"aws/json-template-placeholder.bad.json":            {"json-template-placeholder"},
	"aws/aws-sub-missing.bad.json":                      {"aws-sub-missing"},
	"aws/aws-sub-missing.bad-negated.json":              {"aws-operator-fails-open", "aws-sub-missing"},
	"aws/aws-sub-org-wide.bad.json":                     {"aws-sub-org-wide"},
	"aws/aws-sub-org-wide.bad-list.json":                {"aws-sub-org-wide"},
	"aws/aws-unconditioned-allow.bad.json":              {"aws-aud-not-pinned", "aws-sub-missing", "aws-unconditioned-allow"},
	"aws/github-issuer-unknown.bad.json":                {"github-issuer-unknown"},
	"aws/github-names-not-ids.bad.json":                 {"github-names-not-ids"},
	"aws/github-pull-request-trust.bad.json":            {"github-pull-request-trust"},
	"aws/github-pull-request-trust.bad-refs-pull.json":  {"github-pull-request-trust"},
	"aws/github-workflow-ref-unpinned.bad.json":         {"github-workflow-ref-unpinned"},
	"aws/github-workflow-ref-unpinned.bad-branch.json":  {"github-workflow-ref-unpinned"},
	// The second StringEquals replaces the first, so aud is lost.
	"aws/json-duplicate-key.bad.json": {"aws-aud-not-pinned", "json-duplicate-key"},

	"azure/azure-audience-unexpected.bad.json":           {"azure-audience-unexpected"},
	"azure/azure-expression-any-ref.bad.json":            {"azure-expression-any-ref"},
	"azure/azure-expression-unpinned.bad.json":           {"azure-expression-unpinned"},
	"azure/azure-expression-unpinned.bad-any-owner.json": {"azure-expression-unpinned"},
	"azure/azure-expression-unpinned.bad-or.json":        {"azure-expression-unpinned"},
	"azure/azure-subject-unpinned.bad.json":              {"azure-subject-unpinned"},
	"azure/azure-subject-unpinned.bad-empty.json":        {"azure-subject-unpinned"},
	"azure/azure-subject-wildcard.bad.json":              {"azure-subject-wildcard"},
	"azure/azure-subject-wildcard.bad-eq.json":           {"azure-subject-wildcard"},
	"azure/github-issuer-unknown.bad.json":               {"github-issuer-unknown"},
	"azure/github-names-not-ids.bad.json":                {"github-names-not-ids"},
	"azure/github-pull-request-trust.bad.json":           {"github-pull-request-trust"},
	"azure/github-workflow-ref-unpinned.bad.json":        {"github-workflow-ref-unpinned"},
	"azure/json-duplicate-key.bad.json":                  {"json-duplicate-key"},

	"gcp/gcp-audience-shared.bad.json":                  {"gcp-audience-shared"},
	"gcp/gcp-binding-names.bad.json":                    {"gcp-binding-names"},
	"gcp/gcp-binding-wildcard.bad.json":                 {"gcp-binding-wildcard"},
	"gcp/gcp-condition-missing.bad.json":                {"gcp-condition-missing"},
	"gcp/gcp-condition-names.bad.json":                  {"gcp-condition-names"},
	"gcp/gcp-condition-names.bad-attribute.json":        {"gcp-condition-names"},
	"gcp/gcp-condition-trivial.bad.json":                {"gcp-condition-trivial"},
	"gcp/gcp-condition-trivial.bad-negation.json":       {"gcp-condition-trivial"},
	"gcp/gcp-condition-trivial.bad-or.json":             {"gcp-condition-trivial"},
	"gcp/gcp-condition-trivial.bad-owner-prefix.json":   {"gcp-condition-trivial"},
	"gcp/gcp-condition-trivial.bad-sub-nonempty.json":   {"gcp-condition-trivial"},
	"gcp/gcp-provider-disabled.bad.json":                {"gcp-provider-disabled"},
	"gcp/json-template-placeholder.bad.json":            {"json-template-placeholder"},
	"gcp/gcp-subject-unmapped.bad.json":                 {"gcp-subject-unmapped"},
	"gcp/github-issuer-unknown.bad.json":                {"github-issuer-unknown"},
	"gcp/github-issuer-unknown.bad-trailing-slash.json": {"github-issuer-unknown"},
	"gcp/github-names-not-ids.bad.json":                 {"github-names-not-ids"},
	"gcp/github-pull-request-trust.bad.json":            {"github-pull-request-trust"},
	"gcp/github-workflow-ref-unpinned.bad.json":         {"github-workflow-ref-unpinned"},
	// The second attributeCondition replaces the first.
	"gcp/json-duplicate-key.bad.json": {"gcp-condition-trivial", "json-duplicate-key"},

	// A placeholder in a value that decides who is admitted is reported,
	// not judged as literal text: a "${sub}" sub is not aws-sub-any-repo,
	// a templated aud not aws-aud-not-pinned.
	"aws/json-template-placeholder.bad-condition.json":    {"json-template-placeholder"},
	"aws/json-template-placeholder.bad-audience.json":     {"json-template-placeholder"},
	"azure/json-template-placeholder.bad.json":            {"json-template-placeholder"},
	"azure/json-template-placeholder.bad-expression.json": {"json-template-placeholder"},
	"azure/json-template-placeholder.bad-issuer.json":     {"json-template-placeholder"},
	"gcp/json-template-placeholder.bad-condition.json":    {"json-template-placeholder"},
	"gcp/json-template-placeholder.bad-issuer.json":       {"json-template-placeholder"},
}

// lint runs LintFile on a testdata file with the CLI defaults.
func lint(t *testing.T, path string, opts trust.Options) []trust.Finding {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := trust.LintFile(filepath.ToSlash(path), data, opts)
	if err != nil {
		t.Fatalf("LintFile: %v", err)
	}
	return fs
}

func ids(fs []trust.Finding) []string {
	var out []string
	for _, f := range fs {
		if !slices.Contains(out, f.Check) {
			out = append(out, f.Check)
		}
	}
	slices.Sort(out)
	return out
}

// TestCorpus runs every case under testdata/checks/<platform>/. A file
// named <check>.bad[-variant].json must yield exactly the check IDs in
// wantBad. A file named <check>.good[-variant].json is clean: it yields no
// finding at Low or above (Info findings, which are context rather than
// weaknesses, are allowed but none of the good cases has one either, which
// the test also pins).
func TestCorpus(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/checks/*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no corpus files")
	}
	seenBad := map[string]bool{}
	covered := map[string][2]bool{} // check ID → has bad, has good
	for _, path := range files {
		rel := strings.TrimPrefix(filepath.ToSlash(path), "testdata/checks/")
		base := filepath.Base(path)
		check, kind, ok := strings.Cut(strings.TrimSuffix(base, ".json"), ".")
		if !ok {
			t.Errorf("%s: want <check>.bad[-x].json or <check>.good[-x].json", rel)
			continue
		}
		c := covered[check]
		switch {
		case strings.HasPrefix(kind, "bad"):
			c[0] = true
			seenBad[rel] = true
			want, ok := wantBad[rel]
			if !ok {
				t.Errorf("%s: missing from wantBad", rel)
				continue
			}
			if !slices.Contains(want, check) {
				t.Errorf("%s: wantBad does not include the file's own check %s", rel, check)
			}
			t.Run(rel, func(t *testing.T) {
				t.Parallel()
				fs := lint(t, path, trust.DefaultOptions())
				if diff := cmp.Diff(want, ids(fs)); diff != "" {
					t.Errorf("check IDs (-want +got):\n%s\nfindings: %+v", diff, fs)
				}
			})
		case strings.HasPrefix(kind, "good"):
			c[1] = true
			t.Run(rel, func(t *testing.T) {
				t.Parallel()
				for _, f := range lint(t, path, trust.DefaultOptions()) {
					t.Errorf("good case has a finding: %+v", f)
				}
			})
		default:
			t.Errorf("%s: want <check>.bad[-x].json or <check>.good[-x].json", rel)
		}
		covered[check] = c
	}
	for rel := range wantBad {
		if !seenBad[rel] {
			t.Errorf("wantBad lists %s, which does not exist", rel)
		}
	}
	for _, c := range trust.Checks() {
		if got := covered[c.ID]; !got[0] || !got[1] {
			t.Errorf("check %s needs a bad and a good case under testdata/checks (have bad=%v good=%v)", c.ID, got[0], got[1])
		}
	}
	for check := range covered {
		if !slices.ContainsFunc(trust.Checks(), func(c trust.Check) bool { return c.ID == check }) {
			t.Errorf("corpus files for unknown check %s", check)
		}
	}
}

// TestRealDocuments lints documents shaped like the public docs' examples
// and real CLI output.
func TestRealDocuments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		// GitHub docs, "Configuring OpenID Connect in Amazon Web Services".
		{"aws-github-docs-trust-policy.json", []string{"github-names-not-ids"}},
		// aws iam get-role (AWS CLI v2 prints the policy as an object).
		{"aws-get-role.json", []string{"github-names-not-ids"}},
		// The IAM API's URL-encoded policy; configure-aws-credentials README pattern repo:o/r:*.
		{"aws-get-role-urlencoded.json", []string{"aws-sub-any-ref", "github-names-not-ids"}},
		// The docs' statement without the document around it, and a
		// Statement array as Terraform's jsonencode writes it.
		{"aws-statement-bare.json", []string{"github-names-not-ids"}},
		{"aws-statement-array.json", []string{"aws-sub-any-ref", "github-names-not-ids"}},
		// google-github-actions/auth README: condition and binding on names.
		{"gcp-provider-describe.json", []string{"gcp-condition-names"}},
		{"gcp-provider-describe-ids.json", nil},
		{"gcp-get-iam-policy.json", []string{"gcp-binding-names"}},
		// az ad app federated-credential list: two classic, one flexible.
		{"azure-federated-credential-list.json", []string{"azure-expression-any-ref", "github-names-not-ids"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got := ids(lint(t, filepath.Join("testdata", "real", tc.file), trust.DefaultOptions()))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("check IDs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLintFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		unknown bool // errors.Is(err, trust.ErrUnknownFormat)
		want    string
	}{
		{"empty-array.json", true, "empty JSON array"},
		{"get-role-bad-policy.json", false, "$.Role.AssumeRolePolicyDocument: policy inside the string: line 1"},
		{"not-json.json", false, "invalid JSON: line 1, column 3"},
		{"statement-not-object.json", false, "$.Statement is neither"},
		{"string.json", true, "JSON string"},
		{"trailing-data.json", false, "line 2, column 2: unexpected data after the top-level value"},
		{"truncated.json", false, "unexpected EOF"},
		{"unknown-object.json", true, "want an AWS IAM trust policy"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "errors", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			fs, err := trust.LintFile(tc.file, data, trust.DefaultOptions())
			if err == nil {
				t.Fatalf("no error; findings %+v", fs)
			}
			if fs != nil {
				t.Errorf("findings returned with an error: %+v", fs)
			}
			if got := errors.Is(err, trust.ErrUnknownFormat); got != tc.unknown {
				t.Errorf("errors.Is(%v, ErrUnknownFormat) = %v, want %v", err, got, tc.unknown)
			}
			if !strings.HasPrefix(err.Error(), tc.file+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want the file name first and %q", err, tc.want)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		t.Parallel()
		if _, err := trust.LintFile("big.json", make([]byte, 5<<20), trust.DefaultOptions()); err == nil {
			t.Error("no error for a 5 MiB input")
		}
	})
}

// TestPositions pins paths, lines and columns, including inside a policy
// embedded as a string, where positions point at the string.
func TestPositions(t *testing.T) {
	t.Parallel()
	type pos struct {
		Check, Path  string
		Line, Column int
	}
	tests := []struct {
		file string
		want []pos
	}{
		{"checks/aws/json-duplicate-key.bad.json", []pos{
			{"aws-aud-not-pinned", "$.Statement[0].Condition", 10, 20},
			{"json-duplicate-key", "$.Statement[0].Condition.StringEquals", 14, 9},
		}},
		{"real/aws-get-role-urlencoded.json", []pos{
			{"aws-sub-any-ref", `$.Role.AssumeRolePolicyDocument.Statement[0].Condition.StringLike["token.actions.githubusercontent.com:sub"]`, 8, 33},
			{"github-names-not-ids", `$.Role.AssumeRolePolicyDocument.Statement[0].Condition.StringLike["token.actions.githubusercontent.com:sub"]`, 8, 33},
		}},
		{"checks/azure/json-duplicate-key.bad.json", []pos{{"json-duplicate-key", "$[0].subject", 9, 5}}},
		{"checks/gcp/gcp-binding-wildcard.bad.json", []pos{{"gcp-binding-wildcard", "$.bindings[0].members[0]", 5, 9}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var got []pos
			for _, f := range lint(t, filepath.Join("testdata", tc.file), trust.DefaultOptions()) {
				got = append(got, pos{f.Check, f.Path, f.Line, f.Column})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("positions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	sev := func(opts trust.Options, file, check string) trust.Severity {
		t.Helper()
		for _, f := range lint(t, filepath.Join("testdata", "checks", file), opts) {
			if f.Check == check {
				return f.Severity
			}
		}
		t.Fatalf("%s: no %s finding", file, check)
		return 0
	}
	unprivileged := trust.Options{Privileged: false}
	tests := []struct {
		name  string
		opts  trust.Options
		file  string
		check string
		want  trust.Severity
	}{
		{"org-wide privileged", trust.DefaultOptions(), "aws/aws-sub-org-wide.bad.json", "aws-sub-org-wide", trust.Critical},
		{"org-wide unprivileged", unprivileged, "aws/aws-sub-org-wide.bad.json", "aws-sub-org-wide", trust.High},
		{"pull request privileged", trust.DefaultOptions(), "azure/github-pull-request-trust.bad.json", "github-pull-request-trust", trust.High},
		{"pull request unprivileged", unprivileged, "gcp/github-pull-request-trust.bad.json", "github-pull-request-trust", trust.Medium},
		{"workflow branch", trust.DefaultOptions(), "aws/github-workflow-ref-unpinned.bad-branch.json", "github-workflow-ref-unpinned", trust.Medium},
		{"other audience", trust.Options{Audience: "https://github.com/octo-org"}, "aws/aws-aud-unexpected.good.json", "aws-aud-unexpected", trust.Low},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := sev(tc.opts, tc.file, tc.check); got != tc.want {
				t.Errorf("severity = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("configured audience accepted", func(t *testing.T) {
		t.Parallel()
		fs := lint(t, "testdata/checks/aws/aws-aud-unexpected.bad.json", trust.Options{Audience: "https://github.com/octo-org", Privileged: true})
		if len(fs) != 0 {
			t.Errorf("findings with the configured audience: %+v", fs)
		}
	})
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	for s := trust.Info; s <= trust.Critical; s++ {
		got, err := trust.ParseSeverity(" " + strings.ToUpper(s.String()) + " ")
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v", s.String(), got, err)
		}
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back trust.Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("text round trip of %v: %v, %v", s, back, err)
		}
	}
	for _, bad := range []string{"", "none", "warning", "error", "5"} {
		if _, err := trust.ParseSeverity(bad); err == nil {
			t.Errorf("ParseSeverity(%q): no error", bad)
		}
	}
	if !(trust.Info < trust.Low && trust.Low < trust.Medium && trust.Medium < trust.High && trust.High < trust.Critical) {
		t.Error("severities out of order")
	}
	if _, err := trust.Severity(0).MarshalText(); err == nil {
		t.Error("the zero Severity marshalled")
	}
	if got := trust.Severity(0).String(); got != "none" {
		t.Errorf("zero String() = %q", got)
	}

	var empty trust.Report
	if got := empty.MaxSeverity(); got >= trust.Info {
		t.Errorf("empty report MaxSeverity = %v, want below info", got)
	}
	r := trust.Report{Findings: []trust.Finding{{Severity: trust.Low}, {Severity: trust.High}, {Severity: trust.Info}}}
	if got := r.MaxSeverity(); got != trust.High {
		t.Errorf("MaxSeverity = %v, want high", got)
	}
}

// goldenReport lints a representative set of files: the real-shaped
// documents of each platform and a few bad cases.
func goldenReport(t *testing.T) *trust.Report {
	t.Helper()
	files := []string{
		"testdata/real/aws-get-role-urlencoded.json",
		"testdata/real/azure-federated-credential-list.json",
		"testdata/real/gcp-get-iam-policy.json",
		"testdata/real/gcp-provider-describe.json",
		"testdata/checks/aws/json-duplicate-key.bad.json",
		"testdata/checks/aws/aws-sub-missing.bad.json",
		"testdata/checks/gcp/gcp-condition-missing.bad.json",
		"testdata/checks/azure/azure-expression-unpinned.bad.json",
	}
	// Reverse order: the writers must sort. The unrecognised and the
	// missing file must not stop the run; they are listed as errors.
	const missing = "testdata/does-not-exist.json"
	files = append(files, "testdata/errors/unknown-object.json", missing)
	slices.Reverse(files)
	read := func(name string) ([]byte, error) {
		if name == missing {
			// The OS's own wording differs between platforms; the golden
			// files must not.
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return os.ReadFile(name)
	}
	r := trust.LintFiles(files, read, trust.DefaultOptions())
	if len(r.Errors) != 2 || len(r.Findings) == 0 {
		t.Fatalf("LintFiles: %d findings, errors %v", len(r.Findings), r.Errors)
	}
	return r
}

// TestLintFiles: one file that cannot be read or linted does not stop the
// run, every error names its file exactly once, and the findings of the
// other files are all there.
func TestLintFiles(t *testing.T) {
	t.Parallel()
	good := "testdata/checks/aws/aws-sub-missing.bad.json"
	names := []string{
		"testdata/errors/not-json.json",
		good,
		"testdata/errors/unknown-object.json",
		"testdata/nope/missing.json",
		"testdata/errors/get-role-bad-policy.json",
	}
	r := trust.LintFiles(names, os.ReadFile, trust.DefaultOptions())
	if diff := cmp.Diff(lint(t, good, trust.DefaultOptions()), r.Findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	var got []string
	for _, e := range r.Errors {
		got = append(got, e.File)
		if n := strings.Count(e.Error(), e.File); n != 1 {
			t.Errorf("error %q names its file %d times, want once", e, n)
		}
	}
	want := []string{names[0], names[2], names[3], names[4]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files with errors (-want +got):\n%s", diff)
	}
	if !errors.Is(r.Errors[1], trust.ErrUnknownFormat) {
		t.Errorf("%v does not wrap ErrUnknownFormat", r.Errors[1])
	}
	if !errors.Is(r.Errors[2], fs.ErrNotExist) {
		t.Errorf("%v does not wrap fs.ErrNotExist", r.Errors[2])
	}

	var b bytes.Buffer
	if err := (&trust.Report{Errors: r.Errors}).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.HasPrefix(out, "no findings\n\nerror: 4 file(s) could not be linted") {
		t.Errorf("table of a run with only errors does not say so first:\n%s", out)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	r := goldenReport(t)
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"table", func(b *bytes.Buffer) error { return r.WriteTable(b) }},
		{"json", func(b *bytes.Buffer) error { return r.WriteJSON(b) }},
		{"sarif", func(b *bytes.Buffer) error { return r.WriteSARIF(b, "1.2.3") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			exchangetest.Golden(t, "golden/"+tc.name+".golden", b.String(), *update)
		})
	}
	t.Run("empty table", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		if err := (&trust.Report{}).WriteTable(&b); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != "no findings\n" {
			t.Errorf("empty table = %q", got)
		}
	})
	t.Run("empty json", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		if err := (&trust.Report{}).WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), `"findings": []`) {
			t.Errorf("empty JSON has no findings array:\n%s", b.String())
		}
	})
}

// compileSARIFSchema compiles the official SARIF 2.1.0 schema (see
// testdata/README.md) with format assertions on, so "uri" fields must be
// absolute URIs and "uri-reference" fields URI references.
func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	return sch
}

func TestSARIFSchema(t *testing.T) {
	t.Parallel()
	sch := compileSARIFSchema(t)

	// Everything the corpus produces, plus odd file names.
	r := goldenReport(t)
	files, _ := filepath.Glob("testdata/checks/*/*.bad*.json")
	for _, f := range files {
		r.Findings = append(r.Findings, lint(t, f, trust.DefaultOptions())...)
	}
	r.Findings = append(r.Findings,
		trust.Finding{File: "dir with space/ünïcode #1.json", Check: "aws-sub-missing", Severity: trust.Critical, Message: "m", Fix: "f", Path: "$"},
		trust.Finding{File: `C:\policies\role.json`, Check: "aws-sub-missing", Severity: trust.Critical, Message: "m", Fix: "f", Path: "$", Line: 1, Column: 1},
	)
	for _, tc := range []struct {
		name    string
		r       *trust.Report
		version string
	}{{"corpus", r, "1.2.3"}, {"empty", &trust.Report{}, ""}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tc.r.WriteSARIF(&b, tc.version); err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("SARIF does not validate: %v", err)
			}
		})
	}
	t.Run("schema rejects broken logs", func(t *testing.T) {
		t.Parallel()
		// Guards against a schema that accepts anything.
		for _, bad := range []string{
			`{"version": "2.1.0"}`,
			`{"version": "2.0.0", "runs": []}`,
			`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "critical"}]}]}`,
			`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "r", "helpUri": "docs/checks/r.md"}]}}}]}`,
		} {
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
			if err != nil {
				t.Fatal(err)
			}
			if sch.Validate(inst) == nil {
				t.Errorf("schema accepted %s", bad)
			}
		}
	})
}
