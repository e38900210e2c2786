package migrate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/parser"

	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testOpts = Options{Repository: "octo-org/octo-repo", RepositoryID: "123456", OwnerID: "654321", DefaultBranch: "main"}

// stage copies testdata/<name>.in.yml into a fresh repository tree.
func stage(t *testing.T, name string) (dir string, src []byte) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name+".in.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wf, name+".yml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, src
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		jobs     int
		changed  bool
		contains []string
	}{
		{"step_keys", 1, true, []string{"uses: oidc-exchange/oidc-exchange@v1", "role-to-assume: arn:aws:iam::111122223333:role/github-octo-repo", "id-token: write", "contents: read"}},
		{"workflow_env", 2, true, []string{"AWS_REGION: us-east-2", "aws-region: us-east-2"}},
		{"existing_permissions", 1, true, []string{"packages: write", "id-token: write"}},
		{"environment", 1, true, []string{"STAGE: prod", "role-to-assume:"}},
		{"report_only", 3, false, nil},
		{"gcp_auth", 2, true, []string{
			"uses: oidc-exchange/oidc-exchange@v1   # pinned to v2",
			"          # The JSON key.\n          provider: gcp\n          workload-identity-provider: projects/123456789/locations/global/workloadIdentityPools/github/providers/github\n          service-account: deployer@my-project.iam.gserviceaccount.com\n          project-id: ${{ vars.GCP_PROJECT }}   # from repository variables\n          token-format: 'access_token'\n          access-token-lifetime: 600s\n",
			"token: ${{ steps.auth.outputs.access-token }}",
			"if: steps.auth.outputs.access-token != '' && steps.auth.outcome == 'success'",
			`TOKEN: "${{ steps.auth.outputs.access-token }}"   # masked`,
			"CREDS: ${{ steps.auth.outputs.credentials-file-path }}",
			"format('steps.auth.outputs.id_token={0}', steps.auth.outputs.id-token)",
			"echo 'steps.auth.outputs.project_id'",
			"projects/${{ steps.auth.outputs.project-id }}/locations",
			"project_id: ${{ steps.auth.outputs.project-id }}   # project from auth",
			"      contents: read\n      id-token: write\n",
			"provider: gcp\n          workload-identity-provider: ${{ vars.WIF_PROVIDER }}\n          service-account: ci@my-project.iam.gserviceaccount.com\n",
		}},
		{"gcp_aws", 2, true, []string{
			`uses: "oidc-exchange/oidc-exchange@v1"`,
			"role-to-assume: arn:aws:iam::111122223333:role/github-octo-repo",
			"provider: gcp\n          workload-identity-provider: projects/123456789/locations/global/workloadIdentityPools/github/providers/github\n          service-account: deployer@my-project.iam.gserviceaccount.com\n          create-credentials-file: true\n          # Service-account key, rotated by hand.\n          export-environment-variables: true\n          universe: googleapis.com\n          audience: //iam.googleapis.com/my-audience\n",
			`./release.sh "${{ steps.gcp.outputs.credentials-file-path }}"`,
		}},
		{"gcp_unmappable", 2, false, nil},
		// CRLF stays CRLF, new lines too; the blank last line stays.
		{"crlf", 1, true, []string{"    permissions:\r\n      contents: read\r\n      id-token: write\r\n", "      - uses: oidc-exchange/oidc-exchange@v1\r\n        with:\r\n          role-to-assume: arn:aws:iam::111122223333:role/github-octo-repo\r\n          aws-region: eu-central-1\r\n      - name: Sync\r\n", "eu-central-1\r\n\r\n"}},
		// Flow sequences and multi-line scalars stay, also in the job not
		// rewritten; the matrix over OSes gets the native action, the
		// new step the step's multi-line if: and continue-on-error.
		{"flow_multiline", 1, true, []string{
			"branches: [ main, 'release/*' ]\n",
			"    if: github.event_name == 'push'\n      && !contains(",
			"      - uses: oidc-exchange/oidc-exchange/native@v1\n        if: github.event_name == 'push' &&\n          startsWith(github.ref, 'refs/tags/')\n        continue-on-error: true\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/github-octo-repo\n          aws-region: us-east-1\n      - name: Upload\n",
			"    permissions:\n      contents: read\n      actions: write\n      pull-requests: read\n      id-token: write\n",
			"          aws-region: us-east-1\n      - run: aws s3 ls\n\n\n",
		}},
		{"endpoint", 1, false, nil},
		{"pull_request_target", 1, true, []string{"permissions:\n      id-token: write\n", "aws-region: ${{ vars.PREVIEW_REGION }}\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, src := stage(t, tc.name)
			r, err := Scan(dir, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Jobs) != tc.jobs {
				t.Errorf("jobs = %d, want %d", len(r.Jobs), tc.jobs)
			}
			diff, err := r.Write(dir)
			if err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(filepath.Join(dir, ".github", "workflows", tc.name+".yml"))
			if err != nil {
				t.Fatal(err)
			}
			if changed := string(out) != string(src); changed != tc.changed {
				t.Fatalf("changed = %v, want %v\n%s", changed, tc.changed, diff)
			}
			if !tc.changed {
				if diff != "" {
					t.Errorf("diff for unchanged file:\n%s", diff)
				}
				return
			}
			for _, s := range tc.contains {
				if !strings.Contains(string(out), s) {
					t.Errorf("output lacks %q", s)
				}
			}
			for _, s := range []string{"aws-access-key-id", "aws-secret-access-key", "configure-aws-credentials", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "credentials_json", "google-github-actions/auth", "secrets."} {
				if strings.Contains(string(out), s) {
					t.Errorf("output still holds %q", s)
				}
			}
			checkMigrated(t, out)
			checkPreserved(t, src, out, analyze(tc.name+".yml", src, testOpts).applied)
			exchangetest.Golden(t, tc.name+".out.yml", string(out), *update)
			exchangetest.Golden(t, tc.name+".diff", diff, *update)
			// The result is still a workflow with no static keys.
			r2, err := Scan(dir, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r2.Findings {
				if f.Rule == RuleAWSStaticKeys || f.Rule == RuleGCPCredentialsKey {
					t.Errorf("after Write: %+v", f)
				}
			}
			// Idempotent.
			d2, err := r2.Write(dir)
			if err != nil || d2 != "" {
				t.Errorf("second Write: %q, %v", d2, err)
			}
		})
	}
}

