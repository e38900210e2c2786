package migrate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// withCRLF returns lf with CRLF ending the given lines (1-based).
func withCRLF(lf string, lines ...int) string {
	ls := strings.SplitAfter(lf, "\n")
	for _, l := range lines {
		if l >= 1 && l <= len(ls) && strings.HasSuffix(ls[l-1], "\n") {
			ls[l-1] = strings.TrimSuffix(ls[l-1], "\n") + "\r\n"
		}
	}
	return strings.Join(ls, "")
}

// mixedEndings gives src CRLF on lines 5–8, 13–16, …: runs of four lines
// of each ending, so that most lines have neighbours of their own ending
// and a new line with the wrong one shows.
func mixedEndings(src []byte) []byte {
	ls := strings.SplitAfter(string(src), "\n")
	for i, l := range ls {
		if i/4%2 == 1 && strings.HasSuffix(l, "\n") {
			ls[i] = strings.TrimSuffix(l, "\n") + "\r\n"
		}
	}
	return []byte(strings.Join(ls, ""))
}

// lineEnding is the ending of one line as split by strings.SplitAfter.
func lineEnding(l string) string {
	switch {
	case strings.HasSuffix(l, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(l, "\n"):
		return "\n"
	}
	return ""
}

// checkEndings holds the rewrite of a file of mixed line endings to the
// rule of restoreEndings, read from the line diff and independently of
// the edits: a line the rewrite added ends like a line it replaced or a
// source line next to the run of changes it belongs to. (restoreEndings
// is stricter, but a diff may pair an insertion with a removal at the same
// place, or slide it past lines equal to its own.)
func checkEndings(t *testing.T, src, out []byte) {
	t.Helper()
	split := func(b []byte) []string {
		ls := strings.SplitAfter(string(b), "\n")
		if ls[len(ls)-1] == "" {
			ls = ls[:len(ls)-1]
		}
		return ls
	}
	sl, ol := split(src), split(out)
	ops := lcs(sl, ol)
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		k := i
		ok := map[string]bool{}
		added := []int{}
		for ; k < len(ops) && ops[k].kind != ' '; k++ {
			switch ops[k].kind {
			case '-':
				ok[lineEnding(sl[ops[k].a])] = true
			case '+':
				added = append(added, ops[k].b)
			}
		}
		// The source lines just before and after the run; a last line
		// without an ending that the run replaced counts as the one
		// before it.
		if a := ops[i].a; a > 0 {
			ok[lineEnding(sl[a-1])] = true
		}
		if k < len(ops) && ops[k].a < len(sl) {
			ok[lineEnding(sl[ops[k].a])] = true
		}
		if ok[""] && len(sl) > 1 {
			ok[lineEnding(sl[len(sl)-2])] = true
		}
		for _, b := range added {
			if e := lineEnding(ol[b]); e != "" && !ok[e] {
				t.Errorf("added line %d %q ends with %q; the lines around it end with %q", b+1, ol[b], e, keys(ok))
			}
		}
		i = k
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLFText covers the split of a file into its LF text and line
// endings, and which files take that path.
func TestLFText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src, lf string
		ends    []string
		ok      bool
	}{
		{"a\nb\n", "", nil, false},
		{"a\r\nb\r\n", "a\nb\n", []string{"\r\n", "\r\n"}, true},
		{"a\r\nb\nc", "a\nb\nc", []string{"\r\n", "\n", ""}, true},
		{"a\nb\r\n", "a\nb\n", []string{"\n", "\r\n"}, true},
		{"a\r\nb\rc\n", "", nil, false},
		{"a\r", "", nil, false},
		{"\r\n", "\n", []string{"\r\n"}, true},
	} {
		lf, ends, ok := lfText([]byte(tc.src))
		if ok != tc.ok || string(lf) != tc.lf || !cmp.Equal(ends, tc.ends) {
			t.Errorf("lfText(%q) = %q, %q, %v; want %q, %q, %v", tc.src, lf, ends, ok, tc.lf, tc.ends, tc.ok)
		}
	}
}

