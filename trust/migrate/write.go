package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/parser"
)

// Write rewrites, in place, every workflow of r whose AWS and GCP jobs can
// all be migrated safely (see [Job.Rewritable]), and returns a unified
// diff of the changes ("" when nothing changed).
//
// The rewrite goes through the YAML AST: the configure-aws-credentials
// step's uses becomes oidc-exchange/oidc-exchange@v1 and its static-key
// inputs become role-to-assume (placeholder unless [Options.RoleARN]);
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN env
// entries from secrets are removed; a job with keys only in env gets an
// oidc-exchange step first. A google-github-actions/auth step with
// credentials_json gets uses oidc-exchange/oidc-exchange@v1, provider:
// gcp, workload-identity-provider and service-account (placeholders
// unless [Options] or the step give them) in place of credentials_json,
// and its inputs and the job's references to its outputs are renamed to
// ours in place, byte for byte. The job gets id-token: write; a job
// without a permissions block gets one with contents: read as well, which
// restricts its GITHUB_TOKEN to those scopes (jobs that push, comment or
// publish need more added by hand). Lines the rewrite does not touch are
// kept byte for byte, comments included; a comment after a removed value
// goes with it, comment lines above a removed entry stay.
func (r *Report) Write(dir string) (string, error) {
	var files []string
	for _, j := range r.Jobs {
		if j.Rewritable && !slices.Contains(files, j.File) {
			files = append(files, j.File)
		}
	}
	slices.Sort(files)
	var diff strings.Builder
	for _, name := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		src, err := os.ReadFile(path)
		if err != nil {
			return diff.String(), err
		}
		out, ok := rewrite(name, src, r.opts)
		if !ok || out == string(src) {
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			return diff.String(), err
		}
		if err := os.WriteFile(path, []byte(out), info.Mode().Perm()); err != nil {
			return diff.String(), err
		}
		diff.WriteString(unifiedDiff("a/"+name, "b/"+name, string(src), out))
	}
	return diff.String(), nil
}

// rewrite returns the migrated text of one workflow, or false when it has
// nothing to migrate or cannot be migrated whole.
//
// The in-line changes of GCP steps (uses, input keys, output references)
// are made in the source first, byte for byte; the AST of the edited
// source then gets the structural changes (entries removed and added),
// and preserve maps the printed result back onto the edited source.
func rewrite(name string, src []byte, o Options) (string, bool) {
	a := analyze(name, src, o)
	if a.file == nil || !a.safe {
		return "", false
	}
	targets := a.gcpTargets()
	if edits := a.edits(); len(edits) > 0 {
		edited, err := applyEdits(src, edits)
		if err != nil {
			return "", false
		}
		b := analyze(name, edited, o)
		// The edits turn the auth steps into oidc-exchange steps and
		// leave the AWS jobs as they were.
		if b.file == nil || len(b.gcp) != 0 || len(b.aws) != len(a.aws) || len(b.aws) > 0 && !b.safe {
			return "", false
		}
		a, src = b, edited
	}
	baseline := a.file.String()
	if err := a.apply(o, targets); err != nil {
		return "", false
	}
	out := preserve(string(src), baseline, a.file.String())
	if f, err := parser.ParseBytes([]byte(out), 0); err != nil || len(f.Docs) != 1 {
		return "", false
	}
	return out, true
}