// TestWritePreservesComments checks that every comment line of the input
// survives the rewrite.
func TestWritePreservesComments(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"step_keys", "workflow_env", "existing_permissions", "environment", "gcp_auth", "gcp_aws"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir, src := stage(t, name)
			r, err := Scan(dir, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Write(dir); err != nil {
				t.Fatal(err)
			}
			out, _ := os.ReadFile(filepath.Join(dir, ".github", "workflows", name+".yml"))
			for l := range strings.Lines(string(src)) {
				if strings.HasPrefix(strings.TrimSpace(l), "#") && !strings.Contains(string(out), l) {
					t.Errorf("comment line lost: %q", l)
				}
				if _, c, ok := strings.Cut(l, " # "); ok && !strings.Contains(string(out), "# "+c) {
					t.Errorf("line comment lost: %q", c)
				}
			}
		})
	}
}

func TestReportGolden(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := filepath.Join(dir, ".github", "workflows")
	if err := os.MkdirAll(wf, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"step_keys", "environment", "report_only"} {
		src, err := os.ReadFile(filepath.Join("testdata", name+".in.yml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(wf, name+".yml"), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Scan(dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden string
		write  func(*bytes.Buffer) error
	}{
		{"report.txt", func(b *bytes.Buffer) error { return r.WriteTable(b) }},
		{"report.json", func(b *bytes.Buffer) error { return r.WriteJSON(b) }},
		{"report.sarif", func(b *bytes.Buffer) error { return r.WriteSARIF(b, "test") }},
	} {
		var b bytes.Buffer
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		exchangetest.Golden(t, tc.golden, b.String(), *update)
	}
	byJob := map[string]*Job{}
	for _, j := range r.Jobs {
		byJob[j.Job+"/"+string(j.Cloud)] = j
	}
	for _, tc := range []struct {
		key, ref, env string
		rewritable    bool
	}{
		{"deploy/aws", "refs/heads/main", "", true},
		{"prod/aws", "refs/heads/main", "production", true},
		{"gcp/gcp", "refs/heads/main", "staging", false},
		{"gcp/azure", "refs/heads/main", "staging", false},
		{"script/aws", "refs/heads/main", "", false},
	} {
		j := byJob[tc.key]
		if j == nil {
			t.Errorf("no job %s", tc.key)
			continue
		}
		if j.Ref != tc.ref || j.Environment != tc.env || j.Rewritable != tc.rewritable || j.Plan == nil {
			t.Errorf("%s: ref %q env %q rewritable %v plan %v (%s)", tc.key, j.Ref, j.Environment, j.Rewritable, j.Plan != nil, j.PlanError)
		}
	}
}

func TestSARIF(t *testing.T) {
	t.Parallel()
	dir, _ := stage(t, "report_only")
	r, err := Scan(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteSARIF(&b, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Version string `json:"version"`
					Rules   []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Version != "1.2.3" {
		t.Fatalf("bad log header: %s", b.String())
	}
	run := log.Runs[0]
	want := map[string]int{ // rule → line
		RuleGCPCredentialsKey: 7,
		RuleAzureCreds:        10,
		RuleVaultToken:        13,
		RuleDeployToken:       17,
		RuleAWSStaticKeys:     23,
		RuleSecretInScript:    27,
	}
	got := map[string]int{}
	levels := map[string]string{RuleDeployToken: "warning", RuleRewriteRefused: "note"}
	for _, res := range run.Results {
		if want := cmpOr(levels[res.RuleID], "error"); res.Level != want {
			t.Errorf("%s level %q, want %q", res.RuleID, res.Level, want)
		}
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("%s: ruleIndex %d names %s", res.RuleID, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
		}
		l := res.Locations[0].PhysicalLocation
		if l.ArtifactLocation.URI != ".github/workflows/report_only.yml" {
			t.Errorf("uri %q", l.ArtifactLocation.URI)
		}
		got[res.RuleID] = l.Region.StartLine
	}
	for rule, line := range want {
		if got[rule] != line {
			t.Errorf("%s at line %d, want %d", rule, got[rule], line)
		}
	}
}

// TestRewriteSafety covers rewrites that once wrote broken workflows: a
// "-   key" item layout (the printer writes "- key"), and a job whose
// permissions could not be extended after its step was rewritten.
func TestRewriteSafety(t *testing.T) {
	t.Parallel()
	wide := "on: push\njobs:\n    deploy:\n        runs-on: x\n        steps:\n            -   uses: aws-actions/configure-aws-credentials@v4   # c\n                with:\n                    aws-access-key-id: ${{ secrets.K }}\n                    aws-region: eu-west-1\n            -   run: make\n"
	out, ok := rewrite("w.yml", []byte(wide), Options{})
	want := "            -   uses: oidc-exchange/oidc-exchange@v1   # c\n                with:\n                    role-to-assume: arn:aws:iam::111122223333:role/github-deploy\n                    aws-region: eu-west-1\n            -   run: make\n"
	if !ok || !strings.HasSuffix(out, want) {
		t.Errorf("wide items: ok %v\n%s", ok, out)
	}
	checkMigrated(t, []byte(out))

	// A comment line the printer indents differently does not move the
	// printed lines below it (testdata/fuzz/FuzzScan/de42049102df8240).
	comment := "on: push\njobs:\n  y:\n    runs-on: x\n    steps:\n      - name: Configure AWS\n      # Old keys.\n        uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.A }}\n"
	out, ok = rewrite("w.yml", []byte(comment), Options{})
	if !ok || !strings.HasSuffix(out, "      # Old keys.\n        uses: oidc-exchange/oidc-exchange@v1\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/github-deploy\n          aws-region: REPLACE-WITH-AWS-REGION\n") {
		t.Errorf("comment above a rewritten line: ok %v\n%s", ok, out)
	}

	half := "on: push\njobs:\n  a:\n    runs-on: x\n    permissions: read-all\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.K }}\n  b:\n    runs-on: x\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.K }}\n"
	a := analyze("w.yml", []byte(half), Options{})
	if len(a.jobs) != 2 || a.jobs[0].Rewritable || a.jobs[0].Reason != "permissions: read-all has no id-token: write; set permissions by hand" ||
		a.jobs[1].Rewritable || a.jobs[1].Reason != "job a (aws) in this workflow cannot be rewritten safely; the file is left untouched" {
		t.Errorf("read-all permissions: %+v %+v", a.jobs[0], a.jobs[1])
	}
	if out, ok := rewrite("w.yml", []byte(half), Options{}); ok {
		t.Errorf("read-all permissions rewritten:\n%s", out)
	}
}

func TestRefFromOn(t *testing.T) {
	t.Parallel()
	// Without --default-branch only the workflow's own push branches name
	// the ref: a guess admitted main in a master repository.
	for _, tc := range []struct{ on, def, want string }{
		{"on: push", "", ""},
		{"on: push", "master", "refs/heads/master"},
		{"on: [workflow_dispatch]", "", ""},
		{"on: [workflow_dispatch]", "trunk", "refs/heads/trunk"},
		{"on:\n  push:\n    branches: [dev, main]", "", "refs/heads/dev"},
		{"on:\n  push:\n    branches: [ master ]", "main", "refs/heads/master"},
		{"on:\n  push:\n    branches: ['**']", "", ""},
		{"on:\n  push:\n    tags: ['v*']", "", "refs/tags/v*"},
		{"on:\n  release: {}\n  push:\n    branches:\n      - 'release/*'", "", "refs/heads/release/*"},
	} {
		src := tc.on + "\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.K }}\n"
		a := analyze("w.yml", []byte(src), Options{DefaultBranch: tc.def})
		if len(a.jobs) != 1 || a.jobs[0].Ref != tc.want {
			t.Errorf("%q: jobs %d, ref %v, want %s", tc.on, len(a.jobs), a.jobs, tc.want)
		}
	}
}

func TestUnifiedDiff(t *testing.T) {
	t.Parallel()
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	b := "1\n2\n3\n4\nx\n6\n7\n8\n9\n10\n11\n"
	want := "--- a\n+++ b\n@@ -2,9 +2,10 @@\n 2\n 3\n 4\n-5\n+x\n 6\n 7\n 8\n 9\n 10\n+11\n"
	if got := unifiedDiff("a", "b", a, b); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := unifiedDiff("a", "b", a, a); got != "--- a\n+++ b\n" {
		t.Errorf("no-change diff %q", got)
	}
}

func FuzzScan(f *testing.F) {
	for _, src := range inputs(f) {
		f.Add(src)
	}
	f.Add([]byte("on: [\njobs: &a *a"))
	// A reusable workflow, CRLF on some lines, without a final line
	// ending.
	f.Add([]byte("on:\r\n  workflow_call:\njobs:\n  a:\r\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\r\n        env:\n          AWS_ACCESS_KEY_ID: ${{ secrets.K }}\r\n          AWS_SECRET_ACCESS_KEY: ${{ secrets.S }}"))
	f.Fuzz(func(t *testing.T, src []byte) {
		a := analyze("w.yml", src, testOpts)
		for _, j := range a.jobs {
			buildPlan(j, testOpts)
		}
		out, ok := rewrite("w.yml", src, testOpts)
		if !ok {
			return
		}
		// What is written parses, every line outside the edits (of a,
		// which rewrite made again) is kept byte for byte, and no GCP key
		// is left. (Seed de42049102df8240 once made a comment line shift
		// the lines below it; TestRewriteSafety has it readable.)
		checkPreserved(t, src, []byte(out), a.applied)
		if b := analyze("w.yml", []byte(out), testOpts); len(b.gcp) > 0 {
			t.Fatalf("GCP jobs left after rewrite:\n%s", out)
		}
		if bytes.Contains(src, []byte("\r")) {
			return
		}
		// The same file with mixed line endings gets the same rewrite,
		// each line with its own ending.
		mixed := mixedEndings(src)
		m, ok := rewrite("w.yml", mixed, testOpts)
		if !ok || strings.ReplaceAll(m, "\r\n", "\n") != out {
			t.Fatalf("with mixed line endings: rewritten %v\n%q\nwant, without CRs,\n%q", ok, m, out)
		}
		checkPreserved(t, mixed, []byte(m), analyze("w.yml", mixed, testOpts).applied)
		checkEndings(t, mixed, []byte(m))
	})
}

// inputs returns every testdata workflow and the fuzz corpus's inputs.
func inputs(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	names, err := filepath.Glob(filepath.Join("testdata", "*.in.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		src, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = src
	}
	corpus, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzScan", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range corpus {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		// go test fuzz v1, then []byte("…") on the next line.
		_, lit, ok := strings.Cut(string(b), "[]byte(")
		if !ok {
			t.Fatalf("%s: not a []byte corpus entry", n)
		}
		v, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(lit), ")"))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out[n] = []byte(v)
	}
	return out
}

// checkPreserved is the byte-preservation property: diffing the source
// and the output line by line (line endings included), every removed line
// is one an edit covers and every added line sits at an edit, so no line
// the rewrite did not mean to change differs; and the output parses.
func checkPreserved(t *testing.T, src, out []byte, edits []srcEdit) {
	t.Helper()
	if _, err := parser.ParseBytes(out, 0); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, out)
	}
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	lineOf := func(off int) int {
		i, _ := slices.BinarySearch(starts, off+1)
		return i - 1
	}
	touched, at := map[int]bool{}, map[int]bool{}
	for _, e := range edits {
		if e.from == "" {
			at[lineOf(e.off)] = true
			if e.off == len(src) && e.off > 0 && src[e.off-1] != '\n' {
				// Lines added after a last line without a line ending
				// give it one.
				touched[lineOf(e.off)] = true
			}
			continue
		}
		for l := lineOf(e.off); l <= lineOf(e.off+len(e.from)-1); l++ {
			touched[l] = true
		}
	}
	split := func(b []byte) []string {
		ls := strings.SplitAfter(string(b), "\n")
		if ls[len(ls)-1] == "" {
			ls = ls[:len(ls)-1]
		}
		return ls
	}
	sl, ol := split(src), split(out)
	ops := lcs(sl, ol)
	for i, op := range ops {
		switch op.kind {
		case '-':
			if !touched[op.a] {
				t.Errorf("line %d changed outside the edits: %q", op.a+1, sl[op.a])
			}
		case '+':
			// An added line sits where an edit inserts or replaces; the
			// diff may slide it past equal lines, by at most the run.
			run := 0
			for k := i; k >= 0 && ops[k].kind != ' '; k-- {
				run++
			}
			ok := false
			for l := op.a - run - 1; l <= op.a+run; l++ {
				ok = ok || at[l] || touched[l]
			}
			if !ok {
				t.Errorf("line added outside the edits before source line %d: %q", op.a+1, ol[op.b])
			}
		}
	}
}

