package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
	"github.com/oidc-exchange/oidc-exchange/trust/plan"
)

// gcpAuthAction is the action whose credentials_json steps are migrated.
const gcpAuthAction = "google-github-actions/auth"

// gcpInputs maps the inputs of google-github-actions/auth to those of
// oidc-exchange (action.yml). Every pair differs only in _ against -, so
// a rename keeps the line's length and every byte around the key. An
// input not listed here (cleanup_credentials, request_reason, retries, …)
// has no equivalent we are sure of: its step is left alone.
var gcpInputs = map[string]string{
	"workload_identity_provider":   "workload-identity-provider",
	"service_account":              "service-account",
	"audience":                     "audience",
	"token_format":                 "token-format",
	"access_token_lifetime":        "access-token-lifetime",
	"access_token_scopes":          "access-token-scopes",
	"access_token_subject":         "access-token-subject",
	"id_token_audience":            "id-token-audience",
	"id_token_include_email":       "id-token-include-email",
	"create_credentials_file":      "create-credentials-file",
	"export_environment_variables": "export-environment-variables",
	"project_id":                   "project-id",
	"universe":                     "universe",
	"delegates":                    "delegates",
}

// srcEdit replaces src[off:off+len(from)] by to; why says what it is
// for.
type srcEdit struct {
	off      int
	from, to string
	why      string
}

// checkGCP decides whether the job's credentials_json steps can be
// rewritten and returns why not, or "" and sets p.gcpEdits: the in-line
// source edits (uses, input keys, output references), which
// [analysis.verifyGCP] checks change exactly those scalars, then the line
// edits: credentials_json goes, and
// provider, workload-identity-provider and service-account (unless mapped
// from the step) come first in with:. Full-line comments above
// credentials_json stay, above what followed it; a comment after its value
// goes with the line.
func (a *analysis) checkGCP(p *jobPlan, o Options, j *Job) string {
	if a.permissions(p) == "" {
		j.Permissions = p.permAfter
	}
	if p.gcpUnsafe != "" {
		return p.gcpUnsafe
	}
	for _, kv := range [][2]string{{"workload-identity-provider", o.wip()}, {"service-account", o.sa()}} {
		if !plainScalar(kv[1]) {
			return fmt.Sprintf("%s %q cannot be written as a plain YAML value", kv[0], kv[1])
		}
	}
	if what := indirection(p.jobMV.Value); what != "" {
		return "the job uses YAML " + what + "; rewrite it by hand"
	}
	var edits []srcEdit
	expect := map[ast.Node]string{}
	skip := map[ast.Node]bool{}
	ids := map[string]bool{}
	generated := false
	for _, step := range p.gcpSteps {
		sm, ok := step.(*ast.MappingNode)
		if !ok || sm.IsFlowStyle {
			return "the " + gcpAuthAction + " step is a flow-style mapping; rewrite it by hand"
		}
		wm, ok := getValueMV(get(sm, "with")).(*ast.MappingNode)
		if !ok || wm.IsFlowStyle {
			return "the " + gcpAuthAction + " step's with: is not a block mapping; rewrite it by hand"
		}
		var unmapped []string
		seen := map[string]bool{}
		for _, e := range wm.Values {
			k := keyOf(e)
			if seen[k] {
				return fmt.Sprintf("the %s step sets %s twice; rewrite it by hand", gcpAuthAction, k)
			}
			seen[k] = true
			to, ok := gcpInputs[k]
			switch {
			case k == "credentials_json":
				skip[e.Value] = true
			case !ok:
				unmapped = append(unmapped, k)
			case (k == "workload_identity_provider" || k == "service_account") && scalar(e.Value) == "":
				// Empty, auth ignores it; ours would take it.
				return fmt.Sprintf("input %s is empty; set it or remove it, then migrate", k)
			case to != k:
				ed, err := a.editAt(e.Key, k, to)
				if err != nil {
					return fmt.Sprintf("input %s: %v; rewrite it by hand", k, err)
				}
				edits = append(edits, ed)
				expect[e.Key] = to
			}
		}
		switch len(unmapped) {
		case 0:
		case 1:
			return fmt.Sprintf("%s input %s has no oidc-exchange equivalent; migrate this step by hand", gcpAuthAction, unmapped[0])
		default:
			return fmt.Sprintf("%s inputs %s have no oidc-exchange equivalent; migrate this step by hand", gcpAuthAction, strings.Join(unmapped, ", "))
		}
		uses := get(sm, "uses")
		ed, err := a.editAt(uses.Value, scalar(uses.Value), p.action)
		if err != nil {
			return fmt.Sprintf("uses: %v; rewrite it by hand", err)
		}
		edits = append(edits, ed)
		expect[uses.Value] = p.action
		if id := scalar(getValue(sm, "id")); id != "" {
			ids[strings.ToLower(id)] = true
		} else {
			generated = true
		}
	}
	// The rest of the job: the key must not be used elsewhere, and the
	// auth steps' outputs are renamed where later steps read them.
	isAuth := func(id string) bool {
		return ids[id] || generated && strings.HasPrefix(id, "__google-github-actions_auth")
	}
	problem := ""
	walkScalars(p.jobMV.Value, false, func(n ast.Node, key, bare bool) {
		if problem != "" || skip[n] {
			return
		}
		v := scalar(n)
		for _, s := range secretsIn(v) {
			if slices.Contains(p.gcpSecrets, s) {
				l, _ := line(n)
				problem = fmt.Sprintf("secret %s is also used outside credentials_json (line %d); migrate that use by hand", s, l)
				return
			}
		}
		refs, why := stepRefs(v, bare, isAuth)
		switch {
		case why != "":
			problem = why
		case len(refs) == 0:
		case key:
			problem = "a mapping key reads the outputs of the " + gcpAuthAction + " step; rewrite it by hand"
		default:
			es, want, err := a.refEdits(n, v, refs)
			if err != nil {
				problem = err.Error()
				return
			}
			edits = append(edits, es...)
			expect[n] = want
			if l, ok := n.(*ast.LiteralNode); ok {
				expect[l.Value] = want
			}
		}
	})
	if a.wfEnv != nil {
		// Workflow env reaches the job too (GOOGLE_CREDENTIALS would win
		// over the federated credentials).
		walkScalars(a.wfEnv.Value, false, func(n ast.Node, _, _ bool) {
			for _, s := range secretsIn(scalar(n)) {
				if problem == "" && slices.Contains(p.gcpSecrets, s) {
					l, _ := line(n)
					problem = fmt.Sprintf("secret %s is also used in the workflow's env (line %d); migrate that use by hand", s, l)
				}
			}
		})
	}
	if problem != "" {
		return problem
	}
	// verifyGCP checks the in-line edits of every job at once.
	p.gcpInline, p.gcpExpect = slices.Clone(edits), expect
	for _, step := range p.gcpSteps {
		edits = append(edits, a.gcpLineEdits(step, o)...)
	}
	if reason := a.permissions(p); reason != "" {
		return reason
	}
	p.gcpEdits = edits
	p.edits = append(p.edits, edits...)
	j.Permissions = p.permAfter
	j.Warnings = slices.Concat(p.permWarn, a.warnings(p, scalar(getValue(p.gcpSteps[0], "if"))))
	return ""
}

