package trust

import (
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// scope is how much of GitHub a subject pattern admits, narrowest first.
type scope int

const (
	scopeExact   scope = iota // one repository and a pinned context (or nothing real at all)
	scopeAnyRef               // one repository, any branch, tag, environment or pull request
	scopeOwner                // every repository of one owner
	scopeAnyRepo              // repositories of any owner
)

func (s scope) String() string {
	switch s {
	case scopeExact:
		return "one repository and context"
	case scopeAnyRef:
		return "every ref of one repository"
	case scopeOwner:
		return "every repository of the owner"
	default:
		return "repositories of any owner"
	}
}

// subjectInfo is what one sub value (or pattern) admits.
type subjectInfo struct {
	scope scope
	// byID is set when the owner (and repository) are pinned by ID: the
	// immutable repo:OWNER@ID/REPO@ID form or repository(_owner)_id keys of
	// a customised sub.
	byID bool
	// named is set when a name is pinned (owner or repository without @ID).
	named bool
	// pullRequest is set for the pull_request context and refs/pull/ refs.
	pullRequest bool
	// workflowRefs are job_workflow_ref components of a customised sub.
	workflowRefs []string
	// why explains the scope for a finding message.
	why string
}

// hasWildcard reports whether s contains IAM/Azure glob characters.
func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// classifySubject reads a GitHub sub value. With glob set, * and ? are
// wildcards (AWS StringLike, Azure matches); otherwise they are literal
// characters and the value can only ever match itself.
//
// Formats (github-actions-runtime.md §1.5): repo:OWNER/REPO:CONTEXT with
// OWNER and REPO optionally suffixed @ID (the immutable form), and
// customised subjects made of key:value pairs such as
// repository_owner_id:65:repository_id:74:environment:prod.
func classifySubject(s string, glob bool) subjectInfo {
	wild := func(v string) bool { return glob && hasWildcard(v) }
	if !glob && hasWildcard(s) {
		// A literal comparison with * or ? matches no real sub; the
		// wildcard checks report it, and it admits nothing.
		return subjectInfo{scope: scopeExact, why: "never matches"}
	}
	if s == "" || (glob && strings.Trim(s, "*?") == "") {
		return subjectInfo{scope: scopeAnyRepo, why: "matches every subject"}
	}
	if !strings.HasPrefix(s, githubfacts.SubjectPrefix) {
		// Is s, its wildcards trimmed, a prefix of "repo:" ("re*")?
		if glob && strings.HasPrefix(githubfacts.SubjectPrefix, strings.TrimRight(s, "*?")) { //nolint:gocritic // the reversed order is the point
			return subjectInfo{scope: scopeAnyRepo, why: "the owner is a wildcard"}
		}
		return classifyCustomSubject(s, glob)
	}
	rest := s[len(githubfacts.SubjectPrefix):]
	// The owner ends at the first '/' or ':'; a wildcard inside it can also
	// swallow those separators, which is why any wildcard there is fatal.
	end := strings.IndexAny(rest, "/:")
	owner := rest
	if end >= 0 {
		owner = rest[:end]
	}
	if wild(owner) {
		if strings.HasSuffix(owner, "*") && !hasWildcard(strings.TrimRight(owner, "*")) && owner != "*" {
			return subjectInfo{scope: scopeAnyRepo, why: "repo:" + owner + " is a prefix that also matches other owners, e.g. " + strings.TrimRight(owner, "*") + "-evil"}
		}
		return subjectInfo{scope: scopeAnyRepo, why: "the owner is a wildcard"}
	}
	var info subjectInfo
	if end < 0 || rest[end] != '/' {
		// repo:owner or repo:owner:… never matches a GitHub sub.
		info.scope = scopeExact
		return info
	}
	rest = rest[end+1:]
	end = strings.IndexByte(rest, ':')
	repo := rest
	ctx, hasCtx := "", false
	if end >= 0 {
		repo, ctx, hasCtx = rest[:end], rest[end+1:], true
	}
	// With the repository a wildcard, only the owner is pinned, so an
	// owner@ID alone counts as pinning by ID.
	info.byID = strings.Contains(owner, "@") && (wild(repo) || strings.Contains(repo, "@"))
	info.named = !info.byID
	if wild(repo) {
		info.scope = scopeOwner
		info.why = "the repository is a wildcard"
		return info
	}
	if !hasCtx {
		info.scope = scopeExact
		return info
	}
	info.pullRequest = ctx == githubfacts.ContextPullRequest || strings.HasPrefix(ctx, githubfacts.ContextPullRequest+":") || strings.Contains(ctx, "refs/pull/")
	if _, after, ok := strings.Cut(ctx, "job_workflow_ref:"); ok {
		// A customised sub appends key:value pairs; the value has no ':'.
		v, _, _ := strings.Cut(after, ":")
		info.workflowRefs = append(info.workflowRefs, v)
	}
	if glob && broadContext(ctx) {
		info.scope = scopeAnyRef
		info.why = "the context " + ctx + " matches " + contextBreadth(ctx)
		return info
	}
	info.scope = scopeExact
	return info
}

// contextPrefixes are the context kinds whose value a wildcard may replace
// wholesale; longest first so "ref:refs/heads/" wins over "ref:".
func contextPrefixes() []string {
	return []string{githubfacts.ContextRef + "refs/heads/", githubfacts.ContextRef + "refs/tags/", githubfacts.ContextRef + "refs/",
		githubfacts.ContextRef, githubfacts.ContextEnvironment}
}

// contextBreadth says what a broad context pattern matches, by its kind:
// ref:refs/tags/* is every tag, not every branch.
func contextBreadth(ctx string) string {
	switch {
	case strings.HasPrefix(ctx, githubfacts.ContextRef+"refs/heads/"):
		return "every branch"
	case strings.HasPrefix(ctx, githubfacts.ContextRef+"refs/tags/"):
		return "every tag"
	case strings.HasPrefix(ctx, githubfacts.ContextRef):
		return "every branch, tag and pull-request ref"
	case strings.HasPrefix(ctx, githubfacts.ContextEnvironment):
		return "every environment"
	default:
		return "every branch, tag, environment and pull request"
	}
}

// broadContext reports whether a context pattern admits every value of its
// kind: "*", "ref:*", "ref:refs/heads/*", "environment:*" and the like.
// Partial patterns such as ref:refs/tags/v* or ref:refs/heads/release/* are
// deliberate and left alone.
func broadContext(ctx string) bool {
	for _, p := range contextPrefixes() {
		if strings.HasPrefix(ctx, p) {
			ctx = ctx[len(p):]
			break
		}
	}
	return ctx == "" || ctx[0] == '*' || ctx[0] == '?'
}

var digitsRE = lazyre.New(`^[0-9]+$`)

// classifyCustomSubject reads a customised sub made of key:value pairs
// (PUT /repos/{owner}/{repo}/actions/oidc/customization/sub).
func classifyCustomSubject(s string, glob bool) subjectInfo {
	parts := strings.Split(s, ":")
	var (
		info                       subjectInfo
		ownerPinned, repoPinned    bool
		contextPinned, anyWildcard bool
	)
	for i := 0; i < len(parts); i++ {
		key := parts[i]
		if glob && hasWildcard(key) {
			anyWildcard = true
			continue
		}
		if i+1 >= len(parts) {
			break
		}
		val := parts[i+1]
		i++
		wild := glob && hasWildcard(val)
		anyWildcard = anyWildcard || wild
		switch key {
		case "repository_owner_id", "enterprise_id":
			if !wild && digitsRE().MatchString(val) {
				ownerPinned, info.byID = true, true
			}
		case "repository_owner", "enterprise":
			if !wild {
				ownerPinned, info.named = true, true
			}
		case "repository_id":
			if !wild && digitsRE().MatchString(val) {
				ownerPinned, repoPinned, info.byID = true, true, true
			}
		case "repository", "repo":
			owner, repo, ok := strings.Cut(val, "/")
			if ok && owner != "" && !(glob && hasWildcard(owner)) {
				ownerPinned, info.named = true, true
				repoPinned = !(glob && hasWildcard(repo))
			}
		case "job_workflow_ref":
			// The value itself contains ':'-free OWNER/REPO/path@ref.
			info.workflowRefs = append(info.workflowRefs, val)
			contextPinned = contextPinned || !wild
		case "context", "environment", "ref", "ref_type", "event_name", "workflow", "workflow_ref":
			if !wild {
				contextPinned = true
			}
			if val == "pull_request" || strings.HasPrefix(val, "refs/pull/") {
				info.pullRequest = true
			}
		}
	}
	if info.byID {
		info.named = false
	}
	switch {
	case !ownerPinned:
		info.scope = scopeAnyRepo
		info.why = "the customised subject pins no repository or owner"
	case !repoPinned:
		info.scope = scopeOwner
		info.why = "the customised subject pins the owner but no repository"
	case !contextPinned || anyWildcard:
		info.scope = scopeAnyRef
		info.why = "the customised subject pins the repository but not the context"
	default:
		info.scope = scopeExact
	}
	return info
}

// workflowRefProblem judges one job_workflow_ref value or pattern
// (OWNER/REPO/.github/workflows/FILE@REF). It returns the severity to
// report and why, or 0 when the value is pinned to main/master, a tag or a
// commit SHA.
func workflowRefProblem(v string, glob bool) (Severity, string) {
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		if glob && hasWildcard(v) {
			return High, "the pattern " + v + " leaves the workflow and its ref open"
		}
		return High, v + " has no @ref, so nothing pins the workflow version"
	}
	path, ref := v[:at], v[at+1:]
	if glob && hasWildcard(path) {
		return High, "the workflow path " + path + " is a wildcard, so any matching workflow qualifies"
	}
	switch {
	case shaRE().MatchString(ref):
		return 0, ""
	case glob && hasWildcard(ref):
		if strings.HasPrefix(ref, "refs/tags/") && len(ref) > len("refs/tags/") && !hasWildcard(ref[len("refs/tags/"):len("refs/tags/")+1]) {
			return 0, "" // release tags such as refs/tags/v* are a deliberate, protectable pattern
		}
		return High, "@" + ref + " lets the caller pick any ref, including one it can push"
	case ref == "refs/heads/main", ref == "refs/heads/master", strings.HasPrefix(ref, "refs/tags/"):
		return 0, ""
	default:
		return Medium, "@" + ref + " is neither the default branch, a tag nor a commit SHA; anyone who can push it controls the workflow"
	}
}