// TestBytesPreserved runs the property over every input, rewritten with
// and without the options.
func TestBytesPreserved(t *testing.T) {
	t.Parallel()
	for name, src := range inputs(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			for _, o := range []Options{{}, testOpts} {
				a := analyze("w.yml", src, o)
				if !a.safe {
					continue
				}
				checkPreserved(t, src, []byte(a.result), a.applied)
			}
		})
	}
}

// TestRewriteReasons checks what the report says about the new cases:
// refusals with their reason, and the warnings of rewritten jobs.
func TestRewriteReasons(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, reason string
		warnings     []string
	}{
		{"endpoint", "custom endpoint (AWS_ENDPOINT_URL): S3-compatible storage, not AWS", nil},
		{"pull_request_target", "", []string{"checks out the pull request's code"}},
		{"flow_multiline", "", []string{"input special-characters-workaround has no oidc-exchange equivalent", "input use-existing-credentials has no"}},
		{"crlf", "", []string{"the workflow sets no permissions"}},
		{"step_keys", "", []string{"the workflow sets no permissions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(filepath.Join("testdata", tc.name+".in.yml"))
			if err != nil {
				t.Fatal(err)
			}
			a := analyze(tc.name+".yml", src, testOpts)
			if len(a.jobs) != 1 {
				t.Fatalf("jobs %d", len(a.jobs))
			}
			j := a.jobs[0]
			if j.Rewritable != (tc.reason == "") || !strings.Contains(j.Reason, tc.reason) {
				t.Errorf("rewritable %v, reason %q, want %q", j.Rewritable, j.Reason, tc.reason)
			}
			got := strings.Join(j.Warnings, "\n")
			for _, w := range tc.warnings {
				if !strings.Contains(got, w) {
					t.Errorf("warnings lack %q:\n%s", w, got)
				}
			}
			if len(tc.warnings) == 0 && got != "" {
				t.Errorf("unexpected warnings:\n%s", got)
			}
		})
	}
}