// gcpLineEdits removes credentials_json from an auth step's with: and puts
// the identity inputs first.
func (a *analysis) gcpLineEdits(step ast.Node, o Options) []srcEdit {
	wm := blockMapping(getValue(step, "with"))
	_, col := line(wm.Values[0].Key)
	ls := []string{spaces(col-1) + "provider: gcp"}
	if get(wm, "workload_identity_provider") == nil {
		ls = append(ls, spaces(col-1)+"workload-identity-provider: "+o.wip())
	}
	if get(wm, "service_account") == nil {
		ls = append(ls, spaces(col-1)+"service-account: "+o.sa())
	}
	first, _ := line(wm.Values[0].Key)
	out := []srcEdit{a.insertLines(first, "identity inputs added", ls...)}
	for _, e := range wm.Values {
		if keyOf(e) == "credentials_json" {
			f, l := a.entryLines(e)
			out = append(out, a.replaceLines(f, l, "credentials_json removed"))
		}
	}
	return out
}

// plainScalar reports whether v reads back as itself when written after
// "key: ".
func plainScalar(v string) bool {
	if v == "" || strings.ContainsAny(v, "\n\r") {
		return false
	}
	f, err := parser.ParseBytes([]byte("k: "+v+"\n"), 0)
	if err != nil || len(f.Docs) != 1 {
		return false
	}
	es := entries(f.Docs[0].Body)
	if len(es) != 1 {
		return false
	}
	sn, ok := es[0].Value.(*ast.StringNode)
	return ok && sn.Value == v && sn.GetComment() == nil
}