var shaRE = lazyre.New(`^[0-9a-f]{40}$`)

// loc is where a finding points: a JSON path and a byte offset in doc.
type loc struct {
	doc  *document
	path string
	off  int
}

func nodeLoc(d *document, n *node) loc { return loc{doc: d, path: n.path, off: n.off} }

// claimTest is one positive test of a GitHub claim against values that
// are alternatives: an IAM condition entry, a CEL comparison, an Azure
// expression term.
type claimTest struct {
	claim  string // lower-case claim name: sub, repository_id, …
	values []string
	glob   bool // * and ? are wildcards in values
	at     loc
}

// pinResult is what a conjunction of claim tests admits.
type pinResult struct {
	pinned bool  // some test restricts the owner or repository
	scope  scope // scopeAnyRepo when !pinned
	why    string
	at     loc // the test that decided the scope
	byID   bool
	named  bool
}

// evalPins judges a conjunction of tests (all must hold): the narrowest
// test decides, and within one test the broadest value does, since values
// are alternatives.
func evalPins(tests []claimTest) pinResult {
	res := pinResult{scope: scopeAnyRepo}
	contextPinned := false
	for _, t := range tests {
		if len(t.values) == 0 {
			continue
		}
		sc, why, byID, named, counts := testScope(t)
		if !counts {
			if (t.claim == "ref" || t.claim == "environment") && !slices.ContainsFunc(t.values, func(v string) bool {
				return t.glob && broadContext(t.claim+":"+v)
			}) {
				contextPinned = true
			}
			continue
		}
		res.byID = res.byID || byID
		res.named = res.named || named
		if !res.pinned || sc < res.scope {
			res.scope, res.why, res.at = sc, why, t.at
		}
		res.pinned = true
	}
	if res.pinned && res.scope == scopeAnyRef && contextPinned {
		res.scope = scopeExact
	}
	return res
}