// TestRewritePlacement covers where the new step goes and what it
// carries, the fork warning, and the refusal of steps with different
// conditions.
func TestRewritePlacement(t *testing.T) {
	t.Parallel()
	const head = "on: [push, pull_request]\njobs:\n  a:\n    runs-on: macos-latest\n    permissions:\n      contents: write\n    steps:\n      - uses: actions/checkout@v4\n      - run: make\n"
	const keys = "        env:\n          AWS_ACCESS_KEY_ID: ${{ secrets.K }}\n          AWS_SECRET_ACCESS_KEY: ${{ secrets.S }}\n"
	for _, tc := range []struct {
		name, src, want, reason, warning string
	}{
		{"before the first user, with its if", head + "      # Deploy.\n      - if: github.ref == 'refs/heads/main'\n        run: ./deploy.sh\n" + keys,
			"      - run: make\n      - uses: " + NativeAction + "\n        if: github.ref == 'refs/heads/main'\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/github-octo-repo\n          aws-region: REPLACE-WITH-AWS-REGION\n      # Deploy.\n      - if: github.ref",
			"", "pull requests from forks get no OIDC token"},
		{"different conditions", head + "      - if: a\n        run: x\n" + keys + "      - if: b\n        run: y\n" + keys, "", "different if: conditions", ""},
		{"job env after checkout", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions: write-all\n" + strings.ReplaceAll(keys, "        ", "    ") + "    steps:\n      - uses: actions/checkout@v4\n      - run: make\n",
			"      - uses: actions/checkout@v4\n      - uses: " + Action + "\n        with:\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := analyze("w.yml", []byte(tc.src), testOpts)
			if len(a.jobs) != 1 {
				t.Fatalf("jobs %d", len(a.jobs))
			}
			j := a.jobs[0]
			if tc.reason != "" {
				if j.Rewritable || !strings.Contains(j.Reason, tc.reason) {
					t.Errorf("rewritable %v, reason %q, want %q", j.Rewritable, j.Reason, tc.reason)
				}
				return
			}
			if !a.safe || !strings.Contains(a.result, tc.want) {
				t.Errorf("reason %q, result lacks %q:\n%s", j.Reason, tc.want, a.result)
			}
			if tc.warning != "" && !strings.Contains(strings.Join(j.Warnings, "\n"), tc.warning) {
				t.Errorf("warnings %q lack %q", j.Warnings, tc.warning)
			}
			checkPreserved(t, []byte(tc.src), []byte(a.result), a.applied)
		})
	}
}
