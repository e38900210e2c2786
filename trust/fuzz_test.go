package trust

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFiles adds every testdata document matching pattern to the corpus.
func seedFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files for %s: %v", pattern, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkFindings fails unless every finding is well-formed: a known check,
// a real severity no higher than the check's, text, a JSON path and a
// position inside the input; and, with write set, unless all three writers
// accept them.
func checkFindings(t *testing.T, data []byte, fs []Finding, write bool) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, f := range fs {
		c, ok := lookupCheck(f.Check)
		switch {
		case !ok:
			t.Errorf("unknown check %q", f.Check)
		case f.Severity < Info || f.Severity > c.Severity:
			t.Errorf("%s: severity %v outside info..%v", f.Check, f.Severity, c.Severity)
		case f.File != "fuzz.json":
			t.Errorf("%s: file %q", f.Check, f.File)
		case f.Message == "" || f.Fix == "":
			t.Errorf("%s: empty message or fix: %+v", f.Check, f)
		case !strings.HasPrefix(f.Path, "$"):
			t.Errorf("%s: path %q", f.Check, f.Path)
		case f.Line < 1 || f.Line > lines || f.Column < 1:
			t.Errorf("%s: position %d:%d outside %d lines", f.Check, f.Line, f.Column, lines)
		}
	}
	if !write {
		return
	}
	r := &Report{Findings: fs}
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Error(err)
	}
	if err := r.WriteJSON(&b); err != nil {
		t.Error(err)
	}
	if err := r.WriteSARIF(&b, "fuzz"); err != nil {
		t.Error(err)
	}
}

// lintFuzz runs LintFile and checks its contract: findings or an error,
// never both, and well-formed findings.
func lintFuzz(t *testing.T, data []byte) {
	t.Helper()
	for i, opts := range []Options{DefaultOptions(), {Audience: "x"}} {
		fs, err := LintFile("fuzz.json", data, opts)
		if err != nil {
			if fs != nil {
				t.Fatalf("findings and an error: %v", err)
			}
			return
		}
		checkFindings(t, data, fs, i == 0)
	}
}

// FuzzParseDocument: the raw scanner never panics, agrees with
// encoding/json on validity, and reports duplicates at real keys.
func FuzzParseDocument(f *testing.F) {
	seedFiles(f, "testdata/*/*.json")
	seedFiles(f, "testdata/checks/*/*.json")
	for _, s := range []string{`{"a":1,"a":2}`, `[{"a":{"b":1,"b":2}},{"a":1}]`, `{"\u0061":1,"a":2}`, `"x"`, `1e9`, `[[[[]]]]`, `{"a":}`, "{\"ä\":\n\"ü\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseDocument(data, "$")
		if valid := json.Valid(data); (err == nil) != valid {
			// Only nesting beyond maxDepth may make the scanner stricter.
			if !(valid && err != nil && strings.Contains(err.Error(), errDepth.Error())) {
				t.Fatalf("parseDocument err = %v, json.Valid = %v", err, valid)
			}
		}
		if err != nil {
			return
		}
		for _, dup := range d.dups {
			if !strings.HasPrefix(dup.path, "$") || dup.off <= dup.firstOff || dup.off >= len(data) || data[dup.off] != '"' || data[dup.firstOff] != '"' {
				t.Fatalf("bad duplicate %+v in %q", dup, data)
			}
		}
		var walk func(n *node)
		walk = func(n *node) {
			if n.off < 0 || n.off >= len(data) {
				t.Fatalf("node %s at offset %d outside %d bytes", n.path, n.off, len(data))
			}
			for _, m := range n.members {
				if data[m.keyOff] != '"' {
					t.Fatalf("key %q offset %d does not point at a quote", m.key, m.keyOff)
				}
				walk(m.val)
			}
			for _, it := range n.items {
				walk(it)
			}
		}
		walk(d.root)
	})
}

// FuzzLintFile: whole documents of every format.
func FuzzLintFile(f *testing.F) {
	seedFiles(f, "testdata/real/*.json")
	seedFiles(f, "testdata/errors/*.json")
	seedFiles(f, "testdata/checks/*/*.json")
	f.Fuzz(lintFuzz)
}