// indirection names the first anchor, alias, tag or merge key under n, or
// returns "": a rewrite through one of them would change other nodes too.
func indirection(n ast.Node) string {
	what := ""
	ast.Walk(visitFunc(func(n ast.Node) bool {
		switch n.(type) {
		case *ast.AnchorNode:
			what = "anchors"
		case *ast.AliasNode:
			what = "aliases"
		case *ast.TagNode:
			what = "tags"
		case *ast.MergeKeyNode:
			what = "merge keys"
		}
		return what == ""
	}), n)
	return what
}

type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if n == nil || !f(n) {
		return nil
	}
	return f
}

// walkScalars calls f for every string scalar under n: key reports a
// mapping key, bare the value of an if:, which GitHub evaluates as an
// expression even without ${{ }}.
func walkScalars(n ast.Node, bare bool, f func(n ast.Node, key, bare bool)) {
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, e := range v.Values {
			walkScalars(e, false, f)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			if _, ok := v.Key.(*ast.StringNode); ok {
				f(v.Key, true, false)
			}
		}
		walkScalars(v.Value, keyOf(v) == "if", f)
	case *ast.SequenceNode:
		for _, x := range v.Values {
			walkScalars(x, false, f)
		}
	case *ast.StringNode, *ast.LiteralNode:
		f(v, false, bare)
	}
}

// offset returns the byte offset in a.src of n's token, whose column
// counts characters.
func (a *analysis) offset(n ast.Node) (int, bool) {
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, false
	}
	l, c := tk.Position.Line, tk.Position.Column
	if l < 1 || l > len(a.lineStarts) {
		return 0, false
	}
	off := a.lineStarts[l-1]
	for ; c > 1 && off < len(a.src) && a.src[off] != '\n'; c-- {
		_, size := utf8.DecodeRune(a.src[off:])
		off += size
	}
	return off, true
}

// editAt returns the edit that replaces the single-line scalar n, whose
// value is from, by to, inside its quotes if it has any.
func (a *analysis) editAt(n ast.Node, from, to string) (srcEdit, error) {
	off, ok := a.offset(n)
	if !ok || from == "" {
		return srcEdit{}, errors.New("cannot locate it in the file")
	}
	s := string(a.src[off:min(off+len(from)+2, len(a.src))])
	switch {
	case strings.HasPrefix(s, from):
		return srcEdit{off: off, from: from, to: to, why: "value replaced"}, nil
	case len(s) > 1 && (s[0] == '"' || s[0] == '\'') && strings.HasPrefix(s[1:], from+s[:1]):
		return srcEdit{off: off + 1, from: from, to: to, why: "value replaced"}, nil
	}
	return srcEdit{}, errors.New("cannot locate it in the file (escaped or split over lines)")
}

// refEdits returns the edits that rename the output references refs in
// the value v of scalar n, and the value after them. The i-th occurrence
// of a reference's text in v is looked up as the i-th in the source from
// n on; verify catches any scalar whose source spelling differs.
func (a *analysis) refEdits(n ast.Node, v string, refs []outputRef) ([]srcEdit, string, error) {
	start, ok := a.offset(n)
	if _, lit := n.(*ast.LiteralNode); lit {
		// The token is the | or >; the text starts on the next line.
		l, _ := line(n)
		ok = ok && l < len(a.lineStarts)
		if ok {
			start = a.lineStarts[l]
		}
	}
	if !ok {
		return nil, "", errors.New("cannot locate an output reference in the file; rewrite the job by hand")
	}
	var edits []srcEdit
	var want strings.Builder
	last := 0
	for _, r := range refs {
		text := v[r.start:r.end]
		nth := strings.Count(v[:r.start], text)
		at := start
		for i := 0; ; i++ {
			k := bytes.Index(a.src[at:], []byte(text))
			if k < 0 {
				return nil, "", fmt.Errorf("cannot locate %s in the file; rewrite the job by hand", text)
			}
			if i == nth {
				at += k
				break
			}
			at += k + len(text)
		}
		edits = append(edits, srcEdit{off: at + r.name - r.start, from: v[r.name:r.end], to: r.to, why: "output reference renamed"})
		want.WriteString(v[last:r.name] + r.to)
		last = r.end
	}
	want.WriteString(v[last:])
	return edits, want.String(), nil
}

