package migrate

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// largeWorkflow is a workflow of jobs jobs of steps steps each, every job
// with configure-aws-credentials (or, with gcp, google-github-actions/auth)
// from secrets in the middle: the size of a big monorepo's deploy
// workflow, all of it rewritten.
func largeWorkflow(jobs, steps int, gcp bool) string {
	var b strings.Builder
	b.WriteString("on:\n  push:\n    branches: [main]\npermissions:\n  contents: read\njobs:\n")
	for j := range jobs {
		fmt.Fprintf(&b, "  job%d:\n    runs-on: ubuntu-latest\n    env:\n      AWS_REGION: eu-west-1\n    steps:\n", j)
		for s := range steps {
			switch {
			case s == steps/2 && gcp:
				b.WriteString("      - id: auth\n        uses: google-github-actions/auth@v2\n        with:\n" +
					"          credentials_json: ${{ secrets.GCP_SA_KEY }}\n" +
					"          token_format: access_token\n")
				continue
			case s == steps/2:
				b.WriteString("      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n" +
					"          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}\n" +
					"          aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n" +
					"          aws-region: eu-west-1\n")
				continue
			case gcp && s > steps/2:
				fmt.Fprintf(&b, "      - name: step %d\n        env:\n          TOKEN: ${{ steps.auth.outputs.access_token }}\n        run: make deploy\n", s)
				continue
			}
			fmt.Fprintf(&b, "      - name: step %d\n        run: |\n          echo %d\n          make build\n", s, s)
		}
	}
	return b.String()
}

// BenchmarkScan times Scan, which also makes and checks each rewrite in
// memory, on one large workflow and on every testdata input.
func BenchmarkScan(b *testing.B) {
	testdata := map[string]string{}
	for name, src := range inputs(b) {
		testdata[strings.NewReplacer(string(filepath.Separator), "_").Replace(name)+".yml"] = string(src)
	}
	for _, bc := range []struct {
		name  string
		files map[string]string
	}{
		{"aws-200x20", map[string]string{"deploy.yml": largeWorkflow(200, 20, false)}},
		{"gcp-200x20", map[string]string{"deploy.yml": largeWorkflow(200, 20, true)}},
		{"testdata", testdata},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := stageFiles(b, bc.files)
			for b.Loop() {
				r, err := Scan(dir, testOpts)
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Jobs) == 0 {
					b.Fatal("no jobs")
				}
			}
		})
	}
}

// BenchmarkWrite times Scan and Write of the large workflows, Write's
// diff included, and of the AWS one with mixed line endings, whose edits
// are mapped back line by line.
func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct {
		name       string
		gcp, mixed bool
	}{{"aws-200x20", false, false}, {"gcp-200x20", true, false}, {"aws-200x20-mixed", false, true}} {
		b.Run(bc.name, func(b *testing.B) {
			src := largeWorkflow(200, 20, bc.gcp)
			if bc.mixed {
				src = string(mixedEndings([]byte(src)))
			}
			for b.Loop() {
				b.StopTimer()
				dir := stageFiles(b, map[string]string{"deploy.yml": src})
				b.StartTimer()
				r, err := Scan(dir, testOpts)
				if err != nil {
					b.Fatal(err)
				}
				diff, err := r.Write(dir)
				if err != nil || diff == "" {
					b.Fatalf("diff %d bytes, %v", len(diff), err)
				}
			}
		})
	}
}

// TestVerifyGCPCulprit: when the GCP jobs' in-line edits do not check out
// together, only the job whose own edits do not is refused.
func TestVerifyGCPCulprit(t *testing.T) {
	t.Parallel()
	src := []byte(largeWorkflow(2, 3, true))
	a := scan("w.yml", src, testOpts)
	if len(a.gcp) != 2 || !a.gcp[0].j.Rewritable || !a.gcp[1].j.Rewritable {
		t.Fatalf("want 2 rewritable GCP jobs, got %d", len(a.gcp))
	}
	// An edit of a scalar the job does not expect to change: job1's name.
	bad := a.gcp[1].plan
	name := get(bad.steps[0], "name").Value
	ed, err := a.editAt(name, scalar(name), "renamed")
	if err != nil {
		t.Fatal(err)
	}
	bad.gcpInline = append(bad.gcpInline, ed)
	a.verifyGCP()
	if j := a.gcp[0].j; !j.Rewritable {
		t.Errorf("job0 refused: %s", j.Reason)
	}
	if j := a.gcp[1].j; j.Rewritable || !strings.Contains(j.Reason, "reads differently") {
		t.Errorf("job1 rewritable %v, reason %q", j.Rewritable, j.Reason)
	}
}

// TestLCS: on random line lists, lcs's script turns a into b, keeps as
// many lines as a longest common subsequence has, and lists removals
// before additions in each changed run.
func TestLCS(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	lines := func() []string {
		out := make([]string, rng.IntN(12))
		for i := range out {
			out[i] = string(rune('a' + rng.IntN(4)))
		}
		return out
	}
	for range 2000 {
		a, b := lines(), lines()
		// The length of a longest common subsequence, by table.
		t2 := make([][]int, len(a)+1)
		for i := range t2 {
			t2[i] = make([]int, len(b)+1)
		}
		for i := len(a) - 1; i >= 0; i-- {
			for j := len(b) - 1; j >= 0; j-- {
				if a[i] == b[j] {
					t2[i][j] = t2[i+1][j+1] + 1
				} else {
					t2[i][j] = max(t2[i+1][j], t2[i][j+1])
				}
			}
		}
		var gotA, gotB []string
		kept := 0
		es := lcs(a, b)
		for n, e := range es {
			switch e.kind {
			case ' ':
				kept++
				if a[e.a] != b[e.b] {
					t.Fatalf("%q %q: kept %q as %q", a, b, a[e.a], b[e.b])
				}
				gotA, gotB = append(gotA, a[e.a]), append(gotB, b[e.b])
			case '-':
				gotA = append(gotA, a[e.a])
				if n > 0 && es[n-1].kind == '+' {
					t.Fatalf("%q %q: removal after addition", a, b)
				}
			case '+':
				gotB = append(gotB, b[e.b])
			}
		}
		if !slices.Equal(gotA, a) || !slices.Equal(gotB, b) || kept != t2[0][0] {
			t.Fatalf("%q %q: script %v keeps %d, want %d", a, b, es, kept, t2[0][0])
		}
	}
}