// FuzzAWSCondition: the Condition block of a GitHub trust statement.
func FuzzAWSCondition(f *testing.F) {
	const head = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":`
	for _, s := range []string{
		`{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:o/r:ref:refs/heads/main"}}`,
		`{"StringLike":{"token.actions.githubusercontent.com:sub":["repo:o/*","repo:*"]},"ForAllValues:StringNotLikeIfExists":{"token.actions.githubusercontent.com/x:aud":"*"}}`,
		`{"StringEquals":{"token.actions.githubusercontent.com:job_workflow_ref":"o/w/.github/workflows/x.yml@*","token.actions.githubusercontent.com:sub":"repository_id:1:job_workflow_ref:x@y"}}`,
		`{"StringEquals":{},"StringEquals":{"a:b":1}}`,
		`null`, `[]`, `"x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cond string) {
		lintFuzz(t, []byte(head+cond+"}]}"))
	})
}

// FuzzGCPCondition: attribute conditions, through the CEL reader and
// LintFile.
func FuzzGCPCondition(f *testing.F) {
	for _, s := range []string{
		"assertion.repository_owner_id == '123456' && assertion.repository_id in ['1', '2']",
		"!(assertion.sub != '') || attribute.x.startsWith(\"repo:o/\")",
		"assertion['repository'].matches('^o/.*') && (true || 1 == 1)",
		"assertion.job_workflow_ref == 'o/w/.github/workflows/x.yml@refs/heads/dev'",
		"((((", "'unterminated", "a ? b : c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cond string) {
		if e, err := parseCEL(cond, map[string]string{"attribute.x": "assertion.sub"}, loc{}); err == nil {
			if alts, err := e.disjuncts(); err == nil {
				_ = judge(alts)
			}
		}
		doc, err := json.Marshal(map[string]any{
			"name":               "projects/1/locations/global/workloadIdentityPools/p/providers/x",
			"oidc":               map[string]any{"issuerUri": "https://token.actions.githubusercontent.com"},
			"attributeMapping":   map[string]string{"google.subject": "assertion.sub"},
			"attributeCondition": cond,
		})
		if err != nil {
			t.Fatal(err)
		}
		lintFuzz(t, doc)
	})
}

// FuzzAzureExpression: flexible credential expressions and classic
// subjects.
func FuzzAzureExpression(f *testing.F) {
	for _, s := range []string{
		"claims['sub'] matches 'repo:o/r:*'",
		"claims['sub'] eq 'repo:o@1/r@2:environment:prod' and claims['job_workflow_ref'] matches 'o/w/*'",
		"(claims['sub'] eq 'a' or not claims['ref'] eq 'it''s')",
		"repo:o/r:pull_request", "claims[", "''''",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, _, err := parseAzureExpression(s, loc{}); err == nil {
			if alts, err := e.disjuncts(); err == nil {
				_ = judge(alts)
			}
		}
		for _, c := range []map[string]any{
			{"issuer": "https://token.actions.githubusercontent.com", "audiences": []string{"api://AzureADTokenExchange"}, "subject": s},
			{"issuer": "https://token.actions.githubusercontent.com", "audiences": []string{s}, "claimsMatchingExpression": map[string]any{"languageVersion": 1, "value": s}},
		} {
			doc, err := json.Marshal([]any{c})
			if err != nil {
				t.Fatal(err)
			}
			lintFuzz(t, doc)
		}
	})
}

// FuzzClassifySubject: subjects and job_workflow_ref values.
func FuzzClassifySubject(f *testing.F) {
	for _, s := range []string{"repo:o/r:*", "repo:o@1/r@2:environment:x", "repository_owner_id:1:*", "repo:", "*:*", "repo:o/r:job_workflow_ref:x@*"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, glob bool) {
		info := classifySubject(s, glob)
		if info.scope < scopeExact || info.scope > scopeAnyRepo {
			t.Fatalf("scope %d", info.scope)
		}
		if info.byID && info.named {
			t.Fatalf("both byID and named: %+v", info)
		}
		for _, wf := range info.workflowRefs {
			if sev, why := workflowRefProblem(wf, glob); sev != 0 && why == "" {
				t.Fatalf("severity %v without a reason for %q", sev, wf)
			}
		}
	})
}

// lookupCheck returns the catalogue entry for id.
func lookupCheck(id string) (Check, bool) {
	for _, c := range Checks() {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// FuzzPlaceholders: the placeholder scanner finds substrings of its input,
// in order and without overlap, and templated principals and binding
// members keep LintFile's contract.
func FuzzPlaceholders(f *testing.F) {
	for _, s := range []string{
		"${oidc_arn}", "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com",
		"principalSet://iam.googleapis.com/${WORKLOAD_IDENTITY_POOL_ID}/attribute.repository/${REPO}",
		"{{ .Values.arn }}", "<ACCOUNT_ID>", "${aws:username}", "a${$}{b}", "${", "{{", "<", "<${x}>", "${{x}}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rest := s
		for _, p := range placeholders(s) {
			i := strings.Index(rest, p)
			if i < 0 || !(strings.HasPrefix(p, "${") || strings.HasPrefix(p, "{{") || strings.HasPrefix(p, "<")) {
				t.Fatalf("placeholders(%q): %q is not a later substring", s, p)
			}
			rest = rest[i+len(p):]
		}
		for _, doc := range []any{
			map[string]any{"Statement": map[string]any{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
				"Principal": map[string]any{"Federated": s},
				"Condition": map[string]any{"StringLike": map[string]any{"token.actions.githubusercontent.com:sub": s}}}},
			map[string]any{"bindings": []any{map[string]any{"role": "r", "members": []string{s}}}},
		} {
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			lintFuzz(t, data)
		}
	})
}
