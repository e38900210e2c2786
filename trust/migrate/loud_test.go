package migrate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestScanNothingToRead: a scan that reads no workflow is an error naming
// what it looked for, never "no long-lived cloud credentials found".
func TestScanNothingToRead(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	file := filepath.Join(base, "file")
	empty := filepath.Join(base, "empty")
	noYAML := filepath.Join(base, "noyaml")
	for _, d := range []string{empty, filepath.Join(noYAML, ".github", "workflows")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(noYAML, ".github", "workflows", "README.md"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, want string
		noWorkflows     bool
	}{
		{"missing", filepath.Join(base, "nonexistent"), "scanning for workflows: stat " + filepath.Join(base, "nonexistent") + ": no such file or directory", false},
		{"file", file, file + " is not a directory", false},
		{"no workflows dir", empty, empty + " has no " + filepath.Join(".github", "workflows") + " directory", true},
		{"no workflow files", noYAML, filepath.Join(noYAML, ".github", "workflows") + " has no *.yml or *.yaml file", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Scan(tc.dir, testOpts)
			if err == nil {
				t.Fatalf("no error, report %+v", r)
			}
			if !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrNoWorkflows) != tc.noWorkflows {
				t.Errorf("error %q, want it to contain %q (ErrNoWorkflows %v)", err, tc.want, tc.noWorkflows)
			}
		})
	}
}

// scanApply scans testdata/<name>.in.yml and applies --write.
func scanApply(t *testing.T, name string) (scanned, left *Report) {
	t.Helper()
	dir, _ := stage(t, name)
	r, err := Scan(dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	left, err = r.Apply()
	if err != nil {
		t.Fatal(err)
	}
	return r, left
}

// allFormats returns r as a table, JSON and SARIF.
func allFormats(t *testing.T, r *Report) []string {
	t.Helper()
	var tb, jb, sb bytes.Buffer
	for _, err := range []error{r.WriteTable(&tb), r.WriteJSON(&jb), r.WriteSARIF(&sb, "")} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return []string{tb.String(), jb.String(), sb.String()}
}

// stageFiles writes files (name → content) into a fresh
// .github/workflows.
func stageFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(wf, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestScanInvalidWorkflow: a file that is not a workflow is a finding with
// its name and, where the parser gives one, its position.
func TestScanInvalidWorkflow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, msg string
		line           int
	}{
		{"syntax", "on: push\njobs:\n  a:\n    steps: [\n", "not valid YAML: ", 4},
		{"two documents", "on: push\n---\non: pull_request\n", "not a workflow: 2 YAML documents, want one", 0},
		{"empty", "", "not a workflow: the file is empty", 0},
		{"sequence", "- on: push\n", "not a workflow: the document is not a mapping", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := stageFiles(t, map[string]string{"bad.yml": tc.src, "good.yml": "on: push\njobs: {}\n"})
			r, err := Scan(dir, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Findings) != 1 {
				t.Fatalf("findings %+v, want one", r.Findings)
			}
			f := r.Findings[0]
			if f.Rule != RuleWorkflowInvalid || f.File != ".github/workflows/bad.yml" || !strings.HasPrefix(f.Message, tc.msg) ||
				!strings.HasSuffix(f.Message, "; the file was not scanned") || f.Line != tc.line || f.Severity.String() != "medium" {
				t.Errorf("finding %+v", f)
			}
			for _, out := range allFormats(t, r) {
				if !strings.Contains(out, "bad.yml") || !strings.Contains(out, RuleWorkflowInvalid) {
					t.Errorf("output does not name the file and rule:\n%s", out)
				}
			}
		})
	}
}

// TestScanCRLF: a workflow with CRLF line ends is YAML like any other and
// gives the findings and jobs of its LF form.
func TestScanCRLF(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"step_keys", "workflow_env", "existing_permissions", "environment", "report_only", "gcp_auth", "gcp_aws", "gcp_unmappable"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(filepath.Join("testdata", name+".in.yml"))
			if err != nil {
				t.Fatal(err)
			}
			lf, err := Scan(stageFiles(t, map[string]string{"w.yml": string(src)}), testOpts)
			if err != nil {
				t.Fatal(err)
			}
			crlf, err := Scan(stageFiles(t, map[string]string{"w.yml": strings.ReplaceAll(string(src), "\n", "\r\n")}), testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if len(lf.Findings) == 0 {
				t.Fatal("no findings")
			}
			if !slices.EqualFunc(lf.Findings, crlf.Findings, func(a, b Finding) bool {
				return a.Rule == b.Rule && a.Line == b.Line && a.Job == b.Job && slices.Equal(a.Secrets, b.Secrets)
			}) {
				t.Errorf("LF findings %+v\nCRLF findings %+v", lf.Findings, crlf.Findings)
			}
			if len(lf.Jobs) != len(crlf.Jobs) {
				t.Errorf("jobs: LF %d, CRLF %d", len(lf.Jobs), len(crlf.Jobs))
			}
		})
	}
}

// TestRefusalsReported: every job --write leaves alone is a finding with
// its reason in all three formats, before and after Apply.
func TestRefusalsReported(t *testing.T) {
	t.Parallel()
	r, left := scanApply(t, "report_only")
	if left.Diff != "" {
		t.Errorf("diff %q", left.Diff)
	}
	reason := "--write leaves job script (aws) as it is: secrets are interpolated into a run: script; rewrite it by hand"
	for _, rep := range []*Report{r, left} {
		for _, out := range allFormats(t, rep) {
			if !strings.Contains(out, reason) {
				t.Errorf("output lacks the refusal:\n%s", out)
			}
		}
		var refused []string
		for _, f := range rep.Findings {
			if f.Rule == RuleRewriteRefused {
				refused = append(refused, f.Job)
			}
		}
		var jobs []string
		for _, j := range rep.Jobs {
			if !j.Rewritable {
				jobs = append(jobs, j.Job)
			}
		}
		if !slices.Equal(refused, jobs) || len(jobs) != 3 {
			t.Errorf("refusal findings for %q, refused jobs %q", refused, jobs)
		}
	}
}