// preserve maps the printer's output back onto the source. The printer
// normalizes some spacing (before line comments, blank lines), so the
// source is first aligned with the unmodified print (lines equal up to
// whitespace), then every line the rewrite kept is taken from the source,
// and source lines the printer dropped (blank lines) are put back before
// the next kept line.
func preserve(src, baseline, modified string) string {
	sl, bl, ml := splitLines(src), splitLines(baseline), splitLines(modified)
	srcOf := make([]int, len(bl))
	for i := range srcOf {
		srcOf[i] = -1
	}
	for _, e := range lcsFunc(sl, bl, func(a, b string) bool {
		return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
	}) {
		if e.kind == ' ' {
			srcOf[e.b] = e.a
		}
	}
	var b strings.Builder
	next := 0 // next source line not yet emitted or skipped
	// The printer writes every sequence item as "- key", so an item
	// written "-   key" comes out two columns to the left. Kept lines come
	// from the source; printed lines below a kept one move by as much as
	// it did, and a printed item line keeps the source's "-   ".
	shift, level := 0, 0
	removed := -1 // source line of the baseline line just removed
	for _, op := range lcs(bl, ml) {
		switch op.kind {
		case ' ':
			removed = -1
			if k := srcOf[op.a]; k >= 0 {
				for ; next < k; next++ {
					if strings.TrimSpace(sl[next]) == "" {
						b.WriteString(sl[next] + "\n")
					}
				}
				b.WriteString(sl[k] + "\n")
				next = k + 1
				if !strings.HasPrefix(strings.TrimSpace(sl[k]), "#") {
					// The printer places comment lines by itself.
					shift, level = content(sl[k])-content(bl[op.a]), content(bl[op.a])
				}
			} else {
				b.WriteString(ml[op.b] + "\n")
				shift, level = 0, content(ml[op.b])
			}
		case '+':
			l := ml[op.b]
			if removed >= 0 {
				l = sameDash(sl[removed], l)
			}
			removed = -1
			b.WriteString(reindent(l, shift, level) + "\n")
		case '-':
			removed = -1
			if k := srcOf[op.a]; k >= 0 {
				next = k + 1
				removed = k
			}
		}
	}
	for ; next < len(sl); next++ {
		if strings.TrimSpace(sl[next]) == "" {
			b.WriteString(sl[next] + "\n")
		}
	}
	return b.String()
}

// lead is the number of leading spaces of l.
func lead(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }

// content is the column of l's first character after its indentation
// and sequence dashes.
func content(l string) int {
	i := lead(l)
	for i+1 < len(l) && l[i] == '-' && l[i+1] == ' ' {
		i += 2
		for i < len(l) && l[i] == ' ' {
			i++
		}
	}
	return i
}

// reindent moves printed line l by shift columns when it lies below (at
// or deeper than) the content column level of the kept line above it.
func reindent(l string, shift, level int) string {
	switch {
	case shift == 0 || lead(l) < level:
		return l
	case shift > 0:
		return strings.Repeat(" ", shift) + l
	case lead(l) >= -shift:
		return l[-shift:]
	}
	return l
}

// sameDash gives printed item line l, which replaces source line was,
// the spacing after the dash that was had.
func sameDash(was, l string) string {
	wl, ll := lead(was), lead(l)
	if wl != ll || !strings.HasPrefix(l[ll:], "- ") || !strings.HasPrefix(was[wl:], "- ") {
		return l
	}
	return was[:content(was)] + l[content(l):]
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type edit struct {
	kind byte // ' ', '-', '+'
	a, b int  // line indexes in a (for ' ', '-') and b (for ' ', '+')
}

// lcs returns the edit script from a to b by longest common subsequence.
func lcs(a, b []string) []edit {
	return lcsFunc(a, b, func(x, y string) bool { return x == y })
}

// lcsFunc is lcs with a line equality.
func lcsFunc(a, b []string, eq func(x, y string) bool) []edit {
	n, m := len(a), len(b)
	t := make([][]int, n+1)
	for i := range t {
		t[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if eq(a[i], b[j]) {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	var out []edit
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && eq(a[i], b[j]):
			out = append(out, edit{' ', i, j})
			i++
			j++
		case i < n && (j == m || t[i+1][j] >= t[i][j+1]):
			out = append(out, edit{'-', i, j})
			i++
		default:
			out = append(out, edit{'+', i, j})
			j++
		}
	}
	return out
}

// unifiedDiff renders a unified diff with three lines of context.
func unifiedDiff(from, to, a, b string) string {
	al, bl := splitLines(a), splitLines(b)
	es := lcs(al, bl)
	const ctx = 3
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", from, to)
	for i := 0; i < len(es); {
		if es[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-ctx, 0)
		end := i
		for end < len(es) {
			if es[end].kind != ' ' {
				end++
				continue
			}
			k := end
			for k < len(es) && es[k].kind == ' ' {
				k++
			}
			if k == len(es) || k-end > 2*ctx {
				end = min(end+ctx, len(es))
				break
			}
			end = k
		}
		hunk := es[start:end]
		aStart, bStart := hunk[0].a, hunk[0].b
		var na, nb int
		var body strings.Builder
		for _, e := range hunk {
			switch e.kind {
			case ' ':
				na++
				nb++
				body.WriteString(" " + al[e.a] + "\n")
			case '-':
				na++
				body.WriteString("-" + al[e.a] + "\n")
			case '+':
				nb++
				body.WriteString("+" + bl[e.b] + "\n")
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, na), hunkRange(bStart, nb))
		out.WriteString(body.String())
		i = end
	}
	return out.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