// testScope returns the broadest scope among t's values, or counts=false
// for claims that do not identify a repository.
func testScope(t claimTest) (sc scope, why string, byID, named, counts bool) {
	wild := func(v string) bool { return t.glob && hasWildcard(v) }
	widen := func(s scope, w string) {
		if why == "" || s > sc {
			sc, why = s, w
		}
	}
	switch t.claim {
	case "sub":
		for _, v := range t.values {
			info := classifySubject(v, t.glob)
			widen(info.scope, info.why)
			byID = byID || info.byID
			named = named || info.named
		}
	case "repository":
		for _, v := range t.values {
			owner, repo, ok := strings.Cut(v, "/")
			switch {
			case !ok && wild(v), ok && wild(owner):
				widen(scopeAnyRepo, "the repository pattern "+v+" leaves the owner open")
			case !ok:
				widen(scopeExact, "never matches")
			case wild(repo):
				widen(scopeOwner, "the repository pattern "+v+" matches every repository of "+owner)
			default:
				widen(scopeAnyRef, "repository "+v+" is pinned but not the ref")
			}
		}
		named = true
	case "repository_id":
		for _, v := range t.values {
			switch {
			case wild(v):
				widen(scopeAnyRepo, "repository_id "+v+" is a pattern")
			case !digitsRE().MatchString(v):
				widen(scopeExact, "never matches")
			default:
				widen(scopeAnyRef, "repository_id "+v+" is pinned but not the ref")
			}
		}
		byID = true
	case "repository_owner", "repository_owner_id", "enterprise", "enterprise_id":
		for _, v := range t.values {
			if wild(v) {
				widen(scopeAnyRepo, t.claim+" "+v+" is a pattern")
				continue
			}
			widen(scopeOwner, t.claim+" pins the owner, not a repository")
		}
		if strings.HasSuffix(t.claim, "_id") {
			byID = true
		} else {
			named = true
		}
	default:
		return 0, "", false, false, false
	}
	return sc, why, byID, named, true
}

// pullRequestValue reports whether a positive test admits pull-request
// runs explicitly, and describes the value.
func pullRequestValues(t claimTest) []string {
	var out []string
	for _, v := range t.values {
		switch t.claim {
		case "sub":
			if classifySubject(v, false).pullRequest || (t.glob && classifySubject(v, true).pullRequest) {
				out = append(out, v)
			}
		case "ref", "head_ref":
			if strings.HasPrefix(v, "refs/pull/") {
				out = append(out, v)
			}
		case "event_name":
			if v == "pull_request" || v == "pull_request_target" || v == "workflow_run" {
				out = append(out, v)
			}
		}
	}
	return out
}

// workflowRefValues returns the job_workflow_ref values a test pins, from
// the job_workflow_ref claim or from a customised sub.
func workflowRefValues(t claimTest) []string {
	switch t.claim {
	case "job_workflow_ref":
		return t.values
	case "sub":
		var out []string
		for _, v := range t.values {
			out = append(out, classifySubject(v, t.glob).workflowRefs...)
		}
		return out
	}
	return nil
}

// containsAll reports whether s contains every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