// applyEdits returns src with the edits made; they must not overlap.
// Insertions at one offset come out in the order given, before a
// replacement that starts there.
func applyEdits(src []byte, edits []srcEdit) ([]byte, error) {
	type indexed struct {
		srcEdit
		i int
	}
	es := make([]indexed, len(edits))
	grow := 0
	for i, e := range edits {
		es[i] = indexed{e, i}
		grow += len(e.to)
	}
	// In file order, in one pass: a large workflow has an edit or more per
	// job, and splicing each into a copy of the whole file was quadratic.
	sort.Slice(es, func(i, k int) bool {
		a, b := es[i], es[k]
		if a.off != b.off {
			return a.off < b.off
		}
		if (a.from == "") != (b.from == "") {
			return a.from == ""
		}
		return a.i < b.i
	})
	out := make([]byte, 0, len(src)+grow)
	pos := 0
	for _, e := range es {
		end := e.off + len(e.from)
		if e.off < pos || end > len(src) || string(src[e.off:end]) != e.from {
			return nil, errors.New("edits overlap or do not match the file")
		}
		out = append(append(out, src[pos:e.off]...), e.to...)
		pos = end
	}
	return append(out, src[pos:]...), nil
}

// verifyGCP checks the in-line edits of the GCP jobs checkGCP found
// rewritable, and refuses each job whose edits do not check out. verify
// parses the whole file, so it runs once for all of them, and per job only
// to name the culprits when that fails: once per job made a workflow of
// 200 such jobs take half a minute.
func (a *analysis) verifyGCP() {
	var ok []candidate
	for _, c := range a.gcp {
		if c.j.Rewritable {
			ok = append(ok, c)
		}
	}
	check := func(cs []candidate) error {
		var edits []srcEdit
		expect := map[ast.Node]string{}
		for _, c := range cs {
			edits = append(edits, c.plan.gcpInline...)
			maps.Copy(expect, c.plan.gcpExpect)
		}
		return a.verify(edits, expect)
	}
	if len(ok) == 0 || check(ok) == nil {
		return
	}
	for _, c := range ok {
		if err := check([]candidate{c}); err != nil {
			c.j.Rewritable, c.j.Warnings = false, nil
			c.j.Reason = "the rewrite does not check out (" + err.Error() + "); rewrite the job by hand"
		}
	}
}

// verify checks that making the edits changes exactly the scalars in
// expect, to the values given, and nothing else: no other scalar, no
// comment, no structure.
func (a *analysis) verify(edits []srcEdit, expect map[ast.Node]string) error {
	out, err := applyEdits(a.src, edits)
	if err != nil {
		return err
	}
	f, err := parser.ParseBytes(out, parser.ParseComments)
	if err != nil || len(f.Docs) != len(a.file.Docs) {
		return errors.New("the edited file does not parse")
	}
	want, got := shape(a.file, expect), shape(f, nil)
	if !slices.Equal(want, got) {
		return errors.New("the edited file reads differently")
	}
	return nil
}

// shape lists f's nodes in order: type and, for scalars and comments,
// text (from expect when there).
func shape(f *ast.File, expect map[ast.Node]string) []string {
	var out []string
	for _, d := range f.Docs {
		ast.Walk(visitFunc(func(n ast.Node) bool {
			s := fmt.Sprintf("%T", n)
			if v, ok := expect[n]; ok {
				s += " " + v
			} else {
				switch v := n.(type) {
				case *ast.StringNode:
					s += " " + v.Value
				case *ast.LiteralNode:
					s += " " + scalar(v)
				case *ast.CommentGroupNode:
					s += " " + v.String()
				case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode, *ast.DocumentNode:
				default:
					if tk := n.GetToken(); tk != nil {
						s += " " + tk.Value
					}
				}
			}
			out = append(out, s)
			return true
		}), d)
	}
	return out
}

// gcpPlanRequest makes the plan name the provider and service account the
// replacement step names: those given, else the same placeholders
// (providers/github in pool github), not the plan's own default provider
// id, which is derived from the repository.
func gcpPlanRequest(req *plan.Request, o Options) {
	req.ServiceAccount = o.ServiceAccount
	if m := wipRE().FindStringSubmatch(o.wip()); m != nil {
		if o.WorkloadIdentityProvider != "" {
			req.ProjectNumber = m[1]
		}
		req.PoolID, req.ProviderID = m[2], m[3]
	}
}

// wipRE splits a workload identity provider's resource name.
var wipRE = lazyre.New(`^projects/([0-9]+)/locations/global/workloadIdentityPools/([^/]+)/providers/([^/]+)$`)