// TestRewriteMixedEndings: a file of both LF and CRLF lines gets the
// rewrite of its LF text with every untouched byte as it was, and each new
// or changed line ending like the line it replaces, or the line before it.
func TestRewriteMixedEndings(t *testing.T) {
	t.Parallel()
	const steps = "name: deploy\non:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      # Credentials.\n      - name: Configure AWS\n        uses: aws-actions/configure-aws-credentials@v4\n        with:\n          aws-access-key-id: ${{ secrets.K }}\n          aws-secret-access-key: ${{ secrets.S }}\n          aws-region: eu-west-1\n      - run: make deploy\n"
	const env = "on:\n  push:\n    branches: [main]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n    steps:\n      - run: make\n      - run: ./deploy.sh\n        env:\n          AWS_ACCESS_KEY_ID: ${{ secrets.K }}\n          AWS_SECRET_ACCESS_KEY: ${{ secrets.S }}\n          AWS_REGION: eu-west-1\n"
	const gcp = "on:\n  push:\n    branches: [main]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n    steps:\n      - id: auth\n        uses: google-github-actions/auth@v2\n        with:\n          credentials_json: ${{ secrets.GCP_SA_KEY }}\n          project_id: p\n      - run: echo ${{ steps.auth.outputs.project_id }}\n"
	for _, tc := range []struct {
		name string
		src  string
		// want is the result; "" checks the properties only.
		want   string
		reason string
	}{
		{
			// The key line is CRLF: role-to-assume, which replaces it,
			// is too; the job's new permissions follow runs-on's LF.
			name: "replaced line keeps its ending",
			src:  withCRLF(steps, 1, 12, 14, 15),
			want: withCRLF("name: deploy\non:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      id-token: write\n    steps:\n      - uses: actions/checkout@v4\n      # Credentials.\n      - name: Configure AWS\n        uses: oidc-exchange/oidc-exchange@v1\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/github-octo-repo\n          aws-region: eu-west-1\n      - run: make deploy\n", 1, 15, 17),
		},
		{
			// runs-on is CRLF, the rest LF: the permissions block
			// inserted after it is CRLF, nothing else changes ending.
			name: "inserted lines follow the line before",
			src:  withCRLF(steps, 7),
			want: withCRLF("name: deploy\non:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      id-token: write\n    steps:\n      - uses: actions/checkout@v4\n      # Credentials.\n      - name: Configure AWS\n        uses: oidc-exchange/oidc-exchange@v1\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/github-octo-repo\n          aws-region: eu-west-1\n      - run: make deploy\n", 7, 8, 9, 10),
		},
		{
			// Only the first line is CRLF, which once made every new
			// line CRLF.
			name: "first line CRLF",
			src:  withCRLF(steps, 1),
		},
		{
			// The new step goes before the step with the keys; the
			// lines before it are LF, the step and its env CRLF.
			name: "new step between endings",
			src:  withCRLF(env, 11, 12, 13, 14, 15),
			want: withCRLF("on:\n  push:\n    branches: [main]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      id-token: write\n    steps:\n      - run: make\n      - uses: oidc-exchange/oidc-exchange@v1\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/github-octo-repo\n          aws-region: eu-west-1\n      - run: ./deploy.sh\n        env:\n          AWS_REGION: eu-west-1\n", 16, 17, 18),
		},
		{
			// The file ends without a line ending after a CRLF line: the
			// line added at the end takes that CRLF, and the last line
			// still has none.
			name: "no final line ending",
			src:  withCRLF(strings.Replace(env, "    permissions:\n      contents: read\n    steps:", "    steps:", 1)+"    permissions:\n      contents: read", 13, 14),
			want: withCRLF("on:\n  push:\n    branches: [main]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n      - uses: oidc-exchange/oidc-exchange@v1\n        with:\n          role-to-assume: arn:aws:iam::111122223333:role/github-octo-repo\n          aws-region: eu-west-1\n      - run: ./deploy.sh\n        env:\n          AWS_REGION: eu-west-1\n    permissions:\n      contents: read\n      id-token: write", 15, 16, 17),
		},
		{
			// In-line edits (uses, input and output names) on CRLF
			// lines after LF ones land where they belong.
			name: "GCP in-line edits",
			src:  withCRLF(gcp, 1, 2, 3, 10, 11, 13, 15),
		},
		{
			name:   "lone CR",
			src:    strings.Replace(steps, "name: deploy\n", "name: deploy\r", 1),
			reason: "carriage return that does not end a line as CRLF",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := []byte(tc.src)
			a := analyze("w.yml", src, testOpts)
			if tc.reason != "" {
				if a.safe || len(a.jobs) == 0 || !strings.Contains(a.jobs[0].Reason, tc.reason) {
					t.Fatalf("safe %v, jobs %+v; want the reason %q", a.safe, a.jobs, tc.reason)
				}
				return
			}
			lf := analyze("w.yml", bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n")), testOpts)
			if !a.safe || !lf.safe {
				t.Fatalf("safe %v (LF %v): %+v", a.safe, lf.safe, a.jobs)
			}
			if got := strings.ReplaceAll(a.result, "\r\n", "\n"); got != lf.result {
				t.Errorf("without CRs the result differs from the LF file's:\n%s", unifiedDiff("lf", "mixed", lf.result, got))
			}
			if tc.want != "" && a.result != tc.want {
				t.Errorf("result\n%q\nwant\n%q", a.result, tc.want)
			}
			checkPreserved(t, src, []byte(a.result), a.applied)
			checkEndings(t, src, []byte(a.result))
			// Write writes the same.
			dir := stageFiles(t, map[string]string{"w.yml": tc.src})
			r, err := Scan(dir, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Write(dir); err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(filepath.Join(dir, ".github", "workflows", "w.yml"))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != a.result {
				t.Errorf("Write wrote\n%q\nanalyze made\n%q", out, a.result)
			}
		})
	}
}

// TestRewriteMixedInputs runs every testdata input and fuzz seed with
// mixed line endings through the byte-preservation property and the
// ending rule.
func TestRewriteMixedInputs(t *testing.T) {
	t.Parallel()
	for name, src := range inputs(t) {
		if bytes.Contains(src, []byte("\r")) {
			continue
		}
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			mixed := mixedEndings(src)
			a, b := analyze("w.yml", src, testOpts), analyze("w.yml", mixed, testOpts)
			if a.safe != b.safe || strings.ReplaceAll(b.result, "\r\n", "\n") != a.result {
				t.Fatalf("LF safe %v, mixed safe %v; mixed result:\n%q", a.safe, b.safe, b.result)
			}
			if b.safe {
				checkPreserved(t, mixed, []byte(b.result), b.applied)
				checkEndings(t, mixed, []byte(b.result))
			}
		})
	}
}