// TestApply: after --write, the report holds the diff and only what is
// left; a rewritten job and its findings are gone from the scan, but the
// job is listed as done, with its warnings and the trust configuration
// it needs before the next run.
func TestApply(t *testing.T) {
	t.Parallel()
	_, left := scanApply(t, "step_keys")
	if !strings.Contains(left.Diff, "\n+") || !strings.Contains(left.Diff, "oidc-exchange/oidc-exchange@v1") || len(left.Findings) != 0 || len(left.Jobs) != 0 {
		t.Errorf("diff %q, findings %+v", left.Diff, left.Findings)
	}
	if len(left.Rewritten) != 1 || left.Rewritten[0].Job != "deploy" || len(left.Rewritten[0].Warnings) == 0 {
		t.Fatalf("rewritten %+v, want the deploy job with its warnings", left.Rewritten)
	}
	var b bytes.Buffer
	if err := left.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"no long-lived cloud credentials left", "done", "warning: .github/workflows/step_keys.yml job deploy:", "== plan-1: aws trust admitting", "token.actions.githubusercontent.com:sub"} {
		if !strings.HasPrefix(out, left.Diff) || !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := left.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"rewritten"`) {
		t.Errorf("JSON has no rewritten jobs:\n%s", b.String())
	}
}

// TestPlansOnce: jobs that need the same trust configuration share it, and
// the table prints it once.
func TestPlansOnce(t *testing.T) {
	t.Parallel()
	job := func(id string) string {
		return "  " + id + ":\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.K }}\n          aws-secret-access-key: ${{ secrets.S }}\n          aws-region: eu-west-1\n"
	}
	src := "on: push\njobs:\n" + job("a") + job("b") + job("c") + job("d")
	r, err := Scan(stageFiles(t, map[string]string{"w.yml": src}), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "## IAM role trust policy"); n != 1 {
		t.Errorf("trust policy printed %d times", n)
	}
	if n := strings.Count(out, "\n"); n > 80 {
		t.Errorf("a 4-job report has %d lines:\n%s", n, out)
	}
	for _, j := range r.Jobs {
		if j.PlanID != "plan-1" {
			t.Errorf("job %s plan %q", j.Job, j.PlanID)
		}
	}
}

// TestSARIFValid: the log validates against the SARIF 2.1.0 schema, with
// format assertions, so helpUri is absolute.
func TestSARIFValid(t *testing.T) {
	t.Parallel()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(filepath.Join("..", "testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := stageFiles(t, map[string]string{"bad.yml": "on: [\n", "dir with space #1.yml": "on: push\njobs:\n  a:\n    runs-on: x\n    env:\n      AWS_ACCESS_KEY_ID: ${{ secrets.K }}\n    steps:\n      - run: make\n"})
	for _, name := range []string{"report_only", "step_keys", "gcp_unmappable"} {
		src, err := os.ReadFile(filepath.Join("testdata", name+".in.yml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".github", "workflows", name+".yml"), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Scan(dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteSARIF(&b, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("SARIF does not validate: %v", err)
	}
	if !strings.Contains(b.String(), `"helpUri": "https://github.com/oidc-exchange/oidc-exchange/blob/main/docs/checks/migrate-aws-static-keys.md"`) {
		t.Error("no absolute helpUri")
	}
}

// TestRewriteCRLF: a CRLF file gets the rewrite of the same file with LF,
// with CRLF line endings, new lines included. The parser's positions go
// wrong in CRLF text (after a comment, for one), which once refused such
// files ("cannot place the new step", "cannot locate uses:"); every input
// and a short file of that shape are checked.
func TestRewriteCRLF(t *testing.T) {
	t.Parallel()
	ins := inputs(t)
	ins["comment"] = []byte("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make   # build\n      # Deploy.\n      - name: Deploy\n        run: ./deploy.sh\n        env:\n          AWS_ACCESS_KEY_ID: ${{ secrets.K }}\n          AWS_SECRET_ACCESS_KEY: ${{ secrets.S }}\n")
	for name, src := range ins {
		if bytes.Contains(src, []byte("\r")) {
			continue
		}
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			crlf := bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))
			a, b := analyze("w.yml", src, testOpts), analyze("w.yml", crlf, testOpts)
			if a.safe != b.safe || b.result != strings.ReplaceAll(a.result, "\n", "\r\n") {
				t.Fatalf("LF safe %v, CRLF safe %v; CRLF result:\n%q", a.safe, b.safe, b.result)
			}
			for i := range a.jobs {
				if a.jobs[i].Rewritable != b.jobs[i].Rewritable || a.jobs[i].Reason != b.jobs[i].Reason {
					t.Errorf("job %s: LF %v %q, CRLF %v %q", a.jobs[i].Job, a.jobs[i].Rewritable, a.jobs[i].Reason, b.jobs[i].Rewritable, b.jobs[i].Reason)
				}
			}
			if b.safe {
				checkPreserved(t, crlf, []byte(b.result), b.applied)
			}
		})
	}
}
